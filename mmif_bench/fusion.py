"""Fusing one shard of pairs with one method: the unit of work the executors run.

Colour handling lives here, not in methods: each source goes in as its luma Y; a fused
result is recombined with the functional image's Cb/Cr (:mod:`mmif_bench.colour`).
Every failure of a method on a pair (exception, NaN/Inf, wrong shape or dtype, values
outside [0, 1], timeout) is caught and recorded for that pair only.
"""
from __future__ import annotations

import contextlib
import json
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .allocator import keep_freed_memory
from .cache import Cache, make_key
from .colour import merge_fused, split_source
from .dataset import Pair, content_hash
from .fsutil import atomic_write_bytes
from .imageio import encode_png
from .method import Method, as_method
from .registry import PluginSpec
from .scores import fused_image_path

RANGE_TOLERANCE = 1e-4  # float rounding slack on the [0, 1] output range


class MethodOutputError(RuntimeError):
    """A method returned something that is not a valid fused image."""


class PairTimeout(RuntimeError):
    """A method took longer than the per-pair time limit."""


@dataclass(frozen=True)
class FuseTask:
    """One method applied to a shard of pairs; everything a worker needs."""

    method: str
    spec: PluginSpec
    options: dict[str, Any]
    fingerprint: str
    pairs: tuple[Pair, ...]
    input_hashes: tuple[str, ...]
    out_dir: str
    cache_dir: str
    timeout: float | None = None


@dataclass
class PairOutcome:
    """What happened to one pair: ``error`` is None on success."""

    method: str
    pair_key: str
    fused_key: str
    error: str | None = None


@dataclass
class PreparedPair:
    """Method inputs (Y channels) and the chroma to restore."""

    a: np.ndarray
    b: np.ndarray
    cbcr: np.ndarray | None
    modality: str | None = None
    b_colour: np.ndarray | None = None  # the second image as RGB in [0, 1], if colour

    def inputs(self, method: Method) -> tuple[np.ndarray, np.ndarray]:
        """The images ``method`` fuses: the lumas, or the colour second image as it is for
        a method that declares ``colour_input``."""
        if getattr(method, "colour_input", False) and self.b_colour is not None:
            return self.a, self.b_colour
        return self.a, self.b


def prepare(a_pixels: np.ndarray, b_pixels: np.ndarray,
            modality: str | None = None) -> PreparedPair:
    """Split the sources into method inputs; the chroma comes from the colour source.
    ``modality`` is the second image's (``"CT"``, ``"PET"``, ``"SPECT"``)."""
    a_y, a_cbcr = split_source(a_pixels)
    b_y, b_cbcr = split_source(b_pixels)
    b_colour = (b_pixels / np.float32(255.0)).astype(np.float32) if b_pixels.ndim == 3 else None
    return PreparedPair(a_y, b_y, b_cbcr if b_cbcr is not None else a_cbcr, modality, b_colour)


def fused_key(fingerprint: str, input_hash: str) -> str:
    return make_key("fused", fingerprint, input_hash)


def check_output(fused: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Validate a method's output; raise :class:`MethodOutputError` describing the fault."""
    if not isinstance(fused, np.ndarray):
        raise MethodOutputError(f"returned {type(fused).__name__}, expected a numpy array")
    if fused.shape != shape:
        raise MethodOutputError(f"returned shape {fused.shape}, expected {shape}")
    if not np.issubdtype(fused.dtype, np.floating):
        raise MethodOutputError(f"returned dtype {fused.dtype}, expected float in [0, 1]")
    if not np.all(np.isfinite(fused)):
        raise MethodOutputError("returned NaN or Inf values")
    lo, hi = float(fused.min()), float(fused.max())
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise MethodOutputError(f"returned values in [{lo:.4g}, {hi:.4g}], outside [0, 1]")
    return fused


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`PairTimeout` after ``seconds`` (main thread only; else no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: Any) -> None:
        raise PairTimeout(f"took longer than the per-pair timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=8)
def _method_instance(spec: PluginSpec, options_key: str) -> Method:
    return as_method(spec.load(), **json.loads(options_key))


def load_method(task: FuseTask) -> Method:
    """The method object of a task, created once per worker process (which first sets
    the allocator: :func:`~mmif_bench.allocator.keep_freed_memory`)."""
    keep_freed_memory()
    return _method_instance(task.spec, json.dumps(task.options, sort_keys=True, default=str))


def _fuse_one(method: Method, prepared: PreparedPair, timeout: float | None) -> np.ndarray:
    with time_limit(timeout):
        fused = method.fuse(*prepared.inputs(method), modality=prepared.modality)
    return check_output(fused, prepared.a.shape)


def _fuse_group(method: Method, prepared: list[PreparedPair],
                timeout: float | None) -> list[Any]:
    """Fused images or exceptions for pairs of one shape and modality: a single pair
    through ``fuse``, several through ``fuse_batch`` (retried pair by pair on a failure)."""
    if len(prepared) > 1:
        try:
            with time_limit(timeout * len(prepared) if timeout else None):
                a, b = zip(*(p.inputs(method) for p in prepared))
                batch = method.fuse_batch(np.stack(a), np.stack(b),
                                          modality=prepared[0].modality)
            check_output(batch, (len(prepared),) + prepared[0].a.shape)
            return list(batch)
        except Exception:
            pass  # retry pair by pair so that the failure is pinned to its pair
    results: list[Any] = []
    for item in prepared:
        try:
            results.append(_fuse_one(method, item, timeout))
        except Exception as error:
            results.append(error)
    return results


def _fuse_many(method: Method, prepared: list[PreparedPair], timeout: float | None) -> list[Any]:
    """Fused images or exceptions, one per pair, in order; pairs are grouped by shape and
    modality so that each group can go through ``fuse_batch`` at once."""
    groups: dict[tuple, list[int]] = {}
    for index, item in enumerate(prepared):
        groups.setdefault((item.a.shape, item.modality), []).append(index)
    results: list[Any] = [None] * len(prepared)
    for indices in groups.values():
        for index, result in zip(indices, _fuse_group(method, [prepared[i] for i in indices],
                                                      timeout)):
            results[index] = result
    return results


def run_fuse_task(task: FuseTask, method: Method | None = None) -> list[PairOutcome]:
    """Fuse a shard, writing each result to the cache and ``OUT/fused`` atomically;
    ``method`` is the task's method instance when the caller holds it (in the process
    that planned the run), else it is created here once per process."""
    cache = Cache(task.cache_dir)
    outcomes: dict[int, PairOutcome] = {}
    prepared: dict[int, PreparedPair] = {}
    for index, (pair, expected) in enumerate(zip(task.pairs, task.input_hashes)):
        key = fused_key(task.fingerprint, expected)
        outcomes[index] = PairOutcome(task.method, pair.key, key)
        try:
            a, b = pair.load()
            if content_hash(a.pixels, b.pixels) != expected:
                raise RuntimeError(f"{pair.path_a}: input changed while the run was going on")
            prepared[index] = prepare(a.pixels, b.pixels, pair.modalities[1])
        except Exception as error:
            outcomes[index].error = f"could not load the pair: {error}"
    try:
        method = load_method(task) if method is None else method
    except Exception as error:
        for outcome in outcomes.values():
            outcome.error = outcome.error or f"method failed to start: {type(error).__name__}: {error}"
        return list(outcomes.values())
    order = sorted(prepared)
    results = _fuse_many(method, [prepared[i] for i in order], task.timeout)
    for index, result in zip(order, results):
        outcome = outcomes[index]
        if isinstance(result, Exception):
            outcome.error = f"{type(result).__name__}: {result}"
            continue
        pixels = merge_fused(result, prepared[index].cbcr)
        png = encode_png(pixels)
        pair = task.pairs[index]
        cache.put(outcome.fused_key, png, "fused")  # first: a visible image is a cached one
        atomic_write_bytes(fused_image_path(task.out_dir, task.method, pair.pair_type, pair.name),
                           png)
    return [outcomes[i] for i in sorted(outcomes)]
