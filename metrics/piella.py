"""Piella's SSIM-based fusion indices as Liu's ``metricPeilla`` and MEFB's ``metricsQw``
compute them: Q_S, Q_W, Piella's Q_E, and MEFB's edge-image Q_W.

The building block is Wang's ``ssim_index``: an 11 x 11 Gaussian window (sigma 1.5,
normalised), 'valid' filtering, K = (0.01, 0.03), L = 255, the E[x^2] - E[x]^2 moments.
One pass of streamed window moments (:func:`metrics.filters.moment_block`) of F against
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

from .filters import (
    STREAM_BLOCK_ROWS,
    gaussian_taps,
    moment_block,
    moment_means,
    moment_scratch,
)
from .jit import kernel, sum_kernel

WINDOW, SIGMA = 11, 1.5
C1, C2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
FLAT_SALIENCY = 0.5  # added to both variances where their sum is exactly 0
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


@sum_kernel
def _piella_row(m: np.ndarray, sources: tuple, flats: np.ndarray, row: int,
                window: np.ndarray, memos: np.ndarray, variances: np.ndarray,
                out: np.ndarray) -> None:
    """Add the sums over one 'valid' row of Piella's local quality
    ``Q = lambda S(F,A) + (1 - lambda) S(F,B)``, of ``c Q`` and of the saliency
    ``c = max(s_A^2, s_B^2)`` to ``out`` (3), from the row's window means ``m`` (planes
    F, F^2, A, A^2, FA, B, B^2, FB, as :func:`metrics.filters.moment_block` orders them).

    The saliency share uses the source variances of :func:`_source_variances`, with
    0.5 added to both where they sum to exactly 0; the SSIM maps use the plain moments
    (their C2 drowns the rounding noise)."""
    for k in range(2):
        _source_variances(sources[k], m[2 + 3 * k], m[3 + 3 * k], flats[k, row], row, window,
                          memos[k], variances[k])
    total, weighted, saliency_total = 0.0, 0.0, 0.0
    for c in range(m.shape[1]):
        mu_f, mu_a, mu_b = m[0, c], m[2, c], m[5, c]
        var_f = m[1, c] - mu_f * mu_f
        ssim_a = _ssim(mu_f, var_f, mu_a, m[3, c] - mu_a * mu_a, m[4, c] - mu_f * mu_a)
        ssim_b = _ssim(mu_f, var_f, mu_b, m[6, c] - mu_b * mu_b, m[7, c] - mu_f * mu_b)
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
    out[0] += total
    out[1] += weighted
    out[2] += saliency_total


@kernel
def _piella_sums(f: np.ndarray, a: np.ndarray, b: np.ndarray, taps: np.ndarray,
                 flats: np.ndarray, window: np.ndarray, out: np.ndarray) -> None:
    """The sums of :func:`_piella_row` over every 'valid' row of one image triple into
    ``out`` (3), the window moments streamed (:func:`metrics.filters.moment_block`,
    :func:`metrics.filters.moment_means`: a block's planes stay in the L2 cache and
    each row of means is used at once)."""
    rows = f.shape[0] - len(taps) + 1
    planes, lines, means = moment_scratch(f.shape[1], 2, taps)
    memos, variances = np.zeros((2, 2)), np.empty((2, means.shape[2]))
    out[:] = 0.0
    for top in range(0, rows, STREAM_BLOCK_ROWS):
        block = moment_block(f, (a, b), taps, top, planes)
        for r in range(0, block, 2):
            for q in range(moment_means(planes, r, block, taps, lines, means)):
                _piella_row(means[q], (a, b), flats, top + r + q, window, memos, variances, out)


def _piella_totals(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Per image (N x 3): the sums of Q, c Q and c of :func:`_piella_sums` divided by
    the number of windows (Q_S, and Q_W's numerator and denominator)."""
    n, h, w = F.shape
    if min(h, w) < WINDOW:
        raise ValueError(f"{h}x{w} images are smaller than the {WINDOW}x{WINDOW} window")
    F, A, B = (np.ascontiguousarray(x, dtype=np.float64) for x in (F, A, B))
    flats = np.empty((2, h - WINDOW + 1, w - WINDOW + 1), dtype=np.bool_)
    out = np.empty((n, 3))
    for i in range(n):
        for k, source in enumerate((A, B)):
            _flat_windows(source[i], WINDOW, flats[k])
        _piella_sums(F[i], A[i], B[i], gaussian_taps(WINDOW, SIGMA), flats, _octave_window(),
                     out[i])
    return out / (flats.shape[1] * flats.shape[2])


def _weighted_index(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Piella's Q_W: ``sum(c Q) / sum(c)`` of :func:`_piella_sums`."""
    totals = _piella_totals(F, A, B)
    return totals[:, 1] / totals[:, 2]


@kernel
def _edge_image(padded: np.ndarray, out: np.ndarray) -> None:
    """``sqrt((X * [1 0 -1]x3)^2 + (X * [1 1 1; 0 0 0; -1 -1 -1])^2)`` of one image
    given with a border of zeros (``filter2 'same'``: correlation, zero padding; exact
    responses on integer values)."""
    for r in range(out.shape[0]):
        up, row, down = padded[r], padded[r + 1], padded[r + 2]
        edges = out[r]
        for c in range(out.shape[1]):
            gx = (up[c] - up[c + 2]) + (row[c] - row[c + 2]) + (down[c] - down[c + 2])
            gy = (up[c] + up[c + 1] + up[c + 2]) - (down[c] + down[c + 1] + down[c + 2])
            edges[c] = np.sqrt(gx * gx + gy * gy)


def _edge_images(x: np.ndarray) -> np.ndarray:
    """Prewitt-type edge magnitude of each image (:func:`_edge_image`)."""
    _, h, w = x.shape
    padded = np.zeros((h + 2, w + 2))
    out = np.empty(x.shape)
    for image, edges in zip(x, out):
        padded[1:-1, 1:-1] = image
        _edge_image(padded, edges)
    return out


def piella_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_S: Piella's fusion quality index (Liu ``metricPeilla(.., 1)``); higher is better.

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
        Dimensionless, at most 1.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    return _piella_totals(F, A, B)[:, 0]


def piella_weighted_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_W: Piella's weighted fusion quality index (Liu ``metricPeilla(.., 2)``); higher is better.

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
        Dimensionless, at most 1.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    return _weighted_index(F, A, B)


def piella_edge_weighted_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MEFB's Qw (``metricsQw``): Piella's Q_W of the edge images only; higher is better.

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
        Dimensionless, at most 1.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    .. [2] X. Zhang, "Benchmarking and comparing multi-exposure image fusion
       algorithms", Information Fusion 74, 111-131, 2021 (MEFB).
    """
    return _weighted_index(_edge_images(F), _edge_images(A), _edge_images(B))


def piella_edge_dependent_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_E: Piella's edge-dependent fusion quality index (Q_W x edge Q_W); higher is better.

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
        Dimensionless, at most 1.

    References
    ----------
    .. [1] G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP
       2003, vol. 3, 173-176.
    """
    return (piella_weighted_quality(F, A, B)
            * piella_edge_weighted_quality(F, A, B) ** EDGE_EXPONENT)
