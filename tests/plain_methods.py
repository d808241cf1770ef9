"""Test-only methods defined as plain functions in an importable module."""
from __future__ import annotations

import numpy as np


def brightest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The pixelwise maximum, as the built-in ``max``."""
    return np.maximum(a, b)
