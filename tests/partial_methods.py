"""Test-only methods that cannot run everywhere: one needs a weight file, one has a model
for MRI-CT pairs only."""
from __future__ import annotations

import numpy as np

from mmif_bench import Method, Option, WeightFile


class NeedsWeights(Method):
    """Declares a published weight file that no test folder holds."""

    name = "needs_weights"
    options = {"weights": Option("", "the weight file", "path")}
    weight_files = {"weights": WeightFile("NeedsWeights-never-published.pth",
                                          url="https://example.invalid/never-published.pth",
                                          sha256="0" * 64)}

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)


class CTOnly(Method):
    """Has a model for MRI-CT pairs only; other pairs are not applicable."""

    name = "ct_only"
    modalities = ("CT",)

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        if modality != "CT":
            raise AssertionError(f"fused a {modality} pair it has no model for")
        return np.minimum(a, b)
