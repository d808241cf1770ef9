"""Pixel-wise baselines: the average and the maximum of the two sources."""
from __future__ import annotations

import numpy as np

from mmif_bench.method import Method


class MeanFusion(Method):
    """Pixel-wise average, F = (A + B) / 2: the simplest fusion rule."""

    name = "mean"
    display_name = "Mean"

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        total = a.astype(np.float32, copy=False) + b.astype(np.float32, copy=False)
        total /= 2.0  # in place on the fresh sum
        return total

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        return self.fuse(a, b)


class MaxFusion(Method):
    """Pixel-wise maximum, F = max(A, B): keeps the brighter source at every pixel."""

    name = "max"
    display_name = "Max"

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return np.maximum(a, b).astype(np.float32)

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        return self.fuse(a, b)
