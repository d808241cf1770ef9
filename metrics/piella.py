"""Piella's SSIM-based fusion indices as Liu's ``metricPeilla`` and MEFB's ``metricsQw``
compute them: Q_S, Q_W, Piella's Q_E, and MEFB's edge-image Q_W.

The building block is Wang's ``ssim_index``: an 11 x 11 Gaussian window (sigma 1.5,
normalised), 'valid' filtering, K = (0.01, 0.03), L = 255, the E[x^2] - E[x]^2 moments.
One pass of streamed window moments (:func:`metrics.filters.window_means`) of F against
A and B gives both SSIM maps and the source variances. Definitions and traps:
``docs/metrics.md`` ("The metric canon").

References
----------
.. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP 2003,
   vol. 3, 173-176.
.. [2] Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment:
   from error visibility to structural similarity", IEEE TIP 13(4), 600-612, 2004.
"""
from __future__ import annotations

import functools

import numpy as np

from .filters import filter3x3, gaussian_taps, window_means

WINDOW, SIGMA = 11, 1.5
C1, C2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
FLAT_SALIENCY = 0.5  # added to both variances where their sum is exactly 0
PREWITT_X = np.array([[1.0, 0.0, -1.0]] * 3)   # Liu's flt1 (filter2: correlation)
PREWITT_Y = PREWITT_X.T.copy()                 # flt2 = [1 1 1; 0 0 0; -1 -1 -1]
EDGE_EXPONENT = 1.0  # alpha of Q_E, as in the reference code


@functools.cache
def _octave_window() -> np.ndarray:
    """``fspecial('gaussian', 11, 1.5)`` as Octave computes it (a sequential sum
    normalises it), column-major: the order in which ``conv2`` visits it."""
    half = (WINDOW - 1) / 2.0
    offsets = np.arange(-half, half + 1)
    window = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2.0 * SIGMA * SIGMA))
    total = 0.0
    for weight in window.ravel(order="F"):
        total += weight
    return (window / total).ravel(order="F")


def _flat_window_variance(values: np.ndarray) -> np.ndarray:
    """E[x^2] - E[x]^2 of windows holding the constant ``values``, as the reference's
    ``filter2(window, x, 'valid')`` computes it in Octave (``conv2``'s inner kernel: one
    axpy per window weight, column by column): rounding noise of about 1e-12 at 255,
    or exactly 0, depending on the value."""
    mean, square = np.zeros(values.shape), np.zeros(values.shape)
    squares = values * values
    for weight in _octave_window():
        mean += weight * values
        square += weight * squares
    return square - mean * mean


def _box_counts(x: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Sums of x over every rows x columns window ('valid'), exact for integers."""
    n, h, w = x.shape
    table = np.zeros((n, h + 1, w + 1), dtype=np.int64)
    np.cumsum(np.cumsum(x, axis=1), axis=2, out=table[:, 1:, 1:])
    return (table[:, rows:, columns:] - table[:, :-rows, columns:]
            - table[:, rows:, :-columns] + table[:, :-rows, :-columns])


def _source_variance(x: np.ndarray, mean: np.ndarray, square: np.ndarray) -> np.ndarray:
    """Local variance of a source over the 'valid' windows, where the window is constant
    replaced by the rounding noise the reference computes there
    (:func:`_flat_window_variance`).

    Where both sources are flat the saliency share is a ratio of that noise (or the 0.5
    fix where both are exactly 0): with F equal to neither source there, the quality
    of such a pixel depends on it (on an MRI-PET pair with saturated MRI regions, Q_S
    moves by 4e-4 relative), so the fast separable filter's own noise would not do."""
    variance = square - mean * mean
    steps_right = (x[:, :, 1:] != x[:, :, :-1]).astype(np.int64)
    steps_down = (x[:, 1:, :] != x[:, :-1, :]).astype(np.int64)
    flat = ((_box_counts(steps_right, WINDOW, WINDOW - 1) == 0)
            & (_box_counts(steps_down, WINDOW - 1, WINDOW) == 0))
    image, row, column = np.nonzero(flat)
    variance[image, row, column] = _flat_window_variance(x[image, row, column])
    return variance


def _quality_map(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Piella's local quality ``lambda S(F,A) + (1 - lambda) S(F,B)`` over the 'valid'
    region and the saliency ``max(s_A^2, s_B^2)`` (N x h x w each), with 0.5 added to
    both variances where their sum is exactly 0."""
    m = window_means(F, (A, B), gaussian_taps(WINDOW, SIGMA))
    mu_f = m.x[0]
    var_f = m.xx[0] - mu_f * mu_f
    ssim, variance = [], []
    for k, source in enumerate((A, B)):
        mu_x = m.y[k]
        var_x = m.yy[k] - mu_x * mu_x
        cov = m.xy[k] - mu_f * mu_x
        ssim.append(((2.0 * (mu_f * mu_x) + C1) * (2.0 * cov + C2))
                    / ((mu_f * mu_f + mu_x * mu_x + C1) * (var_f + var_x + C2)))
        variance.append(_source_variance(source, mu_x, m.yy[k]))
    flat = FLAT_SALIENCY * ((variance[0] + variance[1]) == 0)
    var_a, var_b = variance[0] + flat, variance[1] + flat
    share = var_a / (var_a + var_b)
    return share * ssim[0] + (1.0 - share) * ssim[1], np.maximum(var_a, var_b)


def _weighted_index(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``sum(c Q) / sum(c)`` with c the saliency of :func:`_quality_map`."""
    quality, saliency = _quality_map(F, A, B)
    return (saliency * quality).sum(axis=(1, 2)) / saliency.sum(axis=(1, 2))


def _edge_images(x: np.ndarray) -> np.ndarray:
    """``sqrt((X * [1 0 -1]x3)^2 + (X * [1 1 1; 0 0 0; -1 -1 -1])^2)``, ``filter2
    'same'`` (correlation, zero padding), unnormalised Prewitt-type kernels."""
    gx, gy = filter3x3(x, PREWITT_X, "constant"), filter3x3(x, PREWITT_Y, "constant")
    return np.sqrt(gx * gx + gy * gy)


def piella_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_S: Piella's fusion quality index (Liu ``metricPeilla(A, B, F, 1)``), at most 1,
    higher is better.

    With Wang's SSIM maps S (11 x 11 Gaussian, sigma 1.5, 'valid', C1 = (0.01 * 255)^2,
    C2 = (0.03 * 255)^2; not the UIQI on 8 x 8 windows of the paper) and the local
    **variances** s_A^2, s_B^2 of the sources (0.5 added to both where their sum is
    exactly 0): ``lambda = s_A^2 / (s_A^2 + s_B^2)``,
    ``Q_S = mean of lambda S(F,A) + (1 - lambda) S(F,B)`` over the valid region.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255; at least 11 x 11.

    Returns
    -------
    ndarray, N
        Dimensionless.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    quality, _ = _quality_map(F, A, B)
    return quality.mean(axis=(1, 2))


def piella_weighted_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_W: Piella's weighted fusion quality index (Liu ``metricPeilla(A, B, F, 2)``), at
    most 1, higher is better.

    The local quality of :func:`piella_quality` weighted by the saliency
    ``c = max(s_A^2, s_B^2) / sum max(s_A^2, s_B^2)`` (variances as adjusted there):
    ``Q_W = sum c (lambda S(F,A) + (1 - lambda) S(F,B))``.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255; at least 11 x 11.

    Returns
    -------
    ndarray, N
        Dimensionless.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    return _weighted_index(F, A, B)


def piella_edge_weighted_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MEFB's "Qw" (``metricsQw``): Piella's Q_W on the edge images only, at most 1,
    higher is better.

    ``Q_W(A', B', F')`` of :func:`piella_weighted_quality` with the edge images
    ``X' = sqrt((X * [1 0 -1; 1 0 -1; 1 0 -1])^2 + (X * [1 1 1; 0 0 0; -1 -1 -1])^2)``
    (``filter2 'same'``). MEFB hard-codes Piella's edge branch and drops the Q_W(A,B,F)
    factor of Q_E (``Qe = Qw^alpha``, alpha = 1): this is **not** Piella's Q_W of the
    images; with alpha = 1, Q_E = Q_W x this.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255; at least 11 x 11.

    Returns
    -------
    ndarray, N
        Dimensionless.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    .. [2] X. Zhang, "Benchmarking and comparing multi-exposure image fusion
       algorithms", Information Fusion 74, 111-131, 2021 (MEFB).
    """
    return _weighted_index(_edge_images(F), _edge_images(A), _edge_images(B))


def piella_edge_dependent_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_E: Piella's edge-dependent fusion quality index, at most 1, higher is better.

    ``Q_E = Q_W(A, B, F) * Q_W(A', B', F')^alpha`` with alpha = 1 and the edge images
    of :func:`piella_edge_weighted_quality`. **Piella's definition, not Liu's code**:
    Liu's ``metricPeilla(A, B, F, 3)`` multiplies by an undefined variable ``Q`` and
    stops with an error in MATLAB and Octave, so it has no reference value; the
    factors are Liu's Q_W and MEFB's Qw, each checked against its reference.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255; at least 11 x 11.

    Returns
    -------
    ndarray, N
        Dimensionless.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    return (piella_weighted_quality(F, A, B)
            * piella_edge_weighted_quality(F, A, B) ** EDGE_EXPONENT)
