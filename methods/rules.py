"""Helpers the fusion methods share: coefficient selection and the output contract."""
from __future__ import annotations

import numpy as np


def max_abs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Element-wise choose-max rule: the coefficient of larger magnitude (``x`` on ties)."""
    return np.where(np.abs(x) >= np.abs(y), x, y)


def to_unit(fused: np.ndarray) -> np.ndarray:
    """A fused image as the method contract wants it: float32, clipped to [0, 1]."""
    return np.clip(fused, 0.0, 1.0).astype(np.float32, copy=False)
