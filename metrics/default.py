"""Default-profile metrics (the CDDFuse-style evaluator); see docs/metrics.md."""
from __future__ import annotations

import numpy as np

from mmif_bench.metric import Metric


def entropy(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """EN: Shannon entropy (bits) of the 256-bin histogram of F rounded to uint8."""
    out = np.empty(len(F))
    for i, image in enumerate(F):
        counts = np.bincount(np.clip(np.round(image), 0, 255).astype(np.int64).ravel(), minlength=256)
        p = counts[counts > 0] / image.size
        out[i] = -np.sum(p * np.log2(p))
    return out


def standard_deviation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SD: population standard deviation of F."""
    return F.reshape(len(F), -1).std(axis=1)


EN = Metric("EN", entropy, True, False, "Roberts et al., J. Appl. Remote Sens. 2008", unit="bits")
SD = Metric("SD", standard_deviation, True, False, "Rao, Measurement 1997")
