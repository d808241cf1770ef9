"""The benchmark runner: methods x dataset pairs x metrics, cached and resumable.

A run (1) checks its configuration (dataset, metrics, methods and their options: errors
here stop the run before any work), (2) lists and loads the dataset's pairs, (3) fuses
every (method, pair) that the cache does not already hold, in shards handed to an
executor, (4) scores the saved 8-bit fused images (their luma) against the gray sources
with the batched metric path, and (5) writes ``scores.csv``, ``run.json`` and the
leaderboard reports.

Exit codes: 0 everything ran; 3 some pairs were skipped or some (method, pair) failed
(all that succeeded is still written); 4 nothing could be scored.
"""
from __future__ import annotations

import hashlib
import itertools
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from . import __version__
from .cache import Cache, code_digest, make_key
from .config import data_root as configured_data_root
from .dataset import Dataset, Pair, Problem, content_hash
from .evaluation import resolve_metrics, score_255_batch
from .executors import create_executor, shard
from .fused_folder import SHOWN_EXTRAS, FusedFolder, check_fused_folder, read_fused_folder
from .fusion import FuseTask, fused_key, run_fuse_task
from .imageio import atomic_write_bytes, decode_png, gray_of
from .metric import Metric
from .names import check_name, strip_roots
from .method import method_fingerprint
from .registry import (PluginSpec, create_dataset, create_method, list_methods, load_all,
                       load_errors, method_spec, missing_weights)
from .results import Score, fused_image_path, write_run_info, write_scores
from .weights import MissingWeightsError

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 3, 4

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class RunConfig:
    """Everything a run depends on (the CLI's ``run`` options)."""

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
    """Recompute regardless of the cache: True for every method, or these methods."""
    fused: dict[str, str | Path] = field(default_factory=dict)
    """Folders of fused images made elsewhere, scored as methods: ``{name: folder}``."""


@dataclass
class RunSummary:
    """What a run did; ``exit_code`` follows the module's table."""

    out: Path
    exit_code: int
    dataset: str
    pairs: int
    fused_now: int = 0
    fused_cached: int = 0
    scored_now: int = 0
    scored_cached: int = 0
    skipped: list[Problem] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    not_applicable: dict[str, list[str]] = field(default_factory=dict)
    """Method -> pair types it has no model for: neither fused nor failed."""

    def fail(self, method: str, pair: Pair, message: str) -> None:
        self.failures.append({"method": method, "pair": pair.pair_type, "image": pair.name,
                              "message": message})


@dataclass
class LoadedPair:
    pair: Pair
    input_hash: str
    gray_a: np.ndarray
    gray_b: np.ndarray


@dataclass
class PlannedMethod:
    """A method of the run, started once in this process to check its options."""

    name: str
    spec: PluginSpec
    options: dict[str, Any]
    fingerprint: str
    info: dict[str, Any]
    refresh: bool = False
    applies_to: Callable[[str], bool] = lambda modality: True  # its model's pair types


@dataclass
class Plan:
    """A checked configuration: what the run will do, before any work."""

    dataset: Dataset
    out: Path
    metrics: list[Metric]
    methods: list[PlannedMethod]
    folders: list[FusedFolder] = field(default_factory=list)
    not_run: dict[str, list[str]] = field(default_factory=dict)
    """Methods a default run leaves out: one line per missing weight file, naming its fetch
    command (no machine paths: they go into run.json)."""

    def info(self) -> dict[str, dict[str, Any]]:
        """``run.json``'s methods: each method's options and fingerprint, each folder's
        provenance."""
        return {**{m.name: m.info for m in self.methods}, **{f.name: f.info for f in self.folders}}


@dataclass
class Inputs:
    """The dataset split as loaded: usable pairs, skipped ones and notes."""

    loaded: list[LoadedPair]
    skipped: list[Problem]
    notes: list[str]

    def by_key(self) -> dict[str, LoadedPair]:
        return {lp.pair.key: lp for lp in self.loaded}


def default_dataset_name(data_root: str | Path | None = None) -> str:
    """``harvard`` when its data is configured (``--data-root``, the environment) or
    fetched, else the built-in ``phantom``."""
    return "harvard" if configured_data_root(data_root) is not None else "phantom"


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


def _plan_method(name: str, options: dict[str, Any], refresh: bool) -> PlannedMethod:
    """Start a method once with its options; errors name the method."""
    try:
        method = create_method(name, **options)
    except MissingWeightsError:
        raise
    except Exception as error:
        raise ValueError(f"method {name!r} cannot start with options {options}: "
                         f"{type(error).__name__}: {error}") from None
    fingerprint = method_fingerprint(method)
    info = {"options": method.resolved_options(), "weights": method.weights_record(),
            "fingerprint": fingerprint, "deterministic": bool(method.deterministic)}
    return PlannedMethod(name, method_spec(name), options, fingerprint, info, refresh,
                         method.applies_to)


def _importable_methods(log: Log) -> list[str]:
    """Every registered method for a default run; plugins that fail to import are left
    out with a note (and listed in ``run.json``'s plugin errors), never breaking the run."""
    loaded = load_all("methods")
    for name in sorted(set(list_methods()) - set(loaded)):
        log(f"note: method {name} left out: {load_errors('methods')[f'methods:{name}']}")
    usable = []
    for name in (name for name in list_methods() if name in loaded):
        try:
            usable.append(check_name("method", name))
        except ValueError as error:
            log(f"note: method left out: {error}")
    return usable


def configure(config: RunConfig, log: Log = _stderr) -> Plan:
    """Check everything a run depends on; raises ValueError/KeyError/FileNotFoundError
    naming what is wrong, before any pair is read."""
    if config.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {config.jobs}")
    if config.timeout is not None and not config.timeout > 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {config.timeout}")
    dataset = create_dataset(config.dataset or default_dataset_name(config.data_root),
                             config.data_root)
    if config.dataset is None and dataset.name == "phantom":
        log("note: no Harvard data configured, so this runs on the synthetic phantom; get the "
            "Harvard pairs with 'mmif-bench fetch harvard' (or set MMIF_BENCH_DATA)")
    out = Path(config.out)
    _check_output_location(out, dataset)
    if config.cache_dir is not None:
        _check_output_location(Path(config.cache_dir), dataset, "--cache-dir")
    metrics = resolve_metrics(config.metrics, config.profile)
    names = config.methods or _importable_methods(log)
    for name in names:
        check_name("method", name)
        method_spec(name)  # unknown names fail here, with suggestions
    unused = sorted(set(config.method_options) - set(names))
    if unused:
        raise ValueError(f"options are set for {', '.join(unused)}, which the run does not "
                         f"include (its methods: {', '.join(names)}); add them to --methods")
    scored = names + list(config.fused)
    refresh = set(scored) if config.refresh is True else set(config.refresh or ())
    if refresh - set(scored):
        raise ValueError(f"--refresh names {', '.join(sorted(refresh - set(scored)))}, which "
                         f"the run does not include (its methods: {', '.join(scored)})")
    plan = Plan(dataset, out, metrics, [])
    for name, folder in config.fused.items():
        check_fused_folder(name, Path(folder), out, names)
        plan.folders.append(FusedFolder(name, Path(folder), name in refresh))
    for name in names:
        options = config.method_options.get(name, {})
        missing = missing_weights(name, **options)
        if missing and config.methods:  # asked for by name: a configuration error
            raise MissingWeightsError("; ".join(missing))
        if missing:
            log(f"note: method {name} not run: {'; '.join(missing)}")
            plan.not_run[name] = missing
            continue
        plan.methods.append(_plan_method(name, options, name in refresh))
    if config.jobs > 1 or config.executor != "local":
        for method in plan.methods:
            if method.spec.in_process:
                log(f"note: method {method.name} is defined where worker processes cannot "
                    f"import it (__main__, a notebook); it runs in this process, and --jobs/"
                    f"--executor apply to the other methods. Define it in an importable module "
                    f"to run it in workers")
    return plan


def load_inputs(dataset: Dataset, split: str, metrics: list[Metric], log: Log) -> Inputs:
    """List the split's pairs and read them; unusable pairs are skipped with a reason and
    image conversions (16-bit, alpha, ...) are noted."""
    listing = dataset.list_pairs(split)
    log(f"dataset: {dataset.name} ({dataset.description}), split {split}: "
        f"{len(listing.pairs)} pairs listed")
    inputs = Inputs([], list(listing.problems), list(listing.notes))
    min_size = max((m.min_size for m in metrics), default=1)
    needing = ", ".join(m.name for m in metrics if m.min_size == min_size)
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
        log(f"note: {note}")
    for problem in inputs.skipped:
        log(f"skipped: {problem}")
    return inputs


def _applicable(method: PlannedMethod, inputs: Inputs, summary: RunSummary) -> list[LoadedPair]:
    """The pairs the method has a model for (``Method.applies_to`` the second modality);
    the pair types of the others are recorded as "not applicable" in ``summary``."""
    targets = [lp for lp in inputs.loaded if method.applies_to(lp.pair.modalities[1])]
    left_out = {lp.pair.pair_type for lp in inputs.loaded} - {lp.pair.pair_type for lp in targets}
    if left_out:
        summary.not_applicable[method.name] = sorted(left_out)
    return targets


def _reuse_cached(method: PlannedMethod, pairs: list[LoadedPair], cache: Cache, out: Path,
                  fused_png: dict[tuple[str, str], bytes], summary: RunSummary) -> list[LoadedPair]:
    """Take the method's cached fused images of ``pairs`` (rewriting ``OUT/fused`` where it
    differs, as with a shared ``--cache-dir``); returns the pairs still to fuse."""
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
        summary.fused_cached += 1
    return pending


def _read_folders(plan: Plan, inputs: Inputs, fused_png: dict[tuple[str, str], bytes],
                  summary: RunSummary, log: Log) -> None:
    """Take the images of every ``--fused`` folder; missing or unusable ones are failures."""
    by_key = inputs.by_key()
    shapes = {lp.pair.key: lp.gray_a.shape for lp in inputs.loaded}
    for folder in plan.folders:
        images, failures = read_fused_folder(folder, [lp.pair for lp in inputs.loaded], shapes,
                                             plan.out)
        fused_png.update({(folder.name, key): png for key, png in images.items()})
        for key, message in failures.items():
            summary.fail(folder.name, by_key[key].pair, message)
        provenance = folder.info["provenance"]
        log(f"fused folder {folder.name}: {len(images)} of {len(inputs.loaded)} pairs from "
            f"{provenance['files']} files (content sha256 {provenance['content_sha256'][:16]})")
        for note in folder.info["notes"]:
            log(f"note: {folder.name}: {note}")
        extras = provenance["extra_files"]
        if extras:
            more = ", ..." if len(extras) > SHOWN_EXTRAS else ""
            log(f"note: {folder.name}: {len(extras)} files match no pair of the run and were "
                f"left out: {', '.join(extras[:SHOWN_EXTRAS])}{more}")


def fuse_all(plan: Plan, inputs: Inputs, config: RunConfig, cache: Cache,
             summary: RunSummary, log: Log) -> dict[tuple[str, str], bytes]:
    """PNG bytes of every fused image, keyed by (method, pair key): the ``--fused`` folders',
    cached ones, then the rest fused by the executor; failures are recorded in ``summary``."""
    fused_png: dict[tuple[str, str], bytes] = {}
    _read_folders(plan, inputs, fused_png, summary, log)
    tasks = [FuseTask(method.name, method.spec, method.options, method.fingerprint,
                      tuple(lp.pair for lp in chunk), tuple(lp.input_hash for lp in chunk),
                      str(plan.out), str(cache.root), config.timeout)
             for method in plan.methods
             for chunk in shard(_reuse_cached(method, _applicable(method, inputs, summary), cache,
                                              plan.out, fused_png, summary), config.shard_size)]
    by_key = inputs.by_key()
    executor = create_executor(config.executor, config.jobs, config.scheduler)
    here = [task for task in tasks if task.spec.in_process]
    results = itertools.chain((run_fuse_task(task) for task in here),
                              executor.run([task for task in tasks if not task.spec.in_process]))
    with tqdm(total=sum(len(t.pairs) for t in tasks), desc="fusing", unit="pair",
              disable=None, file=sys.stderr) as progress:
        for outcomes in results:
            for outcome in outcomes:
                progress.update(1)
                png = None if outcome.error else cache.get(outcome.fused_key, "fused")
                if png is None:
                    summary.fail(outcome.method, by_key[outcome.pair_key].pair,
                                 outcome.error or "fused image missing from the cache after fusing")
                    continue
                fused_png[(outcome.method, outcome.pair_key)] = png
                summary.fused_now += 1
    return fused_png


def _score_group(group: list[tuple[str, LoadedPair, np.ndarray]], names: list[str],
                 profile: str) -> list[dict[str, Any]]:
    """Scores of same-shape images in one batch; on an error, pair by pair so that the
    failure is pinned to its pair (``{"__error__": message}``)."""
    stacks = [np.stack(x) for x in zip(*[(f, lp.gray_a, lp.gray_b) for _, lp, f in group])]
    try:
        values = score_255_batch(*stacks, metrics=names, profile=profile)
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
                  metrics: list[Metric], profile: str, cache: Cache,
                  summary: RunSummary) -> dict[str, dict[str, float]]:
    """Scores per pair key: each metric's value from the pair's cache entry where it was
    computed by the same metric code (unless refreshed), the others computed in batches.

    A pair's entry holds ``{metric: [signature, value]}``, so a run with other metrics or
    an edited metric adds to it rather than recomputing the rest."""
    signatures = metric_signatures(metrics, profile)
    keys = {m.name: m.key for m in metrics}
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
            summary.scored_cached += 1
            continue
        fused = gray_of(decode_png(png))
        todo[(fused.shape, missing)].append((key, loaded, fused))
    for (_, missing), group in todo.items():
        names = [keys[name] for name in missing]
        for (key, loaded, _), result in zip(group, _score_group(group, names, profile)):
            if "__error__" in result:
                summary.fail(method.name, loaded.pair, result["__error__"])
                scores.pop(loaded.pair.key)
                continue
            entry = {**entries[key], **{name: [signatures[name], value]
                                        for name, value in result.items()}}
            cache.put_json(key, entry, "scores")
            scores[loaded.pair.key] = {name: entry[name][1] for name in signatures}
            summary.scored_now += 1
    return scores


def score_all(plan: Plan, inputs: Inputs, fused_png: dict[tuple[str, str], bytes],
              profile: str, cache: Cache, summary: RunSummary) -> list[Score]:
    """Every score of the run (from the cache or computed), one per number."""
    by_key = inputs.by_key()
    scores: list[Score] = []
    for method in [*plan.methods, *plan.folders]:
        items = [(lp, fused_png[(method.name, lp.pair.key)]) for lp in inputs.loaded
                 if (method.name, lp.pair.key) in fused_png]
        for pair_key, values in _score_method(method, items, plan.metrics, profile, cache,
                                              summary).items():
            pair = by_key[pair_key].pair
            scores.extend(Score(method.name, plan.dataset.name, pair.pair_type, pair.name,
                                metric, value) for metric, value in values.items())
    return scores


def _dataset_record(dataset: Dataset, split: str, inputs: Inputs) -> dict[str, str]:
    """Name, split and content hash: a dataset is named, never located, in results."""
    digest = hashlib.sha256("".join(f"{lp.pair.key}:{lp.input_hash};"
                                    for lp in inputs.loaded).encode())
    return {"name": dataset.name, "split": split, "hash": digest.hexdigest()}


def write_results(plan: Plan, inputs: Inputs, scores: list[Score], config: RunConfig,
                  summary: RunSummary) -> None:
    """``scores.csv`` and ``run.json`` (then the reports when ``config.report``)."""
    out, root = plan.out, getattr(plan.dataset, "root", None)
    roots = [r for r in (root, *(f.root for f in plan.folders), out, config.cache_dir) if r]
    for failure in summary.failures:
        failure["message"] = strip_roots(failure["message"], roots)
    summary.failures.sort(key=lambda f: (f["method"], f["pair"], f["image"]))
    write_scores(out / "scores.csv", scores, [m.name for m in plan.metrics])
    write_run_info(out / "run.json", {
        "software": {"name": "mmif-bench", "version": __version__},
        "profile": config.profile,
        "dataset": _dataset_record(plan.dataset, config.split, inputs),
        "methods": plan.info(),
        "not_run": plan.not_run,
        "not_applicable": summary.not_applicable,
        "metrics": {m.name: {"higher_is_better": m.higher_is_better, "needs_sources": m.needs_sources,
                             "reference": m.reference, "description": m.description, "unit": m.unit}
                    for m in plan.metrics},
        "pairs": [{"pair": lp.pair.pair_type, "image": lp.pair.name,
                   "file_a": _within(lp.pair.path_a, root), "file_b": _within(lp.pair.path_b, root),
                   "hash": lp.input_hash} for lp in inputs.loaded],
        "notes": inputs.notes,
        "skipped": [{"where": _within(p.where, root), "message": strip_roots(p.message, roots)}
                    for p in inputs.skipped],
        "failures": summary.failures,
        "plugin_errors": load_errors(),
    })
    if config.report:
        from .reporting import write_report

        write_report(out, source_root=root)


def run(config: RunConfig | None = None, log: Log = _stderr, **options: Any) -> RunSummary:
    """Run the benchmark described by ``config`` (or by :class:`RunConfig`'s fields given
    as keyword arguments: ``run(methods=["mean"], out="results")``); see the module
    docstring."""
    if config is None:
        config = RunConfig(**options)
    elif options:
        raise TypeError("give either a RunConfig or its fields as keyword arguments, not both")
    plan = configure(config, log)
    inputs = load_inputs(plan.dataset, config.split, plan.metrics, log)
    summary = RunSummary(plan.out, EXIT_OK, plan.dataset.name, len(inputs.loaded),
                         skipped=inputs.skipped)
    cache = Cache(config.cache_dir or plan.out / ".cache")
    fused_png = fuse_all(plan, inputs, config, cache, summary, log)
    scores = score_all(plan, inputs, fused_png, config.profile, cache, summary)
    write_results(plan, inputs, scores, config, summary)
    if cache.corrupt:
        log(f"recomputed {len(cache.corrupt)} corrupt or unreadable cache entries")
    if not scores:
        summary.exit_code = EXIT_NOTHING
    elif summary.failures or inputs.skipped:
        summary.exit_code = EXIT_PARTIAL
    log(f"{plan.dataset.name}: {len(inputs.loaded)} pairs x "
        f"{len(plan.methods) + len(plan.folders)} methods; fused "
        f"{summary.fused_now} (cached {summary.fused_cached}), scored {summary.scored_now} "
        f"(cached {summary.scored_cached}); {len(summary.failures)} failures, "
        f"{len(inputs.skipped)} skipped; results in {plan.out}")
    return summary
