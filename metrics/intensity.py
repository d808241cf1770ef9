"""Pixel-statistics metrics of the default profile: SD, SF, AG, CC, SCD, PSNR.

All functions take N x H x W float64 stacks (fused F, sources A and B) on the 0..255
scale and return N values; see docs/metrics.md for conventions.
"""
from __future__ import annotations

import numpy as np

from .jit import kernel, sum_kernel
from .validation import checked


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


# Columns of pixel_moments: sums of products of centred values (d1 = F - B, d2 = F - A).
AA, BB, FF, AF, BF, A_D1, D1D1, B_D2, D2D2 = range(9)


@sum_kernel
def _pixel_moments(F: np.ndarray, A: np.ndarray, B: np.ndarray, out: np.ndarray) -> None:
    """Per image (rows of N x P flattened stacks) the 9 sums named by the column
    constants, in two passes: means first, then sums over the centred values
    (``sum((x - mean x)(y - mean y))``, as :func:`correlation`)."""
    images, pixels = F.shape
    for i in range(images):
        f, a, b = F[i], A[i], B[i]
        mf, ma, mb, m1, m2 = 0.0, 0.0, 0.0, 0.0, 0.0
        for p in range(pixels):
            mf += f[p]
            ma += a[p]
            mb += b[p]
            m1 += f[p] - b[p]
            m2 += f[p] - a[p]
        mf, ma, mb, m1, m2 = mf / pixels, ma / pixels, mb / pixels, m1 / pixels, m2 / pixels
        aa, bb, ff, af, bf, ad1, d1d1, bd2, d2d2 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        for p in range(pixels):
            da, db, df = a[p] - ma, b[p] - mb, f[p] - mf
            d1, d2 = (f[p] - b[p]) - m1, (f[p] - a[p]) - m2
            aa += da * da
            bb += db * db
            ff += df * df
            af += da * df
            bf += db * df
            ad1 += da * d1
            d1d1 += d1 * d1
            bd2 += db * d2
            d2d2 += d2 * d2
        out[i, AA], out[i, BB], out[i, FF], out[i, AF], out[i, BF] = aa, bb, ff, af, bf
        out[i, A_D1], out[i, D1D1], out[i, B_D2], out[i, D2D2] = ad1, d1d1, bd2, d2d2


@sum_kernel
def _centred_square_sums(x: np.ndarray, out: np.ndarray) -> None:
    """``sum((x - mean x)^2)`` of each row of x (two passes)."""
    for i in range(x.shape[0]):
        row, mean, total = x[i], 0.0, 0.0
        for p in range(row.shape[0]):
            mean += row[p]
        mean /= row.shape[0]
        for p in range(row.shape[0]):
            total += (row[p] - mean) * (row[p] - mean)
        out[i] = total


@sum_kernel
def _squared_errors(F: np.ndarray, A: np.ndarray, B: np.ndarray, out: np.ndarray) -> None:
    """Per row of the flattened stacks: ``sum((A - F)^2)`` and ``sum((B - F)^2)``."""
    for i in range(F.shape[0]):
        f, a, b = F[i], A[i], B[i]
        se_a, se_b = 0.0, 0.0
        for p in range(f.shape[0]):
            se_a += (a[p] - f[p]) * (a[p] - f[p])
            se_b += (b[p] - f[p]) * (b[p] - f[p])
        out[i, 0], out[i, 1] = se_a, se_b


def pixel_moments(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The N x 9 sums of :func:`_pixel_moments` (columns ``AA`` ... ``D2D2``)."""
    out = np.empty((len(F), 9))
    _pixel_moments(_flat(F), _flat(A), _flat(B), out)
    return out


def _correlation_of(xy: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Pearson correlation from centred sums, 0 where a variance is 0 (see
    :func:`correlation`)."""
    denominator = np.sqrt(xx * yy)
    return np.divide(xy, denominator, out=np.zeros(len(xy)), where=denominator > 0)


def correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation over all pixels of each image pair, N values.

    ``sum((x - mean x)(y - mean y)) / sqrt(sum((x - mean x)^2) sum((y - mean y)^2))``.
    Where x or y is constant the correlation is undefined; we return 0 (no linear
    relation) instead of the reference code's NaN.
    """
    m = pixel_moments(y, x, x)
    return _correlation_of(m[:, AF], m[:, AA], m[:, FF])


@checked("SD")
def standard_deviation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SD: population standard deviation of F (``numpy.std``, ddof 0).

    References
    ----------
    .. [1] Y.-J. Rao, "In-fibre Bragg grating sensors", Meas. Sci. Technol. 8(4), 1997.
    """
    sums = np.empty(len(F))
    _centred_square_sums(_flat(F), sums)
    return np.sqrt(sums / F[0].size)


@sum_kernel
def _difference_sums(F: np.ndarray, out: np.ndarray) -> None:
    """Per image: sums of squared horizontal and vertical first differences (N x 2)."""
    images, height, width = F.shape
    for i in range(images):
        across = down = 0.0
        for r in range(height):
            row = F[i, r]
            for c in range(width - 1):
                across += (row[c + 1] - row[c]) * (row[c + 1] - row[c])
            if r + 1 < height:
                below = F[i, r + 1]
                for c in range(width):
                    down += (below[c] - row[c]) * (below[c] - row[c])
        out[i, 0], out[i, 1] = across, down


@checked("SF")
def spatial_frequency(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SF: ``sqrt(mean(row differences^2) + mean(column differences^2))`` of F.

    The means are over the (H x (W-1)) horizontal and ((H-1) x W) vertical first
    differences (not over H*W as in the VIFB MATLAB code); a direction without
    differences (a one-pixel-wide image) contributes 0.

    References
    ----------
    .. [1] A. M. Eskicioglu, P. S. Fisher, "Image quality measures and their
       performance", IEEE Trans. Commun. 43(12), 1995.
    """
    _, h, w = F.shape
    sums = np.empty((len(F), 2))
    _difference_sums(F, sums)
    none = np.zeros(len(F))  # a direction without differences
    return np.sqrt((sums[:, 0] / (h * (w - 1)) if w > 1 else none)
                   + (sums[:, 1] / ((h - 1) * w) if h > 1 else none))


@kernel
def _gradient(line: np.ndarray, c: int) -> float:
    """``numpy.gradient`` of a 1-D line at index c (central inside, one-sided at the ends,
    0 for a single value)."""
    n = line.shape[0]
    if n < 2:
        return 0.0
    if c == 0:
        return line[1] - line[0]
    if c == n - 1:
        return line[n - 1] - line[n - 2]
    return (line[c + 1] - line[c - 1]) * 0.5


@sum_kernel
def _gradient_magnitude_sums(F: np.ndarray, out: np.ndarray) -> None:
    """Per image ``sum(sqrt((Gx^2 + Gy^2) / 2))`` with ``numpy.gradient`` differences."""
    images, height, width = F.shape
    for i in range(images):
        total = 0.0
        for r in range(height):
            row = F[i, r]
            up, down, scale = r, r, 0.0  # Gy = (F[down] - F[up]) * scale
            if height > 1:
                up, down = max(r - 1, 0), min(r + 1, height - 1)
                scale = 0.5 if 0 < r < height - 1 else 1.0
            low, high = F[i, up], F[i, down]
            for c in range(0, width, max(width - 1, 1)):  # the first and last column
                gx, gy = _gradient(row, c), (high[c] - low[c]) * scale
                total += np.sqrt((gx * gx + gy * gy) / 2.0)
            for c in range(1, width - 1):
                gx, gy = (row[c + 1] - row[c - 1]) * 0.5, (high[c] - low[c]) * scale
                total += np.sqrt((gx * gx + gy * gy) / 2.0)
        out[i] = total


@checked("AG")
def average_gradient(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """AG: mean over all H*W pixels of ``sqrt((Gx^2 + Gy^2) / 2)``.

    Gx, Gy are central differences ``(f[i+1] - f[i-1]) / 2`` inside and one-sided
    differences on the first and last row/column (``numpy.gradient``).

    References
    ----------
    .. [1] G. Cui, H. Feng, Z. Xu, Q. Li, Y. Chen, "Detail preserved fusion of visible
       and infrared images using regional saliency extraction and multi-scale image
       decomposition", Opt. Commun. 341, 2015.
    """
    sums = np.empty(len(F))
    _gradient_magnitude_sums(F, sums)
    return sums / F[0].size


@checked("CC")
def correlation_coefficient(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """CC: ``(corr(A, F) + corr(B, F)) / 2`` (mean, not sum), see :func:`correlation`.

    References
    ----------
    .. [1] X. Zhang, P. Ye, G. Xiao, "VIFB: A visible and infrared image fusion
       benchmark", CVPR Workshops, 2020 (CC in its metric survey).
    """
    m = pixel_moments(F, A, B)
    return (_correlation_of(m[:, AF], m[:, AA], m[:, FF])
            + _correlation_of(m[:, BF], m[:, BB], m[:, FF])) / 2.0


@checked("SCD")
def sum_correlation_differences(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SCD: ``corr(A, F - B) + corr(B, F - A)``, see :func:`correlation`.

    References
    ----------
    .. [1] V. Aslantas, E. Bendes, "A new image quality metric for image fusion: the sum
       of the correlations of differences", AEU 69(12), 1890-1896, 2015.
    """
    m = pixel_moments(F, A, B)
    return (_correlation_of(m[:, A_D1], m[:, AA], m[:, D1D1])
            + _correlation_of(m[:, B_D2], m[:, BB], m[:, D2D2]))


@checked("PSNR")
def peak_signal_to_noise_ratio(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """PSNR in dB: ``10 log10(max(F)^2 / MSE)``, ``MSE = (MSE(A, F) + MSE(B, F)) / 2``.

    The peak is the fused image's maximum, not 255. Documented values: ``+inf`` when
    MSE = 0 (F = A = B), ``-inf`` when max(F) = 0 < MSE.

    References
    ----------
    .. [1] P. Jagalingam, A. V. Hegde, "A review of quality metrics for fused image",
       Aquatic Procedia 4, 2015.
    """
    sums = np.empty((len(F), 2))
    _squared_errors(_flat(F), _flat(A), _flat(B), sums)
    mse = (sums[:, 0] / F[0].size + sums[:, 1] / F[0].size) / 2.0
    peak = np.max(F, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 10.0 * np.log10(peak * peak / mse)
    return np.where(mse == 0, np.inf, value)
