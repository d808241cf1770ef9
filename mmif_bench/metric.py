"""The metric plugin type: a batched function plus its metadata (pyiqa-style), and the
input checks every metric path shares."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field

import numpy as np

BatchFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def arrow(higher_is_better: bool) -> str:
    """The direction mark shown next to a metric name: ``↑`` or ``↓``."""
    return "↑" if higher_is_better else "↓"


@dataclass(frozen=True)
class Metric:
    """A fusion quality measure, built with keyword arguments after name and function:
    ``Metric("EN", fn, higher_is_better=True, needs_sources=False, reference=...)``.

    Parameters
    ----------
    name : str
        The name its scores carry (``EN``); the registry key is :attr:`key`.
    compute : callable
        ``compute(F, A, B)`` takes N x H x W float64 stacks on the 0..255 scale (fused,
        first source, second source) and returns N values.
    higher_is_better : bool
        The direction used for ranking and arrows.
    needs_sources : bool
        False for no-reference measures (EN, SD, SF, AG).
    reference : str
        The paper defining the measure, in short (shown in the reports).
    description, unit : str
        One line on what it measures, and its unit ("" for none).
    profile : str
        The evaluator convention the value follows (``default``, ``vifb``, ``tang``, or a
        plugin's own); ``mmif-bench run --profile`` offers every declared one.
    min_size : int
        The smallest image side the measure's windows allow.
    bibtex : str
        BibTeX of the defining paper(s); the run records it and the reports cite it.

    References
    ----------
    .. [1] Z. Liu et al., "Objective assessment of multiresolution image fusion algorithms
       for context enhancement in night vision: a comparative study", IEEE TPAMI 34(1),
       94-109, 2012.
    .. [2] C. Chen, J. Mo, "IQA-PyTorch: PyTorch toolbox for image quality assessment"
       (pyiqa: metrics created by name with their metadata), 2022.
    """

    name: str
    compute: BatchFn
    _: KW_ONLY
    higher_is_better: bool
    needs_sources: bool
    reference: str
    description: str = ""
    unit: str = ""
    profile: str = "default"
    min_size: int = 1
    bibtex: str = ""
    """BibTeX entry (or entries) of the paper(s) defining the measure ("" for none); the
    reports cite it and write it to ``leaderboard.bib``."""
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Registry name: ``NAME`` in the default profile, ``profile.NAME`` otherwise."""
        return self.name if self.profile == "default" else f"{self.profile}.{self.name}"

    @property
    def arrow(self) -> str:
        return arrow(self.higher_is_better)

    def compute_checked(self, F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``compute`` on stacks that :func:`as_stacks` has already checked (and whose
        size ``min_size`` allows): a function that validates its own input may offer
        the same computation without those checks as its ``unchecked`` attribute,
        which is then used (one check per batch instead of one per metric)."""
        return getattr(self.compute, "unchecked", self.compute)(F, A, B)


def as_stack(x: np.ndarray, what: str) -> np.ndarray:
    """A float64 N x H x W stack of finite values from a 2-D image or a 3-D stack."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"{what} must be H x W or N x H x W, got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    if not np.isfinite(array.sum()):  # one pass; a NaN or Inf anywhere makes the sum non-finite
        if np.all(np.isfinite(array)):
            raise ValueError(f"{what} holds values too large to score (|v| near 1e308)")
        raise ValueError(f"{what} holds NaN or Inf values; metrics need finite pixels")
    return array


def as_stacks(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
              min_size: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked stacks of the same shape, each image at least ``min_size`` on both sides."""
    F, A, B = as_stack(fused, "fused"), as_stack(a, "a"), as_stack(b, "b")
    if not (F.shape == A.shape == B.shape):
        raise ValueError(f"shape mismatch: fused {F.shape}, a {A.shape}, b {B.shape}")
    _, h, w = F.shape
    if min(h, w) < min_size:
        raise ValueError(f"{h}x{w} images are too small: this metric needs at least "
                         f"{min_size}x{min_size} pixels")
    return F, A, B
