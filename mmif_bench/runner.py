"""The benchmark runner: methods x dataset pairs x metrics, cached and resumable.

A run (1) lists and validates the dataset's pairs, (2) fuses every (method, pair) that
the cache does not already hold, in shards handed to an executor, (3) scores the saved
8-bit fused images (their luma) against the gray sources with the batched metric path,
and (4) writes ``scores.csv``, ``run.json`` and the leaderboard reports.

Exit codes: 0 everything ran; 3 some pairs were skipped or some (method, pair) failed
(all that succeeded is still written); 4 nothing could be scored.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from . import __version__
from .cache import Cache, make_key
from .config import data_root as configured_data_root
from .dataset import Dataset, Pair, Problem, content_hash
from .executors import create_executor, shard
from .fusion import FuseTask, PairOutcome, fused_image_path, fused_key
from .imageio import atomic_write_bytes, decode_png, gray_of
from .metric import Metric
from .method import method_fingerprint, method_options, method_weight_files
from .registry import (create_dataset, create_method, get, list_methods, load_errors,
                       method_spec, missing_weights)
from .results import Score, write_run_info, write_scores
from .weights import MissingWeightsError, fetch_command

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 3, 4


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


@dataclass
class LoadedPair:
    pair: Pair
    input_hash: str
    gray_a: np.ndarray
    gray_b: np.ndarray


def default_dataset_name() -> str:
    """``harvard`` when its data is configured or fetched, else the built-in ``phantom``."""
    return "harvard" if configured_data_root() is not None else "phantom"


def _metrics_signature(metrics: list[Metric], profile: str) -> str:
    """Names, profile and the source of the metric code: a change invalidates scores.

    Hashes every ``.py`` file in the folders of the modules holding the compute
    functions, so that a change in a helper module (shared filters, say) counts too.
    """
    digest = hashlib.sha256(profile.encode())
    folders = set()
    for metric in metrics:
        digest.update(metric.key.encode())
        module = inspect.getmodule(metric.compute)
        if module is not None and getattr(module, "__file__", None):
            folders.add(Path(module.__file__).parent)
    for path in sorted(p for folder in folders for p in folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _within(path: str | Path, root: Path | None) -> str:
    """``path`` relative to the dataset folder, so that results hold no machine paths."""
    try:
        return Path(path).relative_to(root).as_posix() if root is not None else Path(path).name
    except ValueError:
        return Path(path).name


def _check_output_location(out: Path, dataset: Dataset) -> None:
    root = getattr(dataset, "root", None)
    if root is None:
        return
    out_abs, root_abs = out.resolve(), Path(root).resolve()
    if out_abs == root_abs or root_abs in out_abs.parents:
        raise ValueError(
            f"--out {out} is inside the dataset folder {root}; results are never written into "
            f"input folders: choose an output folder elsewhere"
        )


def _load_pairs(pairs: list[Pair], metrics: list[Metric], skipped: list[Problem]) -> list[LoadedPair]:
    min_size = max((m.min_size for m in metrics), default=1)
    needing = ", ".join(m.name for m in metrics if m.min_size == min_size)
    loaded = []
    for pair in pairs:
        try:
            a, b = pair.load()
        except Exception as error:
            skipped.append(Problem(str(pair.path_a), str(error)))
            continue
        height, width = a.pixels.shape[:2]
        if min(height, width) < min_size:
            skipped.append(Problem(str(pair.path_a), (
                f"image is {width}x{height}, smaller than the metrics' {min_size}x{min_size} "
                f"windows ({needing}); use larger images or leave those out with --metrics")))
            continue
        loaded.append(LoadedPair(pair, content_hash(a.pixels, b.pixels),
                                 gray_of(a.pixels), gray_of(b.pixels)))
    return loaded


def _score_method(method: str, items: list[tuple[LoadedPair, bytes]], metrics: list[Metric],
                  profile: str, signature: str, cache: Cache,
                  summary: RunSummary) -> dict[str, dict[str, float]]:
    """Scores per pair key, from the cache or the batched metric path."""
    from .metrics import evaluate_batch  # first-party metric plugins

    names = [m.key for m in metrics]
    scores: dict[str, dict[str, float]] = {}
    todo: dict[tuple[int, ...], list[tuple[str, LoadedPair, np.ndarray]]] = defaultdict(list)
    for loaded, png in items:
        key = make_key("scores", signature, hashlib.sha256(png).hexdigest(), loaded.input_hash)
        cached = cache.get_json(key, "scores")
        if isinstance(cached, dict):
            scores[loaded.pair.key] = cached
            summary.scored_cached += 1
            continue
        fused = gray_of(decode_png(png))
        todo[fused.shape].append((key, loaded, fused))
    for group in todo.values():
        stacks = [np.stack(x) for x in zip(*[(f, lp.gray_a, lp.gray_b) for _, lp, f in group])]
        try:
            values = evaluate_batch(*stacks, names=names, profile=profile)
            per_pair = [{m.name: float(values[m.name][i]) for m in metrics} for i in range(len(group))]
        except Exception:
            per_pair = []
            for _, loaded, fused in group:  # pin the failure to its pair
                try:
                    one = evaluate_batch(fused, loaded.gray_a, loaded.gray_b, names=names, profile=profile)
                    per_pair.append({name: float(v[0]) for name, v in one.items()})
                except Exception as error:
                    per_pair.append({"__error__": f"scoring failed: {type(error).__name__}: {error}"})
        for (key, loaded, _), result in zip(group, per_pair):
            if "__error__" in result:
                summary.failures.append({"method": method, "pair": loaded.pair.pair_type,
                                         "image": loaded.pair.name, "message": result["__error__"]})
                continue
            cache.put_json(key, result, "scores")
            scores[loaded.pair.key] = result
            summary.scored_now += 1
    return scores


def runnable_methods(config: RunConfig) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The methods to run and, for a default run (no ``methods``), those left out because
    their weight files are missing (name -> store name -> message naming the fetch
    command). Naming such a method raises :class:`MissingWeightsError`, before any work."""
    names = config.methods or list_methods()
    for name in names:
        method_spec(name)  # unknown names fail here, before any work
    missing = {name: found for name in names
               if (found := missing_weights(name, **config.method_options.get(name, {})))}
    if config.methods and missing:
        raise MissingWeightsError("; ".join(m for found in missing.values() for m in found.values()))
    return [name for name in names if name not in missing], missing


def _applicable(name: str, loaded: list[LoadedPair]) -> list[LoadedPair]:
    """The pairs method ``name`` has a model for (``Method.applies_to`` the second
    modality); the others are recorded as "not applicable", neither fused nor failed."""
    applies = getattr(get("methods", name), "applies_to", None)
    if not callable(applies):
        return list(loaded)
    return [lp for lp in loaded if applies(lp.pair.modalities[1])]


def run(config: RunConfig, log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> RunSummary:
    """Run the benchmark described by ``config``; see the module docstring."""
    from .metrics import resolve as resolve_metrics

    dataset = create_dataset(config.dataset or default_dataset_name(), config.data_root)
    out = Path(config.out)
    _check_output_location(out, dataset)
    metrics = resolve_metrics(config.metrics, config.profile)
    method_names, not_run = runnable_methods(config)
    listing = dataset.list_pairs(config.split)
    log(f"dataset: {dataset.name} ({dataset.description}), split {config.split}: "
        f"{len(listing.pairs)} pairs listed")
    if config.dataset is None and dataset.name == "phantom":
        log("note: no Harvard data configured, so this ran on the synthetic phantom; get the "
            "Harvard pairs with 'mmif-bench fetch harvard' (or set MMIF_BENCH_DATA)")
    for note in listing.notes:
        log(f"note: {note}")
    skipped = list(listing.problems)
    loaded = _load_pairs(listing.pairs, metrics, skipped)
    summary = RunSummary(out, EXIT_OK, dataset.name, len(loaded), skipped=skipped)
    for problem in skipped:
        log(f"skipped: {problem}")
    for found in not_run.values():
        log(f"not run: {'; '.join(found.values())}")

    cache = Cache(config.cache_dir or out / ".cache")
    methods_info: dict[str, dict[str, Any]] = {}
    tasks: list[FuseTask] = []
    fused_png: dict[tuple[str, str], bytes] = {}
    not_applicable: dict[str, list[str]] = {}
    for name in method_names:
        options = config.method_options.get(name, {})
        targets = _applicable(name, loaded)
        if len(targets) < len(loaded):
            not_applicable[name] = sorted({lp.pair.pair_type for lp in loaded}
                                          - {lp.pair.pair_type for lp in targets})
            log(f"{name}: not applicable to {', '.join(not_applicable[name])} (no model)")
        try:
            method = create_method(name, **options)
            fingerprint = method_fingerprint(method)
            methods_info[name] = {"options": method_options(method),
                                  "weights": method_weight_files(method),
                                  "fingerprint": fingerprint,
                                  "deterministic": bool(getattr(method, "deterministic", True))}
        except Exception as error:
            methods_info[name] = {"options": options, "error": f"{type(error).__name__}: {error}"}
            log(f"method {name} failed to start: {error}")
            for lp in targets:
                summary.failures.append({"method": name, "pair": lp.pair.pair_type,
                                         "image": lp.pair.name,
                                         "message": f"method failed to start: {error}"})
            continue
        pending = []
        for lp in targets:
            png = cache.get(fused_key(fingerprint, lp.input_hash), "fused")
            if png is None:
                pending.append(lp)
                continue
            fused_png[(name, lp.pair.key)] = png
            target = fused_image_path(out, name, lp.pair)
            if not target.is_file() or target.read_bytes() != png:  # a shared --cache-dir
                atomic_write_bytes(target, png)
            summary.fused_cached += 1
        for chunk in shard(pending, config.shard_size):
            tasks.append(FuseTask(name, method_spec(name), options, fingerprint,
                                  tuple(lp.pair for lp in chunk),
                                  tuple(lp.input_hash for lp in chunk), str(out),
                                  str(cache.root), config.timeout))

    by_key = {lp.pair.key: lp for lp in loaded}
    executor = create_executor(config.executor, config.jobs, config.scheduler)
    with tqdm(total=sum(len(t.pairs) for t in tasks), desc="fusing", unit="pair",
              disable=None, file=sys.stderr) as progress:
        for outcomes in executor.run(tasks):
            for outcome in outcomes:
                progress.update(1)
                lp = by_key[outcome.pair_key]
                png = None if outcome.error else cache.get(outcome.fused_key, "fused")
                if png is None:
                    message = outcome.error or "fused image missing from the cache after fusing"
                    summary.failures.append({"method": outcome.method, "pair": lp.pair.pair_type,
                                             "image": lp.pair.name, "message": message})
                    continue
                fused_png[(outcome.method, outcome.pair_key)] = png
                summary.fused_now += 1

    signature = _metrics_signature(metrics, config.profile)
    scores: list[Score] = []
    for name in method_names:
        items = [(lp, fused_png[(name, lp.pair.key)]) for lp in loaded if (name, lp.pair.key) in fused_png]
        for pair_key, values in _score_method(name, items, metrics, config.profile, signature,
                                              cache, summary).items():
            pair = by_key[pair_key].pair
            scores.extend(Score(name, dataset.name, pair.pair_type, pair.name, metric, value)
                          for metric, value in values.items())

    summary.failures.sort(key=lambda f: (f["method"], f["pair"], f["image"]))
    metric_names = [m.name for m in metrics]
    write_scores(out / "scores.csv", scores, metric_names)
    root = getattr(dataset, "root", None)
    write_run_info(out / "run.json", {
        "software": {"name": "mmif-bench", "version": __version__},
        "profile": config.profile,
        "dataset": {"name": dataset.name, "split": config.split,
                    "hash": hashlib.sha256("".join(
                        f"{lp.pair.key}:{lp.input_hash};" for lp in loaded).encode()).hexdigest()},
        "methods": methods_info,
        "not_run": {name: {"missing_weights": sorted(found), "fetch": fetch_command(name, found)}
                    for name, found in not_run.items()},
        "not_applicable": not_applicable,
        "metrics": {m.name: {"higher_is_better": m.higher_is_better, "needs_sources": m.needs_sources,
                             "reference": m.reference, "description": m.description, "unit": m.unit}
                    for m in metrics},
        "pairs": [{"pair": lp.pair.pair_type, "image": lp.pair.name,
                   "file_a": _within(lp.pair.path_a, root), "file_b": _within(lp.pair.path_b, root),
                   "hash": lp.input_hash} for lp in loaded],
        "skipped": [{"where": _within(p.where, root), "message": p.message} for p in skipped],
        "failures": summary.failures,
        "plugin_errors": load_errors(),
    })
    if cache.corrupt:
        log(f"recomputed {len(cache.corrupt)} corrupt cache entries")
    if config.report:
        from .reporting import write_report

        write_report(out, source_root=root)
    if not scores:
        summary.exit_code = EXIT_NOTHING
    elif summary.failures or skipped:
        summary.exit_code = EXIT_PARTIAL
    log(f"{dataset.name}: {len(loaded)} pairs x {len(method_names)} methods; fused "
        f"{summary.fused_now} (cached {summary.fused_cached}), scored {summary.scored_now} "
        f"(cached {summary.scored_cached}); {len(summary.failures)} failures, "
        f"{len(skipped)} skipped; results in {out}")
    return summary
