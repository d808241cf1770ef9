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

from .jit import kernel, sum_kernel

# Liu's metricXydeas: Q = 1 / (1 + e^(k_g (G - s_g))) * 1 / (1 + e^(k_a (A - s_a)))
XYDEAS_STRENGTH = (-10.0, 0.5)     # k_g, s_g
XYDEAS_ORIENTATION = (-20.0, 0.75)  # k_a, s_a
XYDEAS_GUARD = 1e-5                 # added where a gradient (or sx) is exactly 0
HALF_PI = np.pi / 2.0
WAVELET_LEVEL_WEIGHTS = (2.0 / 3.0, 1.0 / 3.0)
WAVELET_MIN_SIZE = 4  # two Haar levels (matlabPyrTools' maxPyrHt)
DIAGONAL_WEIGHT = np.sqrt(2.0) / 2.0


@kernel
def _gradient_features(padded: np.ndarray, strength: np.ndarray, slope: np.ndarray) -> None:
    """Sobel responses of one image given with a border of zeros (``filter2``
    correlation: ``sx`` with [[-1,0,1],[-2,0,2],[-1,0,1]], ``sy`` with its transpose;
    exact on the integer values the profiles score), their strength
    ``sqrt(sx^2 + sy^2)`` and the slope ``sy / sx`` with sx := 1e-5 where it is exactly
    0 (flattened H*W planes)."""
    height, width = padded.shape[0] - 2, padded.shape[1] - 2
    for r in range(height):
        up, row, down = padded[r], padded[r + 1], padded[r + 2]
        g, t = strength[r * width:(r + 1) * width], slope[r * width:(r + 1) * width]
        for c in range(width):
            sx = (up[c + 2] - up[c]) + 2.0 * (row[c + 2] - row[c]) + (down[c + 2] - down[c])
            sy = (down[c] + 2.0 * down[c + 1] + down[c + 2]) - (up[c] + 2.0 * up[c + 1] + up[c + 2])
            g[c] = np.sqrt(sx * sx + sy * sy)
            t[c] = sy / (sx + (XYDEAS_GUARD if sx == 0.0 else 0.0))


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


@sum_kernel
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
    """Q_G: Xydeas-Petrovic gradient preservation as Liu's ``metricXydeas``; higher is better.

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
        Fused image and the two sources, 0..255 integer values (where the Sobel
        responses are exact, so the tests for 0 decide as the reference's).

    Returns
    -------
    ndarray, N
        Dimensionless, in [0, 1].

    References
    ----------
    .. [1] C. S. Xydeas, V. Petrovic, "Objective pixel-level image fusion performance
       measure", Proc. SPIE 4051, 89-98, 2000.
    """
    pixels = F.shape[1] * F.shape[2]
    g, angle = np.empty((2, 3, pixels))
    weights, powers = np.empty((2, pixels)), np.empty((4, pixels))
    padded = np.zeros((F.shape[1] + 2, F.shape[2] + 2))
    value = np.empty(len(F))
    for i in range(len(F)):
        for k, x in enumerate((A, B, F)):
            padded[1:-1, 1:-1] = x[i]
            _gradient_features(padded, g[k], angle[k])
        np.arctan(angle, out=angle)
        _xydeas_exponents(g, angle, weights, powers)
        np.exp(powers, out=powers)
        value[i] = _xydeas_mean(powers, weights)
    return value


@kernel
def _haar_level(x: np.ndarray, low: np.ndarray, bands: np.ndarray) -> None:
    """One orthonormal Haar level of one image on the 2 x 2 blocks [a b; c d] from the
    top-left pixel (an odd last row or column is left out, as matlabPyrTools'
    ``corrDn`` does): low-pass (a+b+c+d)/2 into ``low`` and the detail bands
    (a+b-c-d)/2, (a-b+c-d)/2, (a-b-c+d)/2 into ``bands`` (3 x h/2 x w/2; signs and
    labels are immaterial to Q_M)."""
    for r in range(low.shape[0]):
        for c in range(low.shape[1]):
            a, b = x[2 * r, 2 * c], x[2 * r, 2 * c + 1]
            below, right = x[2 * r + 1, 2 * c], x[2 * r + 1, 2 * c + 1]
            top, bottom, left, lower = a + b, below + right, a - b, below - right
            low[r, c] = (top + bottom) / 2.0
            bands[0, r, c] = (top - bottom) / 2.0
            bands[1, r, c] = (left + lower) / 2.0
            bands[2, r, c] = (left - lower) / 2.0


@kernel
def _band_terms(bands: np.ndarray, differences: np.ndarray, energy: np.ndarray) -> None:
    """From the detail bands of A, B, F (3 x 3 x P): ``-|X_band - F_band|`` per source
    and band (6 x P) and ``W_X = H^2 + V^2 + D^2`` per source (2 x P)."""
    for p in range(bands.shape[2]):
        for k in range(2):
            h, v, d = bands[k, 0, p], bands[k, 1, p], bands[k, 2, p]
            energy[k, p] = h * h + v * v + d * d
            for j in range(3):
                differences[3 * k + j, p] = -abs(bands[k, j, p] - bands[2, j, p])


@sum_kernel
def _level_sums(preserved: np.ndarray, energy: np.ndarray) -> tuple[float, float]:
    """``sum(EP_A W_A + EP_B W_B)`` and ``sum(W_A + W_B)`` with
    ``EP_X = e^-|dH| + e^-|dV| + e^-|dD|`` from the exponentials of :func:`_band_terms`."""
    numerator, denominator = 0.0, 0.0
    for p in range(energy.shape[1]):
        ep_a = preserved[0, p] + preserved[1, p] + preserved[2, p]
        ep_b = preserved[3, p] + preserved[4, p] + preserved[5, p]
        numerator += ep_a * energy[0, p] + ep_b * energy[1, p]
        denominator += energy[0, p] + energy[1, p]
    return numerator, denominator


def wavelet_preservation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_M: Wang-Liu multiscale edge preservation as Liu's ``metricPWW``; higher is better.

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
        Dimensionless, in [0, 3] as coded; NaN where the sources have no detail at a
        level (0/0).

    References
    ----------
    .. [1] P.-W. Wang, B. Liu, "A novel image fusion metric based on multi-scale
       analysis", Proc. ICSP 2008, 965-968.
    """
    value = np.ones(len(F))
    for i in range(len(F)):
        lows = [np.ascontiguousarray(x[i]) for x in (A, B, F)]
        for weight in WAVELET_LEVEL_WEIGHTS:
            h, w = lows[0].shape[0] // 2, lows[0].shape[1] // 2
            bands = np.empty((3, 3, h, w))
            halves = [np.empty((h, w)) for _ in range(3)]
            for k in range(3):
                _haar_level(lows[k], halves[k], bands[k])
            differences, energy = np.empty((6, h * w)), np.empty((2, h * w))
            _band_terms(bands.reshape(3, 3, -1), differences, energy)
            np.exp(differences, out=differences)
            numerator, denominator = _level_sums(differences, energy)
            with np.errstate(invalid="ignore", divide="ignore"):
                value[i] *= (np.float64(numerator) / denominator) ** weight
            lows = halves
    return value


@sum_kernel
def _directional_energies(f: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """Sums of squared neighbour differences of one image triple in Zheng's four
    directions (row, column, main diagonal, secondary diagonal): ``out[0]`` of F,
    ``out[1]`` of ``max(|dA|, |dB|)`` (2 x 4). Exact on integer values (every sum is an
    integer below 2^53), so the order of the additions does not matter there."""
    height, width = f.shape
    out[:] = 0.0
    for r in range(height):
        for c in range(width):
            for k, (dr, dc) in enumerate(((0, 1), (1, 0), (-1, -1), (-1, 1))):
                rr, cc = r + dr, c + dc
                if 0 <= rr < height and 0 <= cc < width:
                    d_f = f[r, c] - f[rr, cc]
                    d_r = max(abs(a[r, c] - a[rr, cc]), abs(b[r, c] - b[rr, cc]))
                    out[0, k] += d_f * d_f
                    out[1, k] += d_r * d_r


def spatial_frequency_error(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_SF: Zheng's ratio of spatial-frequency error as Liu's ``metricZheng``; signed, ideal 0.

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
    energies = np.empty((len(F), 2, 4))
    for i in range(len(F)):
        _directional_energies(F[i], A[i], B[i], energies[i])
    terms = energies / (F.shape[1] * F.shape[2])
    squares = terms[..., 0] + terms[..., 1] + DIAGONAL_WEIGHT * (terms[..., 2] + terms[..., 3])
    fused, reference = np.sqrt(squares[:, 0]), np.sqrt(squares[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (fused - reference) / reference
