"""Fusion metrics: registered plugins and the evaluation API.

``evaluate(fused, a, b, names=None, profile="default")`` scores one image triple on the
0..255 scale; ``evaluate_batch`` scores N x H x W stacks (the runner's path).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from mmif_bench.metric import Metric
from mmif_bench.registry import get_metric, list_metrics


def _as_stack(x: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"{what} must be H x W or N x H x W, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} holds NaN or Inf values; metrics need finite pixels")
    return array


def resolve(names: Iterable[str] | None, profile: str = "default") -> list[Metric]:
    """Metric objects for ``names`` (every metric of ``profile`` when None)."""
    keys = list_metrics(profile) if names is None else list(names)
    metrics = []
    for key in keys:
        if profile != "default" and "." not in key:
            key = f"{profile}.{key}"
        metrics.append(get_metric(key))
    return metrics


def evaluate_batch(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
                   names: Iterable[str] | None = None,
                   profile: str = "default") -> dict[str, np.ndarray]:
    """Score N x H x W stacks; returns ``{metric name: N values}``."""
    F, A, B = (_as_stack(x, w) for x, w in ((fused, "fused"), (a, "a"), (b, "b")))
    if not (F.shape == A.shape == B.shape):
        raise ValueError(f"shape mismatch: fused {F.shape}, a {A.shape}, b {B.shape}")
    return {metric.name: np.asarray(metric.compute(F, A, B), dtype=np.float64)
            for metric in resolve(names, profile)}


def evaluate(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
             names: Iterable[str] | None = None, profile: str = "default") -> dict[str, float]:
    """Score one fused image against its two sources (2-D arrays, 0..255 scale)."""
    return {name: float(values[0])
            for name, values in evaluate_batch(fused, a, b, names, profile).items()}
