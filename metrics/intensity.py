"""Pixel-statistics metrics of the default profile: SD, SF, AG, CC, SCD, PSNR.

All functions take N x H x W float64 stacks (fused F, sources A and B) on the 0..255
scale and return N values; see docs/metrics.md for conventions.
"""
from __future__ import annotations

import numpy as np

from .validation import checked


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation over all pixels of each image pair, N values.

    ``sum((x - mean x)(y - mean y)) / sqrt(sum((x - mean x)^2) sum((y - mean y)^2))``.
    Where x or y is constant the correlation is undefined; we return 0 (no linear
    relation) instead of the reference code's NaN.
    """
    dx = _flat(x) - _flat(x).mean(axis=1, keepdims=True)
    dy = _flat(y) - _flat(y).mean(axis=1, keepdims=True)
    denominator = np.sqrt(np.sum(dx * dx, axis=1) * np.sum(dy * dy, axis=1))
    numerator = np.sum(dx * dy, axis=1)
    return np.divide(numerator, denominator, out=np.zeros(len(x)), where=denominator > 0)


@checked("SD")
def standard_deviation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SD: population standard deviation of F (``numpy.std``, ddof 0).

    References
    ----------
    .. [1] Y.-J. Rao, "In-fibre Bragg grating sensors", Meas. Sci. Technol. 8(4), 1997.
    """
    return _flat(F).std(axis=1)


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
    return np.sqrt(_mean_square(np.diff(F, axis=2)) + _mean_square(np.diff(F, axis=1)))


def _mean_square(d: np.ndarray) -> np.ndarray:
    """Per-image mean of ``d^2``; 0 for a one-pixel-wide image (no differences)."""
    if d.shape[1] * d.shape[2] == 0:
        return np.zeros(len(d))
    return np.mean(d * d, axis=(1, 2))


def _gradient(x: np.ndarray, axis: int) -> np.ndarray:
    """``numpy.gradient`` along one image axis; a single row/column has gradient 0."""
    if x.shape[axis] < 2:
        return np.zeros_like(x)
    return np.gradient(x, axis=axis)


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
    gx, gy = _gradient(F, 2), _gradient(F, 1)
    return np.mean(np.sqrt((gx * gx + gy * gy) / 2.0), axis=(1, 2))


@checked("CC")
def correlation_coefficient(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """CC: ``(corr(A, F) + corr(B, F)) / 2`` (mean, not sum), see :func:`correlation`.

    References
    ----------
    .. [1] X. Zhang, P. Ye, G. Xiao, "VIFB: A visible and infrared image fusion
       benchmark", CVPR Workshops, 2020 (CC in its metric survey).
    """
    return (correlation(A, F) + correlation(B, F)) / 2.0


@checked("SCD")
def sum_correlation_differences(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SCD: ``corr(A, F - B) + corr(B, F - A)``, see :func:`correlation`.

    References
    ----------
    .. [1] V. Aslantas, E. Bendes, "A new image quality metric for image fusion: the sum
       of the correlations of differences", AEU 69(12), 1890-1896, 2015.
    """
    return correlation(A, F - B) + correlation(B, F - A)


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
    mse = (np.mean((A - F) ** 2, axis=(1, 2)) + np.mean((B - F) ** 2, axis=(1, 2))) / 2.0
    peak = np.max(F, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 10.0 * np.log10(peak * peak / mse)
    return np.where(mse == 0, np.inf, value)
