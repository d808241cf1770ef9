"""The fusion-method contract: the :class:`Method` base every method is.

A method has a ``name`` and ``fuse(a, b, *, modality=None) -> fused`` where ``a`` (MRI) and
``b`` (CT, or the luma Y of PET/SPECT) are 2-D float32 arrays in [0, 1] of equal shape and
the result is a 2-D array of the same shape in [0, 1]; ``fuse_batch(a, b, *,
modality=None)`` does the same on N x H x W stacks of one modality. ``modality`` is the
second image's modality (``"CT"``, ``"PET"``, ``"SPECT"``); without it a method uses its
default model. The runner always passes it; the contract is enforced once, when a class is
defined (a subclass written as ``fuse(self, a, b)`` is given the keyword) or a plain
function is registered, never per call. Colour handling happens in the pipeline
(:mod:`mmif_bench.colour`), never inside a method.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .cache import code_digest
from .weights import MissingWeightsError, WeightFile, find, hash_once, missing_message


@dataclass(frozen=True)
class Option:
    """A declared method option, settable from the CLI as ``method:key=value``.

    ``kind`` is one of ``"str"``, ``"int"``, ``"float"``, ``"bool"`` or ``"path"``; a
    ``"path"`` option (e.g. weights) enters the cache key by the file's content hash.
    """

    default: Any
    help: str = ""
    kind: str = "str"

    def parse(self, text: str) -> Any:
        """Convert a CLI string to this option's type."""
        if self.kind == "int":
            return int(text)
        if self.kind == "float":
            return float(text)
        if self.kind == "bool":
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"expected true/false, got {text!r}")
        return text


class Method:
    """Base class for fusion methods with declared options.

    Subclasses set ``name``, ``options`` (a dict of :class:`Option`) and implement
    :meth:`fuse` (and, for a faster stack, :meth:`fuse_batch`). Option values are
    available as ``self.config[key]``. ``version`` is part of the cache key: bump it when
    the algorithm changes.

    Parameters
    ----------
    **config
        Values of the declared ``options``; the others keep their defaults. An undeclared
        name raises ValueError listing the declared ones.

    Attributes
    ----------
    name : str
        The registry name (``mmif-bench run --methods NAME``).
    options : dict of str to Option
        The settable options, ``-o NAME:KEY=VALUE`` on the command line.
    bibtex : str
        BibTeX of the paper the method implements; the reports cite it.
    modalities : tuple of str or None
        Second-image modalities the method has a model for (None: any).
    weight_files : dict of str to WeightFile
        Each ``path`` option's published default file.

    References
    ----------
    .. [1] S. Li et al., "Pixel-level image fusion: a survey of the state of the art",
       Information Fusion 33, 100-112, 2017 (the pixel-level setting methods follow).
    """

    name: ClassVar[str] = ""
    options: ClassVar[dict[str, Option]] = {}
    version: ClassVar[str] = "1"
    deterministic: ClassVar[bool] = True
    bibtex: ClassVar[str] = ""
    """BibTeX entry of the paper the method comes from ("" for none)."""
    colour_input: ClassVar[bool] = False
    """Whether ``fuse`` takes a colour second image as it is (H x W x 3 RGB, float in
    [0, 1]) instead of its luma, for a method whose authors computed their own luma from
    the colour image (the pipeline still recombines the fused Y with its chroma)."""
    modalities: ClassVar[tuple[str, ...] | None] = None
    """Second-image modalities the method has a model for; None: any. Pairs of another
    modality are "not applicable" to the method."""
    weight_files: ClassVar[dict[str, WeightFile]] = {}
    """``path`` option -> the published file (:class:`~mmif_bench.WeightFile`) it defaults
    to when the option is empty; ``mmif-bench fetch weights NAME`` fetches these."""

    def __init__(self, **config: Any) -> None:
        unknown = sorted(set(config) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ValueError(
                f"method {self.name!r} has no option(s) {', '.join(unknown)}; "
                f"its options are: {known}"
            )
        self.config = {key: opt.default for key, opt in self.options.items()}
        self.config.update(config)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Hold every subclass to the one signature: a ``fuse`` or ``fuse_batch`` written
        without the ``modality`` keyword gets it (ignored), so callers never inspect."""
        super().__init_subclass__(**kwargs)
        for name in ("fuse", "fuse_batch"):
            function = cls.__dict__.get(name)
            if inspect.isfunction(function) and not takes_modality(function):
                setattr(cls, name, _ignoring_modality(function))

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        """The fused image of MRI ``a`` and the other image ``b`` (of ``modality``)."""
        raise NotImplementedError

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        """Fuse N x H x W stacks of one modality; the default loops over :meth:`fuse`."""
        fused = [self.fuse(x, y, modality=modality) for x, y in zip(a, b)]
        wrong = next((type(f).__name__ for f in fused if not isinstance(f, np.ndarray)), None)
        if wrong is not None:
            raise TypeError(f"{self.name}: fuse returned {wrong}, expected a numpy array")
        return np.stack(fused)

    @classmethod
    def needs_gpu(cls, config: Mapping[str, Any]) -> bool:
        """Whether a method of this configuration runs on a CUDA GPU (the Dask executor
        then asks for a worker with a GPU): its ``device`` option, given or default, names
        cuda."""
        option = cls.options.get("device")
        return option is not None and str(config.get("device", option.default)).startswith("cuda")

    def applies_to(self, modality: str | None) -> bool:
        """Whether the method has a model for pairs whose second image is ``modality``
        (an instance may narrow or widen its class's ``modalities`` by the models it
        loaded)."""
        return self.modalities is None or modality is None or modality in self.modalities

    @classmethod
    def weight_location(cls, option: str, config: Mapping[str, Any]) -> Path | None:
        """The file of ``path`` option ``option`` under ``config`` (None: none there): the
        given path, else the declared file under ``$MMIF_BENCH_WEIGHTS`` or in the fetched
        store. The one resolver; a method with another default (e.g. a file it ships)
        overrides it."""
        return find(config.get(option) or None, cls.weight_files.get(option))

    @classmethod
    def weights_needed(cls, config: Mapping[str, Any]) -> list[str]:
        """The ``path`` options whose files a method of this configuration loads: each
        option given a file, each declared file that is not ``optional``."""
        return [key for key, option in cls.options.items() if option.kind == "path" and (
            config.get(key) or (key in cls.weight_files and not cls.weight_files[key].optional))]

    @classmethod
    def missing_weights(cls, **config: Any) -> list[str]:
        """One line per needed weight file that cannot be found, naming the file and its
        fetch command (empty: all found). Loads nothing."""
        config = {**{key: option.default for key, option in cls.options.items()}, **config}
        return [missing_message(cls.name, key, config.get(key) or None, cls.weight_files.get(key))
                for key in cls.weights_needed(config) if cls.weight_location(key, config) is None]

    def weights_in_use(self) -> list[str]:
        """The ``path`` options whose files this method loads: the needed ones
        (:meth:`weights_needed`) and each ``optional`` declared file that is found."""
        needed = self.weights_needed(self.config)
        return [key for key in self.options if key in needed or (
            key in self.weight_files and self.weight_files[key].optional
            and self.weight_location(key, self.config) is not None)]

    def weight_path(self, option: str) -> Path:
        """The file of ``path`` option ``option`` (:meth:`weight_location`);
        :class:`~mmif_bench.weights.MissingWeightsError` naming the fix when absent."""
        path = self.weight_location(option, self.config)
        if path is None:
            raise MissingWeightsError(missing_message(self.name, option, self.config.get(option)
                                                      or None, self.weight_files.get(option)))
        return path

    def resolved_options(self) -> dict[str, Any]:
        """Option values as recorded in results: a path by its file name only, so that
        results hold no machine-specific locations (its content enters through
        :meth:`weights_hashes`)."""
        out: dict[str, Any] = {}
        for key, value in self.config.items():
            if self.options[key].kind == "path" and value not in (None, ""):
                value = Path(str(value)).name
            out[key] = value
        return out

    def weights_record(self) -> dict[str, dict[str, str]]:
        """``{option: {"file": name, "sha256": digest}}`` for every file the method loads
        (:meth:`weights_in_use`): its store name when it is the declared default, else its
        file name."""
        record = {}
        for key in self.weights_in_use():
            path = self.weight_location(key, self.config)
            if path is not None:
                given = self.config.get(key) or key not in self.weight_files
                record[key] = {"file": path.name if given else self.weight_files[key].name,
                               "sha256": hash_once(path)}
        return record

    def weights_hashes(self) -> dict[str, str]:
        """sha256 of every weight file the method loads, by option."""
        return {key: entry["sha256"] for key, entry in self.weights_record().items()}


def takes_modality(function: Callable[..., Any]) -> bool:
    """Whether a ``fuse``-like callable takes the ``modality`` keyword (asked once, when a
    class is defined or a function registered)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "modality" or p.kind is p.VAR_KEYWORD for p in parameters)


def _ignoring_modality(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """``function(self, a, b)`` as ``fuse(self, a, b, *, modality=None)``."""
    @functools.wraps(function)
    def fuse(self: Method, a: np.ndarray, b: np.ndarray, *,
             modality: str | None = None) -> np.ndarray:
        return function(self, a, b)

    return fuse


def method_code(method: Method) -> Any:
    """The object whose source defines a method's output: the function of a
    :class:`FunctionMethod`, else the method's class."""
    return type(method).function if isinstance(method, FunctionMethod) else type(method)


def method_fingerprint(method: Method) -> str:
    """A stable hash of what determines a method's output: name, version, options, the
    content of its weight files and the source of its code (:func:`code_digest`: the
    defining module and the package modules it imports). Used as part of the result-cache
    key."""
    options = method.resolved_options()
    for key, digest in method.weights_hashes().items():
        options[key] = f"sha256:{digest}"
    version = method.version
    payload = json.dumps(
        {"name": method.name, "version": version, "options": options,
         "code": code_digest(method_code(method))},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class FunctionMethod(Method):
    """A method made from a plain function ``fuse(a, b) -> fused`` (its ``modality``
    keyword too, if it takes one); see :func:`method_from_function`."""

    function: ClassVar[Callable[..., np.ndarray]]

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return type(self).function(a, b, modality=modality)


def method_from_function(function: Callable[..., np.ndarray], name: str) -> type[Method]:
    """A :class:`FunctionMethod` class named ``name`` around ``function`` (given the
    ``modality`` keyword, ignored, when it has none)."""
    held = function if takes_modality(function) else functools.wraps(function)(
        lambda a, b, *, modality=None: function(a, b))
    return type(f"{name}_method", (FunctionMethod,), {
        "name": name, "function": staticmethod(held), "__module__": function.__module__,
        "__doc__": function.__doc__ or f"{name}: fuse(a, b) registered as a method"})


def as_method(obj: Any, **options: Any) -> Method:
    """The :class:`Method` of an entry-point object: a class (or factory) is called with
    the options; a :class:`Method` instance is used as is (options then are not allowed).
    Anything else is refused, naming the fix."""
    made = obj(**options) if isinstance(obj, type) or (
        callable(obj) and not hasattr(obj, "fuse")) else obj
    if not isinstance(made, Method):
        raise TypeError(f"method plugin {getattr(obj, 'name', obj)!r} is not an "
                        f"mmif_bench.Method: subclass Method, or register a plain "
                        f"fuse(a, b) function")
    if made is obj and options:
        raise ValueError(f"method {made.name!r} takes no options")
    return made
