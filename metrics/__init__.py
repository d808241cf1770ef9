"""Fusion metrics: registered plugins and the evaluation API.

``evaluate(fused, a, b, names=None, profile="default")`` scores one image triple on the
0..255 scale; ``evaluate_batch`` scores N x H x W stacks (the runner's path).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from mmif_bench.metric import Metric
from mmif_bench.registry import get_metric, list_metrics

from .validation import as_stacks


def resolve(names: Iterable[str] | None, profile: str = "default") -> list[Metric]:
    """Metric objects for ``names`` (every metric of ``profile`` when None); names of a
    non-default profile may omit the ``profile.`` prefix."""
    keys = list_metrics(profile) if names is None else list(names)
    return [get_metric(key if profile == "default" or "." in key else f"{profile}.{key}")
            for key in keys]


def evaluate_batch(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
                   names: Iterable[str] | None = None,
                   profile: str = "default") -> dict[str, np.ndarray]:
    """Score N x H x W stacks; returns ``{metric name: N values}``.

    Inputs are checked once (same shapes, finite values; ValueError otherwise) and
    before any computation every requested metric's ``min_size`` is compared with the
    image size, so a too small image fails with the names of the metrics it is too
    small for.
    """
    F, A, B = as_stacks(fused, a, b)
    metrics = resolve(names, profile)
    _, height, width = F.shape
    too_big = [f"{m.name} (min {m.min_size}x{m.min_size})" for m in metrics
               if min(height, width) < m.min_size]
    if too_big:
        raise ValueError(f"{height}x{width} images are too small for {', '.join(too_big)}; "
                         f"drop these metrics with names=... or use larger images")
    return {metric.name: np.asarray(metric.compute(F, A, B), dtype=np.float64)
            for metric in metrics}


def evaluate(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
             names: Iterable[str] | None = None, profile: str = "default") -> dict[str, float]:
    """Score one fused image against its two sources (2-D arrays, 0..255 scale)."""
    return {name: float(values[0])
            for name, values in evaluate_batch(fused, a, b, names, profile).items()}
