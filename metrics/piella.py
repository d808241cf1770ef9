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
from .jit import kernel

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


@kernel
def _flat_window_variance(value: float, window: np.ndarray) -> float:
    """E[x^2] - E[x]^2 of a window holding the constant ``value``, as the reference's
    ``filter2(window, x, 'valid')`` computes it in Octave (``conv2``'s inner kernel: one
    axpy per window weight, column by column, from 0): rounding noise of about 1e-11
    at 255, or exactly 0, depending on the value."""
    mean, square = 0.0, 0.0
    for weight in window:
        mean += weight * value
        square += weight * (value * value)
    return square - mean * mean


@kernel
def _flat_windows(x: np.ndarray, size: int, flat: np.ndarray) -> None:
    """``flat[r, c]``: whether x is constant over the size x size window at (r, c)
    ('valid' positions), from runs of equal values along the rows and then down the
    columns."""
    height, width = x.shape
    row_flat = np.zeros((height, width - size + 1), dtype=np.bool_)
    for r in range(height):
        run = 1
        for c in range(width):
            run = run + 1 if c > 0 and x[r, c] == x[r, c - 1] else 1
            if run >= size:
                row_flat[r, c - size + 1] = True
    for c in range(width - size + 1):
        run = 0
        for r in range(height):
            if row_flat[r, c]:
                run = run + 1 if run > 0 and x[r, c] == x[r - 1, c] else 1
            else:
                run = 0
            if r >= size - 1:
                flat[r - size + 1, c] = run >= size


@kernel
def _source_variances(x: np.ndarray, mean: np.ndarray, square: np.ndarray, flat: np.ndarray,
                      r: int, window: np.ndarray, memo: np.ndarray, out: np.ndarray) -> None:
    """Local variances of a source along 'valid' row r: E[x^2] - E[x]^2 from the window
    means, or where the window is constant the noise the reference computes there
    (:func:`_flat_window_variance`; ``memo`` keeps the last value and its noise)."""
    for c in range(out.shape[0]):
        out[c] = square[c] - mean[c] * mean[c]
    for c in range(out.shape[0]):
        if flat[c]:
            value = x[r, c]
            if value != memo[0]:
                memo[0], memo[1] = value, _flat_window_variance(value, window)
            out[c] = memo[1]


@kernel
def _ssim(mu_f: float, var_f: float, mu_x: float, var_x: float, cov: float) -> float:
    """Wang's SSIM from window moments, in ``ssim_index``'s order of operations."""
    return ((2.0 * (mu_f * mu_x) + C1) * (2.0 * cov + C2)) / (
        (mu_f * mu_f + mu_x * mu_x + C1) * (var_f + var_x + C2))


@kernel
def _piella_sums(f: np.ndarray, ff: np.ndarray, y: np.ndarray, yy: np.ndarray, fy: np.ndarray,
                 sources: tuple, flats: np.ndarray, window: np.ndarray, out: np.ndarray) -> None:
    """Sums over the 'valid' region of Piella's local quality
    ``Q = lambda S(F,A) + (1 - lambda) S(F,B)``, of ``c Q`` and of the saliency
    ``c = max(s_A^2, s_B^2)`` into ``out`` (3), from the window means of one image
    triple: F, F^2 (h x w), and per source (2 x h x w) X, X^2, FX.

    The saliency share uses the source variances of :func:`_source_variances`, with
    0.5 added to both where they sum to exactly 0; the SSIM maps use the plain moments
    (their C2 drowns the rounding noise)."""
    width = f.shape[1]
    memos, variances = np.zeros((2, 2)), np.empty((2, width))
    total, weighted, saliency_total = 0.0, 0.0, 0.0
    for r in range(f.shape[0]):
        for k in range(2):
            _source_variances(sources[k], y[k, r], yy[k, r], flats[k, r], r, window, memos[k],
                              variances[k])
        for c in range(width):
            mu_f, mu_a, mu_b = f[r, c], y[0, r, c], y[1, r, c]
            var_f = ff[r, c] - mu_f * mu_f
            ssim_a = _ssim(mu_f, var_f, mu_a, yy[0, r, c] - mu_a * mu_a, fy[0, r, c] - mu_f * mu_a)
            ssim_b = _ssim(mu_f, var_f, mu_b, yy[1, r, c] - mu_b * mu_b, fy[1, r, c] - mu_f * mu_b)
            var_a, var_b = variances[0, c], variances[1, c]
            fix = FLAT_SALIENCY if var_a + var_b == 0.0 else 0.0
            var_a += fix
            var_b += fix
            share = var_a / (var_a + var_b)
            quality = share * ssim_a + (1.0 - share) * ssim_b
            saliency = max(var_a, var_b)
            total += quality
            weighted += saliency * quality
            saliency_total += saliency
    out[0], out[1], out[2] = total, weighted, saliency_total


def _piella_totals(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Per image (N x 3): the sums of Q, c Q and c of :func:`_piella_sums` divided by
    the number of windows (Q_S, and Q_W's numerator and denominator)."""
    m = window_means(F, (A, B), gaussian_taps(WINDOW, SIGMA))
    _, n, h, w = m.x.shape
    flats = np.empty((2, h, w), dtype=np.bool_)
    out = np.empty((n, 3))
    for i in range(n):
        for k, source in enumerate((A, B)):
            _flat_windows(source[i], WINDOW, flats[k])
        _piella_sums(m.x[0, i], m.xx[0, i], m.y[:, i], m.yy[:, i], m.xy[:, i], (A[i], B[i]),
                     flats, _octave_window(), out[i])
    return out / (h * w)


def _weighted_index(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Piella's Q_W: ``sum(c Q) / sum(c)`` of :func:`_piella_sums`."""
    totals = _piella_totals(F, A, B)
    return totals[:, 1] / totals[:, 2]


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
    return _piella_totals(F, A, B)[:, 0]


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
