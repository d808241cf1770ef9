"""Scoring fused images: what a benchmark number means, in one place.

:func:`evaluate` takes images as users hold them (uint8, or float in [0, 1]; gray or RGB)
and scores them exactly as the runner scores a method's result: the fused image is
quantised to the 8-bit image the runner saves (a gray fused result of a colour pair first
gets the colour source's Cb/Cr back, :mod:`mmif_bench.colour`), then the luma of every
image is scored. :func:`score_255` and :func:`score_255_batch` are the metric functions
themselves, on images or N x H x W stacks already on the 0..255 scale.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .allocator import keep_freed_memory
from .colour import merge_fused
from .fusion import MethodOutputError, check_output, prepare
from .imageio import gray_of
from .metric import Metric, as_stacks
from .registry import get_metrics, list_metrics


def resolve_metrics(names: Iterable[str] | None, profile: str = "default") -> list[Metric]:
    """Metric objects for ``names`` (every metric of ``profile`` when None); names of a
    non-default profile may omit the ``profile.`` prefix."""
    keys = list_metrics(profile) if names is None else list(names)
    chosen = get_metrics([key if profile == "default" or "." in key else f"{profile}.{key}"
                          for key in keys])
    by_name: dict[str, str] = {}
    for metric in chosen:  # results are keyed by name: two metrics may not share one
        if by_name.setdefault(metric.name, metric.key) != metric.key:
            raise ValueError(f"{by_name[metric.name]} and {metric.key} are both named "
                             f"{metric.name!r} in results; score them in separate runs")
    return chosen


def score_255_batch(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
                    metrics: Iterable[str] | None = None,
                    profile: str = "default") -> dict[str, np.ndarray]:
    """Score N x H x W stacks on the 0..255 scale: the metric functions themselves.

    Inputs are checked once (same shapes, finite values; ValueError otherwise) and
    before any computation every requested metric's ``min_size`` is compared with the
    image size, so a too small image fails with the names of the metrics it is too
    small for.

    Parameters
    ----------
    fused, a, b : ndarray
        N x H x W (or H x W) stacks of the fused images and the two sources, gray values
        on the 0..255 scale.
    metrics : list of str, optional
        Metric names (default: every metric of ``profile``); names of a non-default
        profile may omit its ``profile.`` prefix.
    profile : str
        A metric convention the registered metrics declare (``default``, ``vifb``,
        ``tang``, ...).

    Returns
    -------
    dict of str to ndarray
        ``{metric name: N values}`` (float64), in the order of ``metrics``.

    References
    ----------
    .. [1] Z. Liu et al., "Objective assessment of multiresolution image fusion algorithms
       for context enhancement in night vision: a comparative study", IEEE TPAMI 34(1),
       94-109, 2012.
    """
    keep_freed_memory()  # once per process: metrics reuse freed memory
    F, A, B = as_stacks(fused, a, b)
    chosen = resolve_metrics(metrics, profile)
    _, height, width = F.shape
    too_big = [f"{m.name} (min {m.min_size}x{m.min_size})" for m in chosen
               if min(height, width) < m.min_size]
    if too_big:
        raise ValueError(f"{height}x{width} images are too small for {', '.join(too_big)}; "
                         f"drop these metrics with metrics=... or use larger images")
    return {metric.name: np.asarray(metric.compute_checked(F, A, B), dtype=np.float64)
            for metric in chosen}


def score_255(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
              metrics: Iterable[str] | None = None, profile: str = "default") -> dict[str, float]:
    """Score one fused image against its two sources (2-D arrays on the 0..255 scale)."""
    return {name: float(values[0])
            for name, values in score_255_batch(fused, a, b, metrics, profile).items()}


def as_uint8_image(image: np.ndarray, what: str) -> np.ndarray:
    """A uint8 gray (H x W) or RGB (H x W x 3) image from uint8, or float in [0, 1]
    (``round(v * 255)``, the rule :mod:`mmif_bench.imageio` applies to float files)."""
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f"{what} must be H x W (gray) or H x W x 3 (RGB), got {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{what} has dtype {array.dtype}; pass uint8 or float in [0, 1]")
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError(f"{what} is float outside [0, 1]; pass uint8 or float in [0, 1] "
                         f"(for 0..255 float arrays use score_255)")
    return np.round(array.astype(np.float64) * 255.0).astype(np.uint8)


def saved_fused_image(fused: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The uint8 image the runner saves for a fused result (``a``, ``b`` uint8 sources).

    A 2-D float result is a method's fused luma: it is validated as the runner validates
    a method's output and recombined with the colour source's Cb/Cr. A uint8 or RGB
    image is taken as already saved.
    """
    array = np.asarray(fused)
    if array.ndim == 2 and np.issubdtype(array.dtype, np.floating):
        try:
            check_output(array, a.shape[:2])
        except MethodOutputError as error:
            raise ValueError(f"fused image (a method's output): {error}") from None
        return merge_fused(array, prepare(a, b).cbcr)
    return as_uint8_image(array, "fused")


def evaluate(fused: np.ndarray, a: np.ndarray, b: np.ndarray,
             metrics: Iterable[str] | None = None, profile: str = "default") -> dict[str, float]:
    """Score a fused image as the benchmark does; returns ``{metric name: value}``.

    Parameters
    ----------
    fused : ndarray
        A method's output (2-D float in [0, 1], the fused luma) or a saved fused image
        (uint8, or float in [0, 1], gray or H x W x 3 RGB).
    a, b : ndarray
        The sources (MRI, then CT/PET/SPECT) as read from the dataset: uint8 or float in
        [0, 1], gray or RGB.
    metrics : list of str, optional
        Metric names (default: every metric of ``profile``).
    profile : str
        Metric convention: ``default``, ``vifb``, ``tang`` or another the registered
        metrics declare.

    Returns
    -------
    dict of str to float
        ``{metric name: value}``, equal to what ``mmif-bench run`` records for the image.

    References
    ----------
    .. [1] Z. Liu et al., "Objective assessment of multiresolution image fusion algorithms
       for context enhancement in night vision: a comparative study", IEEE TPAMI 34(1),
       94-109, 2012.
    """
    a8, b8 = as_uint8_image(a, "a"), as_uint8_image(b, "b")
    if a8.shape[:2] != b8.shape[:2]:
        raise ValueError(f"a is {a8.shape[:2]} but b is {b8.shape[:2]}; sources must match")
    saved = saved_fused_image(fused, a8, b8)
    if saved.shape[:2] != a8.shape[:2]:
        raise ValueError(f"fused is {saved.shape[:2]} but the sources are {a8.shape[:2]}")
    return score_255(gray_of(saved), gray_of(a8), gray_of(b8), metrics, profile)
