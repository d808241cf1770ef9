"""An example mmif-bench plugin package: one fusion method and one metric."""
from __future__ import annotations

import numpy as np

from mmif_bench import Method, Metric, Option


class WeightedAverage(Method):
    """F = w A + (1 - w) B, with the MRI weight ``w`` settable as ``weighted:w=0.7``."""

    name = "weighted"
    options = {"w": Option(0.5, "weight of the first source (MRI)", "float")}

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        w = float(self.config["w"])
        return (w * a + (1.0 - w) * b).astype(np.float32)


def _mae_to_a(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.abs(F - A).reshape(len(F), -1).mean(axis=1)


MAE_A = Metric("MAE_A", _mae_to_a, higher_is_better=False, needs_sources=True,
               reference="example", description="mean absolute difference to the MRI",
               unit="grey levels")
