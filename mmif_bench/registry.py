"""Plugin registry on Python entry points (``importlib.metadata``).

Groups: ``mmif_bench.methods``, ``mmif_bench.metrics``, ``mmif_bench.datasets`` and
``mmif_bench.commands`` (:mod:`mmif_bench.commands`).
First-party plugins register through the same groups as third-party packages. A plugin
that fails to import is reported with its error and skipped; it never breaks the others.
Objects can also be registered at run time with :func:`register_method`,
:func:`register_metric` or :func:`register` (scripts, notebooks, tests); those that a worker
process cannot import run in this process.
"""
from __future__ import annotations

import contextlib
import difflib
import functools
import importlib
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .dataset import Dataset, FolderDataset
from .method import Method, as_method, method_from_function
from .metric import Metric
from .weights import WeightFile

logger = logging.getLogger(__name__)

GROUPS = {
    "methods": "mmif_bench.methods",
    "metrics": "mmif_bench.metrics",
    "datasets": "mmif_bench.datasets",
    "commands": "mmif_bench.commands",
}


class UnknownPluginError(KeyError):
    """A name that no plugin of the kind has; the message suggests close names."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


@dataclass(frozen=True)
class PluginSpec:
    """Where a plugin comes from: ``value`` is ``module:attribute``, or ``obj`` holds an
    object registered at run time that no worker process can import (``in_process``).
    ``fuse_function`` marks a plain ``fuse(a, b)`` function registered as a method."""

    kind: str
    name: str
    value: str
    distribution: str = ""
    obj: Any = None
    fuse_function: bool = False

    @property
    def in_process(self) -> bool:
        """Whether the plugin exists only in this process (``__main__``, a notebook, a
        function's locals): methods of this kind run in this process, never in workers."""
        return not self.value

    def load(self) -> Any:
        if self.obj is not None:
            return self.obj
        module_name, _, attribute = self.value.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else []:
            obj = getattr(obj, part)
        return method_from_function(obj, self.name) if self.fuse_function else obj


_RUNTIME: dict[str, dict[str, PluginSpec]] = {kind: {} for kind in GROUPS}
_LOAD_ERRORS: dict[tuple[str, str], str] = {}


def _import_path(obj: Any) -> str:
    """``module:qualname`` under which a fresh process finds ``obj``, or "" when none does
    (objects of ``__main__``, of a function's locals, or not found where they claim)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<locals>" in qualname:
        return ""
    try:
        found = PluginSpec("", "", f"{module}:{qualname}").load()
    except Exception:
        return ""
    return f"{module}:{qualname}" if found is obj else ""


def register(kind: str, obj: Any = None, *, name: str | None = None) -> Any:
    """Register a plugin object at run time, like timm's ``register_model``; returns it.

    Usable as ``register("methods", Cls)`` or as a decorator, ``@register("methods")``.
    A method may be a :class:`~mmif_bench.method.Method` subclass or a plain function
    ``fuse(a, b) -> fused`` (named after the function unless ``name`` is given); a metric
    is a :class:`~mmif_bench.metric.Metric`. Objects that another process cannot import
    (defined in ``__main__`` or a notebook) are kept in this process, where their
    methods then run. A string ``"module:attribute"`` (with ``name``) registers what an
    entry point would: imported when first used.
    """
    if kind not in GROUPS:
        raise ValueError(f"unknown plugin kind {kind!r}; use one of {', '.join(GROUPS)}")
    if obj is None:
        return functools.partial(register, kind, name=name)
    if isinstance(obj, str):
        if not name:
            raise ValueError(f"register({kind!r}, {obj!r}) needs name=")
        _RUNTIME[kind][name] = PluginSpec(kind, name, obj, "runtime")
        return obj
    if kind == "metrics" and not isinstance(obj, Metric):
        raise TypeError(f"register_metric takes an mmif_bench.Metric, got {type(obj).__name__}")
    fuse_function = kind == "methods" and inspect.isfunction(obj)
    name = name or getattr(obj, "key", None) or getattr(obj, "name", None) or obj.__name__
    value = "" if kind == "metrics" else _import_path(obj)
    held = None if value else (method_from_function(obj, name) if fuse_function else obj)
    _RUNTIME[kind][name] = PluginSpec(kind, name, value, "runtime", held,
                                      fuse_function and bool(value))
    return obj


def register_method(obj: Any = None, *, name: str | None = None) -> Any:
    """``@register_method`` on a :class:`~mmif_bench.method.Method` subclass or a plain
    ``fuse(a, b) -> fused`` function (also ``@register_method(name="...")``)."""
    return register("methods", obj, name=name)


def register_metric(metric: Metric) -> Metric:
    """Register a :class:`~mmif_bench.metric.Metric` under its key (``name``, or
    ``profile.name`` outside the default profile)."""
    return register("metrics", metric)


def unregister(kind: str, name: str) -> None:
    """Remove a run-time registration (tests, notebooks)."""
    _RUNTIME[kind].pop(name, None)


@contextlib.contextmanager
def isolated_registrations() -> Iterator[None]:
    """Undo, on leaving, every run-time registration made inside (tests, notebooks)::

        with isolated_registrations():
            register_method(Mine)
            run(methods=["mine"])
        # "mine" is unknown again
    """
    saved = {kind: dict(table) for kind, table in _RUNTIME.items()}
    try:
        yield
    finally:
        for kind, table in saved.items():
            _RUNTIME[kind].clear()
            _RUNTIME[kind].update(table)


def _path_state() -> tuple[tuple[str, int | None], ...]:
    """``sys.path`` with each folder's modification time: (un)installing a distribution
    changes the folder that holds its metadata."""
    state: list[tuple[str, int | None]] = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, None))
    return tuple(state)


@functools.lru_cache(maxsize=16)
def _declared(kind: str, path_state: tuple[tuple[str, int | None], ...]) -> tuple[PluginSpec, ...]:
    """The entry-point plugins of a kind; a scan reads every distribution's metadata
    (milliseconds), so it is cached per :func:`_path_state`."""
    found, dist_names = [], {}
    for ep in entry_points(group=GROUPS[kind]):
        dist = getattr(ep, "dist", None)
        if dist is not None and id(dist) not in dist_names:  # parses METADATA: once per dist
            dist_names[id(dist)] = dist.name
        found.append(PluginSpec(kind, ep.name, ep.value, dist_names[id(dist)] if dist else ""))
    return tuple(found)


def specs(kind: str) -> dict[str, PluginSpec]:
    """Every declared plugin of a kind, entry points first, run-time ones override."""
    found = {spec.name: spec for spec in _declared(kind, _path_state())}
    found.update(_RUNTIME[kind])
    return dict(sorted(found.items()))


def _load(spec: PluginSpec) -> Any | None:
    try:
        return spec.load()
    except Exception as error:  # a broken plugin must not break the others
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        _LOAD_ERRORS[(spec.kind, spec.name)] = f"{detail} (from {spec.value})"
        return None


def load_all(kind: str) -> dict[str, Any]:
    """Import every plugin of a kind; failures are remembered in :func:`load_errors`."""
    loaded = {}
    for name, spec in specs(kind).items():
        obj = _load(spec)
        if obj is not None:
            loaded[name] = obj
    return loaded


def load_errors(kind: str | None = None) -> dict[str, str]:
    """``{"kind:name": error}`` for plugins that failed to import so far."""
    return {f"{k}:{n}": e for (k, n), e in sorted(_LOAD_ERRORS.items()) if kind in (None, k)}


def _unknown(kind: str, name: str) -> UnknownPluginError:
    names = list(specs(kind))
    by_lower = {n.lower(): n for n in names}  # suggestions ignore case: ssim -> SSIM
    close = [by_lower[n] for n in difflib.get_close_matches(name.lower(), list(by_lower), n=3,
                                                            cutoff=0.5)]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    singular = kind.rstrip("s")
    return UnknownPluginError(
        f"unknown {singular} {name!r}{hint} (available: {', '.join(names) or 'none'}; "
        f"see `mmif-bench list {kind}`)"
    )


def get(kind: str, name: str, table: dict[str, PluginSpec] | None = None) -> Any:
    """Load one plugin object by name, with a did-you-mean on unknown names; ``table``
    is :func:`specs` of the kind, when the caller already has it."""
    table = specs(kind) if table is None else table
    if name not in table:
        raise _unknown(kind, name)
    try:
        return table[name].load()
    except Exception as error:
        raise ImportError(f"{kind.rstrip('s')} plugin {name!r} failed to import: {error}") from error


def list_methods() -> list[str]:
    return list(specs("methods"))


def list_datasets() -> list[str]:
    return list(specs("datasets"))


def list_profiles() -> list[str]:
    """The metric profiles (evaluator conventions) that the registered metrics declare,
    ``default`` first."""
    declared = {obj.profile for obj in load_all("metrics").values() if isinstance(obj, Metric)}
    return sorted(declared, key=lambda name: (name != "default", name))


def list_metrics(profile: str | None = "default") -> list[str]:
    """Metric names of a profile (all profiles with ``profile=None``), in declared order."""
    names = []
    for name, obj in load_all("metrics").items():
        if isinstance(obj, Metric) and (profile is None or obj.profile == profile):
            names.append(name)
    return names


def create_method(name: str, **options: Any) -> Method:
    """Instantiate a registered fusion method with options, as timm's ``create_model``.

    Parameters
    ----------
    name : str
        A method's registry name (``mmif-bench list methods``); an unknown one raises
        KeyError with close names.
    **options
        Values of the method's declared options, e.g. ``create_method("dwt",
        wavelet="db2")``.

    Returns
    -------
    Method
        The started method (its weights found and loaded); ``fuse(a, b, modality=...)``
        fuses two float32 images in [0, 1].

    References
    ----------
    .. [1] R. Wightman, "PyTorch Image Models" (timm), ``timm.create_model``, 2019.
    """
    return as_method(get("methods", name), **options)


def declared_weights(names: Iterable[str] = ()) -> dict[str, dict[str, WeightFile]]:
    """The ``weight_files`` of the named methods (none, or ``all``: of every installed
    method that declares some); a name that declares none raises ValueError listing those
    that do."""
    names = [name for name in names if name != "all"]
    if names:
        declared = {name: dict(getattr(get("methods", name), "weight_files", {}) or {})
                    for name in names}
    else:
        declared = {name: dict(getattr(obj, "weight_files", {}) or {})
                    for name, obj in load_all("methods").items()}
    without = [name for name, files in declared.items() if not files]
    if names and without:
        having = [name for name, obj in load_all("methods").items()
                  if getattr(obj, "weight_files", None)]
        raise ValueError(f"no published weights declared by {', '.join(without)}; methods "
                         f"that declare some: {', '.join(having) or 'none'} (or all)")
    return {name: files for name, files in declared.items() if files}


def missing_weights(name: str, **options: Any) -> list[str]:
    """One line per weight file method ``name`` needs but cannot find, naming its fetch
    command; empty when all are there or the method declares none."""
    check = getattr(get("methods", name), "missing_weights", None)
    return list(check(**options)) if callable(check) else []


def method_spec(name: str) -> PluginSpec:
    """The import location of a method, for worker processes."""
    table = specs("methods")
    if name not in table:
        raise _unknown("methods", name)
    return table[name]


def get_metric(name: str) -> Metric:
    return get_metrics([name])[0]


def get_metrics(names: Iterable[str]) -> list[Metric]:
    """Metric objects by name (one registry scan for all of them)."""
    table, found = specs("metrics"), []
    for name in names:
        obj = get("metrics", name, table)
        if not isinstance(obj, Metric):
            raise TypeError(f"metric plugin {name!r} is not an mmif_bench.metric.Metric")
        found.append(obj)
    return found


def default_dataset(data_root: str | Path | None = None) -> Dataset:
    """The dataset of a run that names none: the plugin that declares ``default = True``
    when its data is there (creating it raises no FileNotFoundError), else the one that
    declares ``fallback = True`` (with a note saying why)."""
    loaded = load_all("datasets")
    reason = "no dataset plugin declares itself the default"
    for name in [n for n, obj in loaded.items() if getattr(obj, "default", False)]:
        try:
            return create_dataset(name, data_root)
        except FileNotFoundError as error:
            reason = str(error)
    for name in [n for n, obj in loaded.items() if getattr(obj, "fallback", False)]:
        dataset = create_dataset(name, data_root)
        logger.warning("note: %s; so this runs on the fallback dataset %s (%s)", reason, name,
                       dataset.description)
        return dataset
    raise FileNotFoundError(f"{reason}, and none declares itself the fallback: name a dataset "
                            f"with --dataset (see `mmif-bench list datasets`)")


def create_dataset(name_or_path: str, data_root: str | Path | None = None) -> Dataset:
    """A dataset plugin by name, or any folder with the shared layout by path."""
    table = specs("datasets")
    if name_or_path in table:
        factory = get("datasets", name_or_path)
        return factory(data_root=data_root) if callable(factory) else factory
    path = Path(name_or_path).expanduser()
    if path.is_dir() or "/" in name_or_path or name_or_path.startswith("."):
        return FolderDataset(path)
    raise _unknown("datasets", name_or_path)
