"""Edge-based metrics of the default profile: Qabf (edge transfer) and Nabf (artefacts)."""
from __future__ import annotations

import numpy as np

from .filters import sobel
from .validation import checked

HALF_PI = np.pi / 2.0


def _qabf_edges(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strength and orientation as in the reference code: zero-padded Sobel,
    ``a = arctan(gy / gx)`` and ``pi/2`` where ``gx = 0``.

    The reference convolves (flipped kernels), so its gx is minus our left-to-right
    :func:`sobel` response while its gy (upward kernel, flipped) equals our downward
    one; the sign matters because ``gx = 0`` pixels get ``+pi/2``.
    """
    gx, gy = sobel(x, "constant")
    strength = np.sqrt(gx * gx + gy * gy)
    safe = np.where(gx == 0, 1.0, -gx)
    return strength, np.where(gx == 0, HALF_PI, np.arctan(gy / safe))


def _qabf_preservation(g_x: np.ndarray, a_x: np.ndarray, g_f: np.ndarray,
                       a_f: np.ndarray) -> np.ndarray:
    """Q_XF per pixel, with the reference code's ratio (gF where gX == gF)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(g_x > g_f, g_f / g_x, np.where(g_x == g_f, g_f, g_x / g_f))
    alignment = 1.0 - np.abs(a_x - a_f) / HALF_PI
    return (0.9994 / (1.0 + np.exp(-15.0 * (ratio - 0.5)))
            * 0.9879 / (1.0 + np.exp(-22.0 * (alignment - 0.8))))


@checked("Qabf")
def fusion_qabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Qabf: Xydeas-Petrovic edge preservation weighted by source edge strength.

    Sobel responses with zero padding; strength ``g = sqrt(gx^2 + gy^2)``, orientation
    ``a = arctan(gy / gx)`` (``pi/2`` where gx = 0). For a source X:
    ``G = gF/gX`` where gX > gF, ``gX/gF`` where gX < gF and ``gF`` where equal (the
    reference code's quirk), ``Aor = 1 - |aX - aF| / (pi/2)``,
    ``Q_XF = 0.9994 / (1 + exp(-15 (G - 0.5))) * 0.9879 / (1 + exp(-22 (Aor - 0.8)))``.
    ``Qabf = sum(Q_AF gA + Q_BF gB) / sum(gA + gB)``; 0 where both sources have no edge
    at all (the reference code gives 0/0 there).

    References
    ----------
    .. [1] C. S. Xydeas, V. Petrovic, "Objective image fusion performance measure",
       Electron. Lett. 36(4), 308-309, 2000.
    """
    n = len(F)
    g, a = _qabf_edges(np.concatenate([A, B, F]))
    g_a, g_b, g_f = g[:n], g[n:2 * n], g[2 * n:]
    a_a, a_b, a_f = a[:n], a[n:2 * n], a[2 * n:]
    weighted = (_qabf_preservation(g_a, a_a, g_f, a_f) * g_a
                + _qabf_preservation(g_b, a_b, g_f, a_f) * g_b)
    numerator = weighted.sum(axis=(1, 2))
    denominator = (g_a + g_b).sum(axis=(1, 2))
    return np.divide(numerator, denominator, out=np.zeros(n), where=denominator > 0)


# Petrovic-Xydeas parameters as in B. K. Shreyamsha Kumar's objective_fusion_perform_fn.
NABF_THRESHOLD = 2.0      # Td: edge strength below which a pixel gets the minimum weight
NABF_MIN_WEIGHT = 0.001   # wt_min
NABF_WEIGHT_POWER = 1.5   # L
NABF_GAMMA_G, NABF_KAPPA_G, NABF_SIGMA_G = 0.9999, 19.0, 0.5
NABF_GAMMA_A, NABF_KAPPA_A, NABF_SIGMA_A = 0.9995, 22.0, 0.5


def _nabf_edges(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strength and orientation of Kumar's code: Sobel/8 on a mirrored border
    (``per_extn_im_fn``), ``a = arctan(gx / gy)``, 0 where gx = gy = 0."""
    gx, gy = sobel(x, "reflect101")
    gx, gy = gx / 8.0, gy / 8.0
    strength = np.sqrt(gx * gx + gy * gy)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.arctan(gx / gy)  # gy = 0 < |gx| gives +-pi/2 as MATLAB's atan(+-Inf)
    return strength, np.where((gx == 0) & (gy == 0), 0.0, angle)


def _nabf_preservation(g_x: np.ndarray, a_x: np.ndarray, g_f: np.ndarray,
                       a_f: np.ndarray) -> np.ndarray:
    """Q_XF = sqrt(Q_g Q_a) of the Petrovic-Xydeas model with Kumar's parameters."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(g_x > g_f, g_f / g_x, g_x / g_f)
    ratio = np.where((g_x == 0) | (g_f == 0), 0.0, ratio)
    alignment = np.abs(np.abs(a_x - a_f) - HALF_PI) / HALF_PI
    q_g = NABF_GAMMA_G / (1.0 + np.exp(-NABF_KAPPA_G * (ratio - NABF_SIGMA_G)))
    q_a = NABF_GAMMA_A / (1.0 + np.exp(-NABF_KAPPA_A * (alignment - NABF_SIGMA_A)))
    return np.sqrt(q_g * q_a)


def _nabf_weight(g: np.ndarray) -> np.ndarray:
    return np.where(g >= NABF_THRESHOLD, g ** NABF_WEIGHT_POWER, NABF_MIN_WEIGHT)


@checked("Nabf")
def fusion_nabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Nabf: Kumar's modified Petrovic-Xydeas fusion-artefact measure (lower is better).

    Arguments in the documented order (fused, source 1, source 2). Edges: Sobel
    kernels divided by 8, mirrored border (``dcb|abcd``); ``g = sqrt(gx^2 + gy^2)``,
    ``a = arctan(gx / gy)`` (0 where both vanish). For a source X:
    ``G = min(gX, gF) / max(gX, gF)`` (0 where either is 0),
    ``Aor = | |aX - aF| - pi/2 | / (pi/2)``,
    ``Q_XF = sqrt(0.9999 / (1 + exp(-19 (G - 0.5))) * 0.9995 / (1 + exp(-22 (Aor - 0.5))))``;
    weights ``w_X = gX^1.5`` where gX >= 2, else 0.001. With ``na = 1`` where
    ``gF > gA`` and ``gF > gB`` (an edge stronger than in either source), else 0:
    ``Nabf = sum(na ((1 - Q_AF) w_A + (1 - Q_BF) w_B)) / sum(w_A + w_B)``.
    The weights are never 0, so the value is always defined (0 for flat images).

    References
    ----------
    .. [1] B. K. Shreyamsha Kumar, "Multifocus and multispectral image fusion based on
       pixel significance using discrete cosine harmonic wavelet transform", Signal
       Image Video Process. 7(6), 1125-1143, 2013 (the modified NABF).
    .. [2] V. Petrovic, C. Xydeas, "Objective image fusion performance
       characterisation", Proc. ICCV 2005, 1866-1871 (the original N_AB/F).
    """
    n = len(F)
    g, a = _nabf_edges(np.concatenate([A, B, F]))
    g_a, g_b, g_f = g[:n], g[n:2 * n], g[2 * n:]
    a_a, a_b, a_f = a[:n], a[n:2 * n], a[2 * n:]
    w_a, w_b = _nabf_weight(g_a), _nabf_weight(g_b)
    artefact = (g_f > g_a) & (g_f > g_b)
    loss = ((1.0 - _nabf_preservation(g_a, a_a, g_f, a_f)) * w_a
            + (1.0 - _nabf_preservation(g_b, a_b, g_f, a_f)) * w_b)
    return np.where(artefact, loss, 0.0).sum(axis=(1, 2)) / (w_a + w_b).sum(axis=(1, 2))
