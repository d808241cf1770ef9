"""Image-feature measures of Liu's toolbox: Q_G (gradients), Q_M (Haar wavelet bands)
and Q_SF (spatial-frequency error ratio), each as Liu's code computes it.

All work on the raw 0..255 values. Definitions and traps: ``docs/metrics.md`` ("The
metric canon").

References
----------
.. [1] Z. Liu, E. Blasch, Z. Xue, J. Zhao, R. Laganiere, W. Wu, "Objective assessment
   of multiresolution image fusion algorithms for context enhancement in night vision:
   a comparative study", IEEE TPAMI 34(1), 94-109, 2012; code
   github.com/zhengliu6699/imageFusionMetrics.
"""
from __future__ import annotations

import numpy as np

from .filters import sobel
from .jit import kernel

# Liu's metricXydeas: Q = 1 / (1 + e^(k_g (G - s_g))) * 1 / (1 + e^(k_a (A - s_a)))
XYDEAS_STRENGTH = (-10.0, 0.5)     # k_g, s_g
XYDEAS_ORIENTATION = (-20.0, 0.75)  # k_a, s_a
XYDEAS_GUARD = 1e-5                 # added where a gradient (or sx) is exactly 0
HALF_PI = np.pi / 2.0
WAVELET_LEVEL_WEIGHTS = (2.0 / 3.0, 1.0 / 3.0)
WAVELET_MIN_SIZE = 4  # two Haar levels (matlabPyrTools' maxPyrHt)
DIAGONAL_WEIGHT = np.sqrt(2.0) / 2.0


@kernel
def _gradient_features(sx: np.ndarray, sy: np.ndarray, strength: np.ndarray,
                       slope: np.ndarray) -> None:
    """Sobel strength ``sqrt(sx^2 + sy^2)`` and slope ``sy / sx`` with sx := 1e-5 where
    it is exactly 0 (flattened planes)."""
    for p in range(sx.shape[0]):
        x, y = sx[p], sy[p]
        strength[p] = np.sqrt(x * x + y * y)
        slope[p] = y / (x + (XYDEAS_GUARD if x == 0.0 else 0.0))


@kernel
def _xydeas_exponents(g: np.ndarray, angle: np.ndarray, weights: np.ndarray,
                      out: np.ndarray) -> None:
    """Per pixel, the exponents of the strength and orientation sigmoids of Q_AF and
    Q_BF (rows of ``out``) and the guarded weights g_A, g_B, from the strengths and
    angles of A, B, F (rows of g and angle): Liu's statements in order, the guarded g_F
    of the A pass reused in the B pass."""
    for p in range(g.shape[1]):
        g_f, a_f = g[2, p], angle[2, p]
        for k in range(2):
            g_x = g[k, p]
            larger = g_x > g_f
            g_x += XYDEAS_GUARD if g_x == 0.0 else 0.0
            down = g_f / g_x
            g_f += XYDEAS_GUARD if g_f == 0.0 else 0.0
            ratio = down if larger else g_x / g_f
            orientation = abs(abs(angle[k, p] - a_f) - HALF_PI) * 2.0 / np.pi
            out[2 * k, p] = XYDEAS_STRENGTH[0] * (ratio - XYDEAS_STRENGTH[1])
            out[2 * k + 1, p] = XYDEAS_ORIENTATION[0] * (orientation - XYDEAS_ORIENTATION[1])
            weights[k, p] = g_x


@kernel
def _xydeas_mean(powers: np.ndarray, weights: np.ndarray) -> float:
    """Mean over pixels of ``(Q_AF w_A + Q_BF w_B) / (w_A + w_B)`` with
    ``Q_XF = 1 / (1 + e^s) * (1 / (1 + e^o))`` from the exponentials of
    :func:`_xydeas_exponents`."""
    total = 0.0
    for p in range(powers.shape[1]):
        q_a = 1.0 / (1.0 + powers[0, p]) * (1.0 / (1.0 + powers[1, p]))
        q_b = 1.0 / (1.0 + powers[2, p]) * (1.0 / (1.0 + powers[3, p]))
        w_a, w_b = weights[0, p], weights[1, p]
        total += (q_a * w_a + q_b * w_b) / (w_a + w_b)
    return total / powers.shape[1]


def gradient_preservation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_G: Xydeas-Petrovic gradient preservation as Liu's ``metricXydeas`` computes it,
    in [0, 1], higher is better.

    Sobel responses ``sx = X * [[-1,0,1],[-2,0,2],[-1,0,1]]``, ``sy`` with the transpose
    (``filter2 'same'``), ``g = sqrt(sx^2 + sy^2)``, ``a = atan(sy / sx)`` with sx := 1e-5
    where 0. Per source X: ``G = g_F / g_X`` where ``g_X > g_F``, else ``g_X / g_F``, with
    1e-5 added to g_X where it is 0 and to g_F where it is 0 (**as coded, the guarded g_F
    of the A pass is reused for B**, also in the comparison);
    ``O = | |a_X - a_F| - pi/2 | 2/pi``;
    ``Q_XF = 1/(1 + e^(-10 (G - 0.5))) * 1/(1 + e^(-20 (O - 0.75)))``; weights
    ``w_X = g_X`` (guarded). ``Q_G = mean over pixels of (Q_AF w_A + Q_BF w_B) /
    (w_A + w_B)``: a mean of per-pixel ratios, not Petrovic's ``Qabf`` (sum ratio, other
    constants).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255.

    Returns
    -------
    ndarray, N
        Dimensionless.

    References
    ----------
    .. [1] C. S. Xydeas, V. Petrovic, "Objective pixel-level image fusion performance
       measure", Proc. SPIE 4051, 89-98, 2000.
    """
    pixels = F.shape[1] * F.shape[2]
    g, angle = np.empty((2, 3, pixels))
    weights, powers = np.empty((2, pixels)), np.empty((4, pixels))
    value = np.empty(len(F))
    for i in range(len(F)):
        for k, x in enumerate((A, B, F)):
            sx, sy = sobel(x[i:i + 1], "constant")
            _gradient_features(sx.ravel(), sy.ravel(), g[k], angle[k])
        np.arctan(angle, out=angle)
        _xydeas_exponents(g, angle, weights, powers)
        np.exp(powers, out=powers)
        value[i] = _xydeas_mean(powers, weights)
    return value


def _haar_level(x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """One orthonormal Haar level on the 2 x 2 blocks from the top-left pixel (an odd last
    row or column is left out, as matlabPyrTools' ``corrDn`` does): low-pass and the
    three detail bands (signs immaterial to Q_M)."""
    _, h, w = x.shape
    x = x[:, :h - h % 2, :w - w % 2]
    a, b, c, d = x[:, 0::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2]
    top, bottom = a + b, c + d
    left, right = a - b, c - d
    return (top + bottom) / 2.0, ((top - bottom) / 2.0, (left + right) / 2.0,
                                  (left - right) / 2.0)


def wavelet_preservation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_M: Wang-Liu multiscale edge preservation as Liu's ``metricPWW`` computes it, in
    [0, 3] as coded, higher is better.

    Two levels of the orthonormal Haar transform (matlabPyrTools ``buildWpyr(X, 2,
    'haar')``) of the raw 0..255 images; per level l, with the detail bands H, V, D:
    ``W_X = H_X^2 + V_X^2 + D_X^2``,
    ``EP_X = e^-|H_X - H_F| + e^-|V_X - V_F| + e^-|D_X - D_F|``,
    ``Q_l = sum(EP_A W_A + EP_B W_B) / sum(W_A + W_B)``; ``Q_M = Q_1^(2/3) Q_2^(1/3)``.
    EP sums three exponentials, so a fused image equal to a source over a block scores
    up to 3 there (values above 1 are common for max fusion). Scale dependent: the
    coefficients are not normalised.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255; at least 4 x 4.

    Returns
    -------
    ndarray, N
        Dimensionless; NaN where the sources have no detail at a level (0/0).

    References
    ----------
    .. [1] P.-W. Wang, B. Liu, "A novel image fusion metric based on multi-scale
       analysis", Proc. ICSP 2008, 965-968.
    """
    value = np.ones(len(F))
    lows = (F, A, B)
    for weight in WAVELET_LEVEL_WEIGHTS:
        (low_f, bands_f), (low_a, bands_a), (low_b, bands_b) = (_haar_level(x) for x in lows)
        numerator, denominator = np.zeros(len(F)), np.zeros(len(F))
        for bands in (bands_a, bands_b):
            energy = sum(band * band for band in bands)
            preserved = sum(np.exp(-np.abs(band - fused)) for band, fused in zip(bands, bands_f))
            numerator += (preserved * energy).sum(axis=(1, 2))
            denominator += energy.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            value *= (numerator / denominator) ** weight
        lows = (low_f, low_a, low_b)
    return value


def _directional_differences(x: np.ndarray) -> list[np.ndarray]:
    """Per image, the squared neighbour differences of Zheng's four directions (row,
    column, main diagonal, secondary diagonal), as N x h x w arrays."""
    return [x[:, :, :-1] - x[:, :, 1:], x[:, :-1, :] - x[:, 1:, :],
            x[:, 1:, 1:] - x[:, :-1, :-1], x[:, 1:, :-1] - x[:, :-1, 1:]]


def _spatial_frequency_sq(differences: list[np.ndarray], pixels: int) -> np.ndarray:
    """RF^2 + CF^2 + MDF^2 + SDF^2 from the four difference arrays (diagonals weighted
    1/sqrt(2)), every sum over M N."""
    terms = [(d * d).sum(axis=(1, 2)) / pixels for d in differences]
    return terms[0] + terms[1] + DIAGONAL_WEIGHT * (terms[2] + terms[3])


def spatial_frequency_error(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_SF: Zheng's ratio of spatial-frequency error (rSFe) as Liu's ``metricZheng``
    computes it; signed, the ideal is 0.

    ``SF_F = sqrt(RF^2 + CF^2 + MDF^2 + SDF^2)`` of F, where RF^2 (row), CF^2 (column),
    MDF^2 and SDF^2 (diagonals, weighted by 1/sqrt(2)) are sums of squared neighbour
    differences **each divided by M N**; ``SF_R`` the same with every difference
    replaced, pixel by pixel and direction by direction, by
    ``max(|dA|, |dB|)``. ``Q_SF = (SF_F - SF_R) / SF_R``: negative when F has less
    activity than the sources (lost detail), positive when more (over-enhancement or
    noise). Papers often print |Q_SF|.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255.

    Returns
    -------
    ndarray, N
        Dimensionless ratio; NaN when both sources are constant (0/0).

    References
    ----------
    .. [1] Y. Zheng, E. A. Essock, B. C. Hansen, A. M. Haun, "A new metric based on
       extended spatial frequency and its application to DWT based fusion algorithms",
       Information Fusion 8(2), 177-192, 2007.
    """
    pixels = F.shape[1] * F.shape[2]
    fused = np.sqrt(_spatial_frequency_sq(_directional_differences(F), pixels))
    reference = np.sqrt(_spatial_frequency_sq(
        [np.maximum(np.abs(da), np.abs(db))
         for da, db in zip(_directional_differences(A), _directional_differences(B))], pixels))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (fused - reference) / reference
