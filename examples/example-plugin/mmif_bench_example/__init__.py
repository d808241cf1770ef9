"""An example mmif-bench plugin package: two fusion methods (one with a published weight
file, declared, fetched and loaded as a network's would be) and one metric."""
from __future__ import annotations

import numpy as np

from mmif_bench import Method, Metric, Option, WeightFile


class WeightedAverage(Method):
    """F = w A + (1 - w) B, with the MRI weight ``w`` settable as ``weighted:w=0.7``."""

    name = "weighted"
    options = {"w": Option(0.5, "weight of the first source (MRI)", "float")}

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        w = float(self.config["w"])
        return (w * a + (1.0 - w) * b).astype(np.float32)


MRI_WEIGHT = WeightFile(
    "example/mri-weight.txt", url="https://example.org/mmif-bench-example/mri-weight.txt",
    size=4, sha256="3b1add489f8961560bc1562f10cabcf762bce961623cca362f0128522fe1ed29",
    licence="MIT")
"""The published "weights" of :class:`LearnedAverage` (a copy is in ``weights/`` here)."""


class LearnedAverage(Method):
    """F = w A + (1 - w) B with ``w`` read from a published weight file: how a plugin
    declares a file (``weight_files``) that ``mmif-bench fetch weights learned`` fetches,
    verifies and :meth:`weight_path` finds."""

    name = "learned"
    weight_files = {"weights": MRI_WEIGHT}
    options = {"weights": Option("", "file holding w; default: the fetched "
                                     f"{MRI_WEIGHT.name}", "path")}

    def __init__(self, **config: object) -> None:
        super().__init__(**config)
        self.w = float(self.weight_path("weights").read_text())

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return (self.w * a + (1.0 - self.w) * b).astype(np.float32)


def _mae_to_a(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.abs(F - A).reshape(len(F), -1).mean(axis=1)


MAE_A = Metric("MAE_A", _mae_to_a, higher_is_better=False, needs_sources=True,
               reference="example", description="mean absolute difference to the MRI",
               unit="grey levels")
