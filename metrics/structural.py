"""Structural similarity: the batched SSIM map primitive, SSIM and MS-SSIM.

Public, stable names: :func:`ssim_maps` (any window and covariance convention, for
other profiles), :func:`fusion_ssim`, :func:`fusion_ms_ssim`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .filters import (
    STREAM_BLOCK_ROWS,
    gaussian_taps,
    halve,
    moment_block,
    moment_means,
    moment_scratch,
    window_means,
)
from .jit import kernel
from .validation import checked

K1, K2 = 0.01, 0.03
DATA_RANGE = 255.0
SSIM_WINDOW = 7  # scikit-image's default uniform window
MS_SSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
MS_SSIM_WINDOW, MS_SSIM_SIGMA = 11, 1.5
MS_SSIM_MIN_SIZE = MS_SSIM_WINDOW * 2 ** (len(MS_SSIM_WEIGHTS) - 1)  # 176, as msssim.m


def ssim_maps(x: np.ndarray, y: Sequence[np.ndarray], taps: np.ndarray, correction: float = 1.0,
              data_range: float = DATA_RANGE) -> tuple[np.ndarray, np.ndarray]:
    """SSIM map and contrast-structure map of each image pair over the 'valid' region.

    Window ``outer(taps, taps)``; local variances and covariance scaled by
    ``correction``; ``y`` is K stacks like ``x`` (see
    :func:`metrics.filters.window_means`): the maps are K x N x h x w. With
    ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``:
    ``cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2)`` and
    ``ssim = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) * cs``. The correction is
    applied to C2 instead (``cs = (2 s'_xy + C2 / c) / (s'_x^2 + s'_y^2 + C2 / c)`` with
    the uncorrected s'), the same value up to rounding.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality
       assessment: from error visibility to structural similarity", IEEE Trans. Image
       Process. 13(4), 600-612, 2004.
    """
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2 / correction
    m = window_means(x, y, taps)
    mu_x = m.x[0]
    var_x_c2 = m.xx[0]  # s'_x^2 + C2 / c, shared by every y plane
    var_x_c2 -= np.square(mu_x)
    var_x_c2 += c2
    mu_x_c1 = np.square(mu_x)  # mu_x^2 + C1
    mu_x_c1 += c1
    for k in range(len(m.y)):  # one image plane per operation: the working set fits L2
        mu_y, cs = m.y[k], m.xy[k]
        product = np.multiply(mu_x, mu_y)
        cs -= product
        cs *= 2.0
        cs += c2
        denominator = m.yy[k]
        np.square(mu_y, out=mu_y)
        denominator -= mu_y
        denominator += var_x_c2
        cs /= denominator
        product *= 2.0
        product += c1
        mu_y += mu_x_c1
        product /= mu_y
        np.multiply(product, cs, out=denominator)
    return m.yy, m.xy


@kernel
def _box_row_sums(columns: np.ndarray, size: int, out: np.ndarray) -> None:
    """``out[p, c] = sum(columns[p, c:c + size])`` for every plane p."""
    for p in range(columns.shape[0]):
        line, result = columns[p], out[p]
        result[:] = line[:result.shape[0]]
        for j in range(1, size):
            for c in range(result.shape[0]):
                result[c] += line[c + j]


@kernel
def _slide_rows(x: np.ndarray, y: tuple, i: int, new: int, old: int,
                columns: np.ndarray) -> None:
    """Move the running column sums of x, x^2 and per source y, y^2, xy (planes in that
    order) of image i down a row: add row ``new`` of x (N x H x W) and of each stack
    in y, and subtract row ``old`` (nothing while ``old`` < 0)."""
    xn, xo = x[i, new], x[i, max(old, 0)]
    keep = 1.0 if old >= 0 else 0.0
    cx, cxx = columns[0], columns[1]
    for c in range(xn.shape[0]):
        cx[c] += xn[c] - keep * xo[c]
        cxx[c] += xn[c] * xn[c] - keep * (xo[c] * xo[c])
    for k in range(len(y)):
        yn, yo = y[k][i, new], y[k][i, max(old, 0)]
        cy, cyy, cxy = columns[2 + 3 * k], columns[3 + 3 * k], columns[4 + 3 * k]
        for c in range(xn.shape[0]):
            cy[c] += yn[c] - keep * yo[c]
            cyy[c] += yn[c] * yn[c] - keep * (yo[c] * yo[c])
            cxy[c] += xn[c] * yn[c] - keep * (xo[c] * yo[c])


@kernel
def _ssim_row(sx: np.ndarray, sxx: np.ndarray, sy: np.ndarray, syy: np.ndarray,
              sxy: np.ndarray, mean: float, c1: float, c2: float, correction: float,
              out: np.ndarray) -> None:
    """SSIM of one row of pixels from their window sums (scikit-image's order)."""
    for c in range(out.shape[0]):
        mx, my = sx[c] * mean, sy[c] * mean
        vx = correction * (sxx[c] * mean - mx * mx)
        vy = correction * (syy[c] * mean - my * my)
        vxy = correction * (sxy[c] * mean - mx * my)
        out[c] = ((2.0 * mx * my + c1) * (2.0 * vxy + c2)
                  / ((mx * mx + my * my + c1) * (vx + vy + c2)))


@kernel
def _ssim_box_means(x: np.ndarray, y: tuple, size: int, c1: float, c2: float,
                    correction: float, columns: np.ndarray, sums: np.ndarray,
                    out: np.ndarray) -> None:
    """Mean SSIM over the 'valid' region with a ``size x size`` uniform window, into
    ``out`` (K x N); x is N x H x W, y a tuple of K such stacks; ``columns``
    (2 + 3K x W) and ``sums`` (2 + 3K x W - size + 1) are scratch space.

    Window sums of x, x^2 and per source y, y^2, xy are running column sums (add the
    row entering the window, subtract the one leaving it) followed by a horizontal
    sum over ``size`` columns; exact on integer-valued images, where every sum is an
    integer below 2^53. Per pixel, scikit-image's order: means
    ``S * (1 / size^2)`` (one rounding more than its division), then
    ``v = correction (S_xx / size^2 - mu_x^2)`` and so on.
    """
    images, height, width = x.shape
    sources = len(y)
    mean = 1.0 / (size * size)
    ssim = np.empty(width - size + 1)
    for i in range(images):
        columns[:] = 0.0
        total = np.zeros(sources)
        for r in range(height):
            _slide_rows(x, y, i, r, r - size, columns)
            if r < size - 1:
                continue
            _box_row_sums(columns, size, sums)
            for k in range(sources):
                _ssim_row(sums[0], sums[1], sums[2 + 3 * k], sums[3 + 3 * k], sums[4 + 3 * k],
                          mean, c1, c2, correction, ssim)
                total[k] += ssim.sum()
        pixels = (height - size + 1) * ssim.shape[0]
        for k in range(sources):
            out[k, i] = total[k] / pixels


@checked("SSIM", SSIM_WINDOW)
def fusion_ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SSIM: ``SSIM(F, A) + SSIM(F, B)`` (sum; best value 2).

    scikit-image ``structural_similarity`` defaults with ``data_range=255``: 7x7 uniform
    window, sample covariance (49/48), K1 = 0.01, K2 = 0.03, mean of the map over the
    pixels at least 3 away from the border (the 'valid' region). One compiled pass
    (:func:`_ssim_box_means`).
    """
    area = SSIM_WINDOW * SSIM_WINDOW
    columns, sums = np.empty((8, F.shape[2])), np.empty((8, F.shape[2] - SSIM_WINDOW + 1))
    means = np.empty((2, len(F)))
    _ssim_box_means(F, (A, B), SSIM_WINDOW, (K1 * DATA_RANGE) ** 2, (K2 * DATA_RANGE) ** 2,
                    area / (area - 1.0), columns, sums, means)
    return means.sum(axis=0)


@kernel
def _ssim_row_sums(mx: np.ndarray, xx: np.ndarray, my: np.ndarray, yy: np.ndarray,
                   xy: np.ndarray, c1: float, c2: float) -> tuple[float, float]:
    """Sums of the SSIM and contrast-structure values of one row of window means, in
    :func:`ssim_maps`' order of operations."""
    ssim_sum, cs_sum = 0.0, 0.0
    for c in range(mx.shape[0]):
        product = mx[c] * my[c]
        cs = ((xy[c] - product) * 2.0 + c2) / ((yy[c] - my[c] * my[c])
                                               + ((xx[c] - mx[c] * mx[c]) + c2))
        luminance = (product * 2.0 + c1) / (my[c] * my[c] + (mx[c] * mx[c] + c1))
        ssim_sum += luminance * cs
        cs_sum += cs
    return ssim_sum, cs_sum


@kernel
def _ssim_means(x: np.ndarray, y: tuple, taps: np.ndarray, c1: float, c2: float,
                out: np.ndarray) -> None:
    """Means of the SSIM and cs maps of :func:`ssim_maps` (correction 1) of one image
    x against each image of ``y`` into ``out`` (K x 2), the window moments streamed
    (:func:`metrics.filters.moment_block`, :func:`metrics.filters.moment_means`)."""
    rows, columns = x.shape[0] - len(taps) + 1, x.shape[1] - len(taps) + 1
    planes, lines, means = moment_scratch(x.shape[1], len(y), taps)
    out[:] = 0.0
    for top in range(0, rows, STREAM_BLOCK_ROWS):
        block = moment_block(x, y, taps, top, planes)
        for r in range(0, block, 2):
            for q in range(moment_means(planes, r, block, taps, lines, means)):
                m = means[q]
                for k in range(len(y)):
                    ssim_sum, cs_sum = _ssim_row_sums(m[0], m[1], m[2 + 3 * k], m[3 + 3 * k],
                                                      m[4 + 3 * k], c1, c2)
                    out[k, 0] += ssim_sum
                    out[k, 1] += cs_sum
    out /= rows * columns


@checked("MS_SSIM", MS_SSIM_MIN_SIZE)
def fusion_ms_ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MS-SSIM: ``MS-SSIM(F, A) + MS-SSIM(F, B)`` (sum; best value 2).

    Wang-Simoncelli-Bovik as in their ``msssim.m``: five scales with weights
    (0.0448, 0.2856, 0.3001, 0.2363, 0.1333); at each scale an 11x11 Gaussian window
    (sigma 1.5), population statistics, 'valid' region, L = 255; between scales a 2x2
    mean and subsampling by 2 (:func:`metrics.filters.halve`).
    ``MS-SSIM = prod_{j=1..4} mean(cs_j)^w_j * mean(ssim_5)^w_5``; a negative mean
    (anti-correlated structure, where the formula has no real value) counts as 0.
    Images under 176 px on the shorter side (11 * 2^4, the bound of ``msssim.m``) are
    refused with a ValueError.

    References
    ----------
    .. [1] Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural similarity
       for image quality assessment", Proc. 37th Asilomar Conf. Signals, Systems and
       Computers, 1398-1402, 2003.
    """
    taps = gaussian_taps(MS_SSIM_WINDOW, MS_SSIM_SIGMA)
    x, y = F, (A, B)
    value = np.ones((2, len(F)))
    last = len(MS_SSIM_WEIGHTS) - 1
    means = np.empty((2, 2))  # per source: mean SSIM, mean cs
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        for i in range(len(F)):
            _ssim_means(x[i], (y[0][i], y[1][i]), taps, (K1 * DATA_RANGE) ** 2,
                        (K2 * DATA_RANGE) ** 2, means)
            value[:, i] *= np.maximum(means[:, 0 if level == last else 1], 0.0) ** weight
        if level < last:
            x, y = halve(x), tuple(halve(stack) for stack in y)
    return value.sum(axis=0)
