"""The metric plugin type: a batched function plus its metadata (pyiqa-style)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

BatchFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A fusion quality measure.

    ``compute(F, A, B)`` takes N x H x W float64 stacks on the 0..255 scale (fused, first
    source, second source) and returns N values. ``higher_is_better`` gives the direction
    used for ranking and arrows; ``needs_sources`` is False for no-reference measures
    (EN, SD, SF, AG). ``profile`` names the evaluator convention the value follows
    (``default``, ``vifb``, ``tang``).
    """

    name: str
    compute: BatchFn
    higher_is_better: bool
    needs_sources: bool
    reference: str
    description: str = ""
    unit: str = ""
    profile: str = "default"
    min_size: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Registry name: ``NAME`` in the default profile, ``profile.NAME`` otherwise."""
        return self.name if self.profile == "default" else f"{self.profile}.{self.name}"

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"
