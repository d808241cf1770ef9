"""The benchmark runner: methods x dataset image pairs x metrics, cached and resumable.

A run (1) checks its configuration into a :class:`Plan` (dataset, metrics, methods and
their options: errors here stop the run before any work; the plan is the only carrier of
the run's settings from then on), (2) lists and loads the dataset's image pairs, (3) fuses
every (method, image pair) that the cache does not already hold, in shards handed to an
executor, (4) scores the saved 8-bit fused images (their luma) against the gray sources
with the batched metric path, and (5) writes ``scores.csv`` and ``run.json`` and returns
them as a :class:`RunResult`.

Exit codes: 0 everything ran; 3 some image pairs were skipped or some (method, image
pair) failed (all that succeeded is still written); 4 nothing could be scored.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import logs
from ._version import __version__
from .cache import Cache, code_digest, make_key
from .dataset import Dataset, Pair, Problem, content_hash
from .efficiency import network_measures, timing
from .evaluation import resolve_metrics, score_255_batch
from .executors import create_executor, shard
from .fsutil import atomic_write_bytes
from .fused_folder import SHOWN_EXTRAS, FusedFolder, check_fused_folder, read_fused_folder
from .fusion import FuseTask, fused_key, run_fuse_task
from .imageio import decode_png, gray_of
from .method import Method, method_fingerprint
from .metric import Metric
from .names import check_name, split_alias, strip_roots
from .published import installed, installed_sets, published_set
from .registry import (
    PluginSpec,
    create_dataset,
    create_method,
    default_dataset,
    list_methods,
    load_all,
    load_errors,
    method_spec,
    missing_weights,
)
from .run_record import (
    SCHEMA_VERSION,
    DatasetRecord,
    FailureRecord,
    MethodRecord,
    MetricRecord,
    RunRecord,
    write_run_record,
)
from .scores import Score, fused_image_path, scores_frame, sorted_scores, write_scores
from .stale_images import recorded_images, tidy_fused
from .weights import MissingWeightsError, fetch_command

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 3, 4

logger = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """Everything a run depends on (the command line's ``run`` options).

    Parameters
    ----------
    dataset : str, optional
        A dataset plugin's name or a folder in the shared layout (default: the dataset
        plugin that declares itself the default when its data is there, else the fallback).
    data_root : str or Path, optional
        The dataset's folder, for plugins that take one (``harvard``).
    split : {"test", "train", "all"}
        Which image pairs of the dataset to run.
    methods : list of str, optional
        Method names (default: every importable method whose weights are there); an entry
        ``NAME=METHOD`` runs ``METHOD`` under the name ``NAME`` (an alias: a second
        configuration of one method on the same board, e.g. ``"dmfnet-mine=dmfnet"``).
    method_options : dict
        ``{method: {option: value}}``, as ``-o METHOD:KEY=VALUE`` (an alias's options under
        its name).
    metrics : list of str, optional
        Metric names (default: every metric of ``profile``).
    profile : str
        The metric convention, one of the profiles the registered metrics declare.
    out : Path
        The output folder (never inside the dataset's folder).
    jobs : int
        Worker processes for fusing (1: in this process).
    timeout : float, optional
        Per-image-pair time limit of a method, in seconds.
    cache_dir : Path, optional
        The result cache (default ``OUT/.cache``).
    executor : {"local", "dask"}
        What runs the fusing shards.
    scheduler : str, optional
        A Dask scheduler address (default: a LocalCluster).
    shard_size : int
        Image pairs per fusing task.
    report : bool
        Write the leaderboard reports into ``out`` after the run.
    refresh : bool or list of str
        Recompute regardless of the cache: True for every method, or these methods.
    fused : dict
        Folders of fused images made elsewhere, scored as methods: ``{name: folder}``.
    published : list of str, optional
        Fetched published sets (``mmif-bench fetch results NAME``) scored as methods
        (default: every fetched set in a run without ``methods``, none otherwise).

    References
    ----------
    .. [1] S. Li et al., "Pixel-level image fusion: a survey of the state of the art",
       Information Fusion 33, 100-112, 2017 (the MRI-CT/PET/SPECT setting the run follows).
    """

    dataset: str | None = None
    data_root: str | Path | None = None
    split: str = "test"
    methods: list[str] | None = None
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: list[str] | None = None
    profile: str = "default"
    out: Path = Path("results")
    jobs: int = 1
    timeout: float | None = None
    cache_dir: Path | None = None
    executor: str = "local"
    scheduler: str | None = None
    shard_size: int = 8
    report: bool = True
    refresh: bool | list[str] = False
    fused: Mapping[str, str | Path] = field(default_factory=dict)
    published: list[str] | None = None


@dataclass
class RunResult:
    """What a run returns: its scores and its record, as written to ``OUT``.

    Attributes
    ----------
    out : Path
        The output folder (``scores.csv``, ``run.json``, ``fused/``).
    exit_code : int
        0 everything ran, 3 partial, 4 nothing scored (see :mod:`mmif_bench.runner`).
    scores : pandas.DataFrame
        ``scores.csv`` in its long form: columns ``method, dataset, pair, image, metric,
        value`` (``pair`` holds the pair type).
    record : RunRecord
        ``run.json``: dataset, methods, metrics (with BibTeX), image pairs, failures.
    fused_now, fused_cached, scored_now, scored_cached : int
        Fused images and score sets computed in this run or taken from the cache.
    """

    out: Path
    exit_code: int
    scores: pd.DataFrame
    record: RunRecord
    fused_now: int = 0
    fused_cached: int = 0
    scored_now: int = 0
    scored_cached: int = 0

    @property
    def pairs(self) -> int:
        """The number of image pairs the run loaded."""
        return len(self.record["pairs"])

    @property
    def failures(self) -> list[FailureRecord]:
        return self.record["failures"]

    @property
    def skipped(self) -> list[Problem]:
        """The image pairs left out while loading, with the reason."""
        return [Problem(s["where"], s["message"]) for s in self.record["skipped"]]

    @property
    def not_applicable(self) -> dict[str, list[str]]:
        """Method -> pair types it has no model for: neither fused nor failed."""
        return self.record["not_applicable"]


@dataclass
class Tally:
    """What the run has done so far: counters, failures, pair types not applicable."""

    fused_now: int = 0
    fused_cached: int = 0
    scored_now: int = 0
    scored_cached: int = 0
    failures: list[FailureRecord] = field(default_factory=list)
    not_applicable: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per method, each pair's share of its shard's fusing time (pairs fused now)."""

    def fail(self, method: str, pair: Pair, message: str) -> None:
        self.failures.append({"method": method, "pair_type": pair.pair_type, "image": pair.name,
                              "message": message})


@dataclass
class LoadedPair:
    pair: Pair
    input_hash: str
    gray_a: np.ndarray
    gray_b: np.ndarray


@dataclass
class PlannedMethod:
    """A method of the run, started once in this process: the instance that fuses here."""

    name: str
    spec: PluginSpec
    options: dict[str, Any]
    instance: Method
    fingerprint: str
    record: MethodRecord
    refresh: bool = False

    def applies_to(self, modality: str) -> bool:
        """Whether its model covers pairs whose second image is ``modality``."""
        return self.instance.applies_to(modality)


@dataclass
class Plan:
    """A checked configuration: everything the run does, before any work."""

    dataset: Dataset
    out: Path
    split: str
    profile: str
    metrics: list[Metric]
    methods: list[PlannedMethod]
    cache_dir: Path
    jobs: int = 1
    timeout: float | None = None
    executor: str = "local"
    scheduler: str | None = None
    shard_size: int = 8
    report: bool = True
    folders: list[FusedFolder] = field(default_factory=list)
    not_run: dict[str, list[str]] = field(default_factory=dict)
    """Methods a default run leaves out: one line per missing weight file, naming its fetch
    command (no machine paths: they go into run.json)."""

    def method_records(self) -> dict[str, MethodRecord]:
        """``run.json``'s methods: each method's options and fingerprint, each folder's
        provenance."""
        return {**{m.name: m.record for m in self.methods},
                **{f.name: f.record for f in self.folders}}

    def fuses_here(self, task: FuseTask) -> bool:
        """Whether a task runs in this process (with the planned instance): only methods
        that no worker process can import (``__main__``, a notebook)."""
        return task.spec.in_process


@dataclass
class Inputs:
    """The dataset split as loaded: usable image pairs, skipped ones and notes."""

    loaded: list[LoadedPair]
    skipped: list[Problem]
    notes: list[str]
    split: str
    """What was listed: the split, or ``all N pairs (no split files)``."""

    def by_key(self) -> dict[str, LoadedPair]:
        return {lp.pair.key: lp for lp in self.loaded}


def metric_signatures(metrics: list[Metric], profile: str) -> dict[str, str]:
    """Per metric (by the name its scores carry): its key, the profile and the source of its
    code (:func:`code_digest` of its module and the modules that imports), so that editing
    a metric rescores that metric only."""
    return {m.name: make_key(profile, m.key, code_digest(m.compute)) for m in metrics}


def _within(path: str | Path, root: Path | None) -> str:
    """``path`` relative to the dataset folder, so that results hold no machine paths."""
    try:
        return Path(path).relative_to(root).as_posix() if root is not None else Path(path).name
    except ValueError:
        return Path(path).name


def _check_output_location(out: Path, dataset: Dataset, option: str = "--out") -> None:
    """A ValueError when ``out`` is a file, or is (inside) the dataset folder."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out} is a file, not a folder: choose a folder name")
    root = getattr(dataset, "root", None)
    if root is None:
        return
    out_abs, root_abs = out.resolve(), Path(root).resolve()
    if out_abs == root_abs or root_abs in out_abs.parents:
        raise ValueError(
            f"{option} {out} is inside the dataset folder {root}; results are never written "
            f"into input folders: choose a folder elsewhere"
        )


def _plan_method(name: str, method_id: str, options: dict[str, Any],
                 refresh: bool) -> PlannedMethod:
    """Start method ``method_id`` once with its options (the instance that fuses in this
    process) under the run's ``name`` for it (an alias when they differ); errors name it."""
    try:
        method = create_method(method_id, **options)
    except MissingWeightsError:
        raise
    except Exception as error:
        raise ValueError(f"method {name!r} cannot start with options {options}: "
                         f"{type(error).__name__}: {error}") from None
    fingerprint = method_fingerprint(method)
    record: MethodRecord = {
        "options": method.resolved_options(), "weights": method.weights_record(),
        "fingerprint": fingerprint, "deterministic": bool(method.deterministic),
        "bibtex": method.bibtex, "provenance": method.provenance(), "notes": [],
        "efficiency": {}, "method": method_id}
    if name != method_id:
        provenance = record["provenance"]
        shown = ", ".join(f"{key}={record['options'].get(key, options[key])}"
                          for key in sorted(options)) or "its default options"
        record["provenance"] = {**provenance, "label": name, "detail": (
            f"{method_id} with {shown}; {provenance.get('detail', '')}".rstrip("; "))}
    return PlannedMethod(name, method_spec(method_id), options, method, fingerprint, record,
                         refresh)


def method_aliases(entries: list[str]) -> dict[str, str]:
    """``{name: method}`` of the ``--methods`` entries (``METHOD`` or ``NAME=METHOD``);
    a ValueError on a bad or repeated name, a KeyError (with suggestions) on an unknown
    method."""
    chosen: dict[str, str] = {}
    for entry in entries:
        name, method_id = split_alias(entry)
        if name in chosen:
            raise ValueError(f"method {name!r} is named twice in --methods; give the second "
                             f"configuration its own name: NAME={method_id}")
        method_spec(method_id)  # unknown names fail here, with suggestions
        chosen[name] = method_id
    return chosen


def _importable_methods() -> list[str]:
    """Every registered method for a default run; plugins that fail to import are left
    out with a note (and listed in ``run.json``'s plugin errors), never breaking the run."""
    loaded = load_all("methods")
    for name in sorted(set(list_methods()) - set(loaded)):
        logger.warning("note: method %s left out: %s", name, load_errors("methods")[f"methods:{name}"])
    usable = []
    for name in (name for name in list_methods() if name in loaded):
        try:
            usable.append(check_name("method", name))
        except ValueError as error:
            logger.warning("note: method left out: %s", error)
    return usable


def _check_limits(config: RunConfig) -> None:
    if config.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {config.jobs}")
    if config.timeout is not None and not config.timeout > 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {config.timeout}")


def _refreshed(config: RunConfig, names: list[str]) -> set[str]:
    """The methods and folders to recompute regardless of the cache (checked names)."""
    unused = sorted(set(config.method_options) - set(names))
    if unused:
        raise ValueError(f"options are set for {', '.join(unused)}, which the run does not "
                         f"include (its methods: {', '.join(names)}); add them to --methods")
    scored = names + list(config.fused) + _published_names(config)
    refresh = set(scored) if config.refresh is True else set(config.refresh or ())
    if refresh - set(scored):
        raise ValueError(f"--refresh names {', '.join(sorted(refresh - set(scored)))}, which "
                         f"the run does not include (its methods: {', '.join(scored)})")
    return refresh


def _published_names(config: RunConfig) -> list[str]:
    """The published sets the run scores: those named, else every fetched one in a
    default run."""
    if config.published is None:
        return [] if config.methods else installed_sets()
    return list(dict.fromkeys(config.published))


def _published_folder(name: str, refresh: bool) -> FusedFolder:
    """A fetched published set as a fused folder labelled with its provenance."""
    entry = published_set(name)
    folder = installed(name)
    if folder is None:
        raise FileNotFoundError(f"published set {name!r} is not fetched: run 'mmif-bench "
                                f"fetch results {name}' (or --from a mirror or folder)")
    return FusedFolder(name, folder, refresh, provenance=entry.provenance(),
                       bibtex=entry.bibtex)


def configure(config: RunConfig) -> Plan:
    """Check everything a run depends on; raises ValueError/KeyError/FileNotFoundError
    naming what is wrong, before any image pair is read."""
    _check_limits(config)
    dataset = default_dataset(config.data_root) if config.dataset is None else \
        create_dataset(config.dataset, config.data_root)
    out = Path(config.out)
    _check_output_location(out, dataset)
    if config.cache_dir is not None:
        _check_output_location(Path(config.cache_dir), dataset, "--cache-dir")
    metrics = resolve_metrics(config.metrics, config.profile)
    chosen = method_aliases(config.methods or _importable_methods())
    names = list(chosen)
    refresh = _refreshed(config, names)
    plan = Plan(dataset, out, config.split, config.profile, metrics, [],
                Path(config.cache_dir or out / ".cache"), config.jobs, config.timeout,
                config.executor, config.scheduler, config.shard_size, config.report)
    for name, folder in config.fused.items():
        check_fused_folder(name, Path(folder), out, names)
        plan.folders.append(FusedFolder(name, Path(folder), name in refresh))
    for name in _published_names(config):
        published = _published_folder(name, name in refresh)
        check_fused_folder(name, published.root, out, names + list(config.fused))
        plan.folders.append(published)
    for name in names:
        options = config.method_options.get(name, {})
        missing = missing_weights(chosen[name], **options)
        if missing and config.methods:  # asked for by name: a configuration error
            raise MissingWeightsError("; ".join(missing))
        if missing:
            plan.not_run[name] = missing
            continue
        plan.methods.append(_plan_method(name, chosen[name], options, name in refresh))
    for method in plan.methods:
        if method.spec.in_process:
            logger.warning(
                "note: method %s is defined where worker processes cannot import it "
                "(__main__, a notebook); it runs in this process, without a worker's "
                "isolation (a crash or a hang of it stops the run), and --jobs/--executor "
                "apply to the other methods. Define it in an importable module to run it "
                "in workers", method.name)
    _log_plan(plan)
    return plan


def _log_plan(plan: Plan) -> None:
    """The plan in one line, then one compact line per method left out (the full
    messages are DEBUG, and in ``run.json``)."""
    names = [m.name for m in plan.methods] + [f.name for f in plan.folders]
    logger.info("plan: %d methods (%s) x %d metrics (profile %s) on dataset %s; results "
                "in %s", len(names), ", ".join(names), len(plan.metrics), plan.profile,
                plan.dataset.name, plan.out)
    for name, missing in plan.not_run.items():
        logger.warning("not run: %s (weights missing: %s)", name, fetch_command(name))
        for line in missing:
            logger.debug("  %s", line)


def load_inputs(plan: Plan) -> Inputs:
    """List the split's image pairs and read them; unusable ones are skipped with a reason
    and image conversions (16-bit, alpha, ...) are noted."""
    dataset = plan.dataset
    listing = dataset.list_pairs(plan.split)
    split = listing.split or plan.split
    logger.info("dataset: %s (%s), %s: %d pairs listed", dataset.name, dataset.description,
                split if listing.unsplit else f"split {split}", len(listing.pairs))
    inputs = Inputs([], list(listing.problems), list(listing.notes), split)
    min_size = max((m.min_size for m in plan.metrics), default=1)
    needing = ", ".join(m.name for m in plan.metrics if m.min_size == min_size)
    for pair in listing.pairs:
        try:
            a, b = pair.load()
        except Exception as error:
            inputs.skipped.append(Problem(str(pair.path_a), str(error)))
            continue
        height, width = a.pixels.shape[:2]
        if min(height, width) < min_size:
            inputs.skipped.append(Problem(str(pair.path_a), (
                f"image is {width}x{height}, smaller than the metrics' {min_size}x{min_size} "
                f"windows ({needing}); use larger images or leave those out with --metrics")))
            continue
        inputs.notes.extend(f"{pair.pair_type}: {note}" for note in a.notes + b.notes)
        inputs.loaded.append(LoadedPair(pair, content_hash(a.pixels, b.pixels),
                                        gray_of(a.pixels), gray_of(b.pixels)))
    for note in inputs.notes:
        logger.info("note: %s", note)
    for problem in inputs.skipped:
        logger.warning("skipped: %s", problem)
    return inputs


def _applicable(method: PlannedMethod, inputs: Inputs, tally: Tally) -> list[LoadedPair]:
    """The image pairs the method has a model for (``Method.applies_to`` the second
    modality); the other pair types are recorded as "not applicable" in ``tally``."""
    targets = [lp for lp in inputs.loaded if method.applies_to(lp.pair.modalities[1])]
    left_out = {lp.pair.pair_type for lp in inputs.loaded} - {lp.pair.pair_type for lp in targets}
    if left_out:
        tally.not_applicable[method.name] = sorted(left_out)
    return targets


def _reuse_cached(method: PlannedMethod, pairs: list[LoadedPair], cache: Cache, out: Path,
                  fused_png: dict[tuple[str, str], bytes], tally: Tally) -> list[LoadedPair]:
    """Take the method's cached fused images of ``pairs`` (rewriting ``OUT/fused`` where it
    differs, as with a shared ``--cache-dir``); returns the image pairs still to fuse."""
    if method.refresh:
        return list(pairs)
    pending = []
    for lp in pairs:
        png = cache.get(fused_key(method.fingerprint, lp.input_hash), "fused")
        if png is None:
            pending.append(lp)
            continue
        fused_png[(method.name, lp.pair.key)] = png
        target = fused_image_path(out, method.name, lp.pair.pair_type, lp.pair.name)
        if not target.is_file() or target.read_bytes() != png:
            atomic_write_bytes(target, png)
        tally.fused_cached += 1
    return pending


def _read_folders(plan: Plan, inputs: Inputs, fused_png: dict[tuple[str, str], bytes],
                  tally: Tally) -> None:
    """Take the images of every ``--fused`` folder; missing or unusable ones are failures."""
    by_key = inputs.by_key()
    shapes = {lp.pair.key: lp.gray_a.shape for lp in inputs.loaded}
    for folder in plan.folders:
        images, failures = read_fused_folder(folder, [lp.pair for lp in inputs.loaded], shapes,
                                             plan.out)
        fused_png.update({(folder.name, key): png for key, png in images.items()})
        for key, message in failures.items():
            tally.fail(folder.name, by_key[key].pair, message)
        provenance = folder.record["provenance"]
        logger.info("fused folder %s: %d of %d pairs from %s files (content sha256 %s)",
                    folder.name, len(images), len(inputs.loaded), provenance["files"],
                    provenance["content_sha256"][:16])
        for note in folder.record["notes"]:
            logger.info("note: %s: %s", folder.name, note)
        extras = provenance["extra_files"]
        if extras:
            more = ", ..." if len(extras) > SHOWN_EXTRAS else ""
            logger.warning("note: %s: %d files match no pair of the run and were left out: "
                           "%s%s", folder.name, len(extras), ", ".join(extras[:SHOWN_EXTRAS]),
                           more)


def fuse_all(plan: Plan, inputs: Inputs, cache: Cache, tally: Tally
             ) -> dict[tuple[str, str], bytes]:
    """PNG bytes of every fused image, keyed by (method, image pair key): the ``--fused``
    folders', cached ones, then the rest fused (in this process by the planned instances,
    or by the executor's workers); failures are recorded in ``tally``."""
    fused_png: dict[tuple[str, str], bytes] = {}
    _read_folders(plan, inputs, fused_png, tally)
    tasks = [FuseTask(method.name, method.spec, method.options, method.fingerprint,
                      tuple(lp.pair for lp in chunk), tuple(lp.input_hash for lp in chunk),
                      str(plan.out), str(cache.root), plan.timeout)
             for method in plan.methods
             for chunk in shard(_reuse_cached(method, _applicable(method, inputs, tally), cache,
                                              plan.out, fused_png, tally), plan.shard_size)]
    by_key = inputs.by_key()
    instances = {method.name: method.instance for method in plan.methods}
    executor = create_executor(plan.executor, plan.jobs, plan.scheduler)
    remote = executor.run([task for task in tasks if not plan.fuses_here(task)])
    results = itertools.chain(
        (run_fuse_task(task, instances[task.method]) for task in tasks if plan.fuses_here(task)),
        remote)
    total = sum(len(t.pairs) for t in tasks)
    with logs.progress(total, "fusing") as progress, closing(remote), \
            _interruptible(tally, total):
        for outcomes in results:
            for outcome in outcomes:
                progress.update(1)
                png = None if outcome.error else cache.get(outcome.fused_key, "fused")
                if png is None:
                    tally.fail(outcome.method, by_key[outcome.pair_key].pair,
                               outcome.error or "fused image missing from the cache after fusing")
                    continue
                fused_png[(outcome.method, outcome.pair_key)] = png
                tally.fused_now += 1
                if outcome.seconds is not None:
                    tally.seconds[outcome.method].append(outcome.seconds)
    return fused_png


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the message says how much was done (all of it is kept)."""


@contextmanager
def _interruptible(tally: Tally, total: int) -> Iterator[None]:
    """Turn Ctrl-C while fusing into :class:`RunInterrupted` saying how much was done
    (the executor's workers are gone by then: it is closed first)."""
    try:
        yield
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted after fusing {tally.fused_now} of {total} image "
                             f"pairs to fuse ({tally.fused_cached} were cached)") from None


def measure_efficiency(plan: Plan, cache: Cache, tally: Tally) -> None:
    """Each method's efficiency into its record: parameters and FLOPs of its networks
    (measured once per fingerprint and measuring code, then cached) and its timed seconds
    per pair."""
    for method in plan.methods:
        key = make_key("efficiency", method.fingerprint, code_digest(network_measures))
        measures = cache.get_json(key, "efficiency")
        if not isinstance(measures, dict):
            measures = network_measures(method.instance)
            cache.put_json(key, measures, "efficiency")
        method.record["efficiency"] = {**measures, **timing(
            tally.seconds.get(method.name, []), method.instance, plan.shard_size, plan.jobs)}


def _score_group(group: list[tuple[str, LoadedPair, np.ndarray]], names: list[str],
                 profile: str) -> list[dict[str, Any]]:
    """Scores of same-shape images in one batch; on an error, image pair by image pair so
    that the failure is pinned to its pair (``{"__error__": message}``)."""
    fused, a, b = (np.stack(x) for x in zip(*[(f, lp.gray_a, lp.gray_b) for _, lp, f in group]))
    try:
        values = score_255_batch(fused, a, b, metrics=names, profile=profile)
        return [{name: float(v[i]) for name, v in values.items()} for i in range(len(group))]
    except Exception:
        pass
    per_pair: list[dict[str, Any]] = []
    for _, loaded, fused in group:
        try:
            one = score_255_batch(fused, loaded.gray_a, loaded.gray_b, metrics=names,
                                  profile=profile)
            per_pair.append({name: float(v[0]) for name, v in one.items()})
        except Exception as error:
            per_pair.append({"__error__": f"scoring failed: {type(error).__name__}: {error}"})
    return per_pair


def _score_method(method: PlannedMethod | FusedFolder, items: list[tuple[LoadedPair, bytes]],
                  plan: Plan, cache: Cache, tally: Tally) -> dict[str, dict[str, float]]:
    """Scores per image pair key: each metric's value from the pair's cache entry where it
    was computed by the same metric code (unless refreshed), the others computed in batches.

    A pair's entry holds ``{metric: [signature, value]}``, so a run with other metrics or
    an edited metric adds to it rather than recomputing the rest."""
    signatures = metric_signatures(plan.metrics, plan.profile)
    keys = {m.name: m.key for m in plan.metrics}
    scores: dict[str, dict[str, float]] = {}
    todo: dict[tuple, list[tuple[str, LoadedPair, np.ndarray]]] = defaultdict(list)
    entries: dict[str, dict[str, Any]] = {}
    for loaded, png in items:
        key = make_key("scores", hashlib.sha256(png).hexdigest(), loaded.input_hash)
        entry = {} if method.refresh else cache.get_json(key, "scores")
        entries[key] = entry if isinstance(entry, dict) else {}
        cached = {name: item[1] for name, item in entries[key].items()
                  if isinstance(item, list) and len(item) == 2 and signatures.get(name) == item[0]}
        missing = tuple(name for name in signatures if name not in cached)
        scores[loaded.pair.key] = {name: cached[name] for name in signatures if name in cached}
        if not missing:
            tally.scored_cached += 1
            continue
        fused = gray_of(decode_png(png))
        todo[(fused.shape, missing)].append((key, loaded, fused))
    for (_, missing), group in todo.items():
        names = [keys[name] for name in missing]
        for (key, loaded, _), result in zip(group, _score_group(group, names, plan.profile)):
            if "__error__" in result:
                tally.fail(method.name, loaded.pair, result["__error__"])
                scores.pop(loaded.pair.key)
                continue
            entry = {**entries[key], **{name: [signatures[name], value]
                                        for name, value in result.items()}}
            cache.put_json(key, entry, "scores")
            scores[loaded.pair.key] = {name: entry[name][1] for name in signatures}
            tally.scored_now += 1
    return scores


def score_all(plan: Plan, inputs: Inputs, fused_png: dict[tuple[str, str], bytes],
              cache: Cache, tally: Tally) -> list[Score]:
    """Every score of the run (from the cache or computed), one per number, in
    ``scores.csv``'s order."""
    by_key = inputs.by_key()
    scores: list[Score] = []
    scored: list[PlannedMethod | FusedFolder] = [*plan.methods, *plan.folders]
    with logs.progress(len(fused_png), "scoring", "image") as progress:
        for method in scored:
            items = [(lp, fused_png[(method.name, lp.pair.key)]) for lp in inputs.loaded
                     if (method.name, lp.pair.key) in fused_png]
            progress.set_description(f"scoring {method.name}")
            for pair_key, values in _score_method(method, items, plan, cache, tally).items():
                pair = by_key[pair_key].pair
                scores.extend(Score(method.name, plan.dataset.name, pair.pair_type, pair.name,
                                    metric, value) for metric, value in values.items())
            progress.update(len(items))
    return sorted_scores(scores, [m.name for m in plan.metrics])


def _dataset_record(plan: Plan, inputs: Inputs) -> DatasetRecord:
    """Name, split and content hash: a dataset is named, never located, in results."""
    digest = hashlib.sha256("".join(f"{lp.pair.key}:{lp.input_hash};"
                                    for lp in inputs.loaded).encode())
    return {"name": plan.dataset.name, "split": inputs.split, "hash": digest.hexdigest()}


def _metric_record(metric: Metric) -> MetricRecord:
    return {"higher_is_better": metric.higher_is_better, "needs_sources": metric.needs_sources,
            "reference": metric.reference, "description": metric.description,
            "unit": metric.unit, "bibtex": metric.bibtex, "display_name": metric.label}


def run_record(plan: Plan, inputs: Inputs, tally: Tally) -> RunRecord:
    """The run's ``run.json``: what ran with what, named, never located on this machine
    (the run's folders are cut out of messages)."""
    root = getattr(plan.dataset, "root", None)
    roots = [r for r in (root, *(f.root for f in plan.folders), plan.out, plan.cache_dir) if r]
    failures: list[FailureRecord] = [{**f, "message": strip_roots(f["message"], roots)}
                                     for f in tally.failures]
    return {
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "mmif-bench", "version": __version__},
        "profile": plan.profile,
        "dataset": _dataset_record(plan, inputs),
        "methods": plan.method_records(),
        "not_run": plan.not_run,
        "not_applicable": tally.not_applicable,
        "metrics": {m.name: _metric_record(m) for m in plan.metrics},
        "pairs": [{"pair_type": lp.pair.pair_type, "image": lp.pair.name,
                   "file_a": _within(lp.pair.path_a, root), "file_b": _within(lp.pair.path_b, root),
                   "hash": lp.input_hash} for lp in inputs.loaded],
        "notes": inputs.notes,
        "skipped": [{"where": _within(p.where, root), "message": strip_roots(p.message, roots)}
                    for p in inputs.skipped],
        "failures": sorted(failures, key=lambda f: (f["method"], f["pair_type"], f["image"])),
        "plugin_errors": load_errors(),
    }


def _exit_code(scores: list[Score], record: RunRecord) -> int:
    if not scores:
        return EXIT_NOTHING
    return EXIT_PARTIAL if record["failures"] or record["skipped"] else EXIT_OK


def _tidy_fused(plan: Plan, inputs: Inputs, earlier: set[Path],
                fused_png: dict[tuple[str, str], bytes]) -> None:
    """Remove the earlier run's fused images this run did not write; name other files."""
    by_key = inputs.by_key()
    written = {fused_image_path(plan.out, name, by_key[key].pair.pair_type, by_key[key].pair.name)
               for name, key in fused_png}
    root = getattr(plan.dataset, "root", None)
    tidy_fused(plan.out, earlier, written, [r for r in (root, *(f.root for f in plan.folders)) if r])


def execute(plan: Plan) -> RunResult:
    """Run a checked plan: fuse, score, write ``scores.csv`` and ``run.json``."""
    inputs = load_inputs(plan)
    tally = Tally()
    cache = Cache(plan.cache_dir)
    earlier = recorded_images(plan.out)
    fused_png = fuse_all(plan, inputs, cache, tally)
    measure_efficiency(plan, cache, tally)
    scores = score_all(plan, inputs, fused_png, cache, tally)
    record = run_record(plan, inputs, tally)
    write_scores(plan.out / "scores.csv", scores)
    write_run_record(plan.out / "run.json", record)
    _tidy_fused(plan, inputs, earlier, fused_png)
    if cache.corrupt:
        logger.warning("recomputed %d corrupt or unreadable cache entries", len(cache.corrupt))
    result = RunResult(plan.out, _exit_code(scores, record), scores_frame(scores), record,
                       tally.fused_now, tally.fused_cached, tally.scored_now, tally.scored_cached)
    logger.info("%s: %d pairs x %d methods; fused %d (cached %d), scored %d (cached %d); "
                "%d failures, %d skipped; results in %s", plan.dataset.name, result.pairs,
                len(plan.methods) + len(plan.folders), result.fused_now, result.fused_cached,
                result.scored_now, result.scored_cached, len(record["failures"]),
                len(record["skipped"]), plan.out)
    return result


def run(config: RunConfig | None = None, **options: Any) -> RunResult:
    """Run the benchmark: fuse every image pair with every method, score, record.

    Parameters
    ----------
    config : RunConfig, optional
        The run's settings; or give :class:`RunConfig`'s fields as keyword arguments:
        ``run(methods=["mean"], out="results")``.
    **options
        :class:`RunConfig` fields, when ``config`` is not given.

    Returns
    -------
    RunResult
        The scores (``scores.csv``'s long form) and the run record (``run.json``), both
        also written to ``config.out``, with the leaderboard reports when
        ``config.report``.

    Raises
    ------
    ValueError, KeyError, FileNotFoundError
        A configuration error (unknown name, bad option, missing data or weights),
        raised before any work.

    References
    ----------
    .. [1] L. Gao et al., "A framework for few-shot language model evaluation"
       (lm-evaluation-harness: ``simple_evaluate`` returns typed results, its command
       line writes them), Zenodo, 2021.
    """
    if config is None:
        config = RunConfig(**options)
    elif options:
        raise TypeError("give either a RunConfig or its fields as keyword arguments, not both")
    logs.configure_unless_configured()
    plan = configure(config)
    result = execute(plan)
    if plan.report:
        from .reporting import write_report

        write_report(result)
    return result
