"""Cvejic's Q_C and Yang's Q_Y: local UIQI maps weighted between the two sources.

Both build on ``ssim_yang`` of Liu's toolbox: a 7 x 7 Gaussian window (sigma 1.5),
'valid' filtering and C1 = C2 = 2e-16, which makes the SSIM formula the universal image
quality index (UIQI). Liu's functions average the map with ``mean2``; MEFB's copies
drop NaN pixels first. Where the fused image (Q_C) or both sources (Q_Y) are flat over a
window, the weights are 0/0: NaN in Liu's values on nearly every medical image (black
backgrounds), and, where the flat value is not 0, ratios of rounding noise (the
E[xy] - E[x]E[y] moments), so values agree with other implementations only to a few
percent there (``docs/metrics.md``, canon).

References
----------
.. [1] N. Cvejic, A. Loza, D. Bull, N. Canagarajah, "A similarity metric for assessment
   of image fusion algorithms", Int. J. Signal Processing 2(3), 178-182, 2005.
.. [2] C. Yang, J.-Q. Zhang, X.-R. Wang, X. Liu, "A novel similarity based quality
   metric for image fusion", Information Fusion 9(2), 156-160, 2008.
.. [3] Z. Wang, A. C. Bovik, "A universal image quality index", IEEE Signal Processing
   Letters 9(3), 81-84, 2002.
"""
from __future__ import annotations

import numpy as np

from .filters import filter_valid, gaussian_taps, window_means

WINDOW = gaussian_taps(7, 1.5)
C = 2e-16  # C1 = C2 of ssim_yang
MIN_SIZE = 11  # ssim_yang returns -Inf below 11 x 11


def _uiqi(mu_x: np.ndarray, mu_y: np.ndarray, var_x: np.ndarray, var_y: np.ndarray,
          cov: np.ndarray) -> np.ndarray:
    """``ssim_yang``'s map from the window moments (the SSIM formula with C = 2e-16)."""
    return (((2 * (mu_x * mu_y) + C) * (2 * cov + C))
            / ((mu_x * mu_x + mu_y * mu_y + C) * (var_x + var_y + C)))


def _mean(q: np.ndarray, omit_nan: bool) -> np.ndarray:
    """Per image: ``mean2`` of the map (NaN if any pixel is), or of its non-NaN pixels
    (NaN if there is none)."""
    if not omit_nan:
        return q.mean(axis=(1, 2))
    kept = ~np.isnan(q)
    with np.errstate(invalid="ignore", divide="ignore"):  # no pixel kept: 0/0, NaN
        return np.where(kept, q, 0.0).sum(axis=(1, 2)) / kept.sum(axis=(1, 2))


def cvejic_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray, *,
                   omit_nan: bool = True) -> np.ndarray:
    """Q_C, Cvejic's similarity metric (Liu ``metricCvejic(.., 2)``, MEFB ``Qc``).

    With UIQI maps S(A, F), S(B, F) and window covariances sigma_AF, sigma_BF (7 x 7
    Gaussian, sigma 1.5, 'valid'): sim = sigma_AF / (sigma_AF + sigma_BF),
    Q = sim S(A, F) + (1 - sim) S(B, F), then, as coded, Q = 0 where sim < 0 and Q = 1
    where sim > 1 (the paper clips sim instead); Q_C = mean of Q.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255 (raw values).
    omit_nan : bool
        MEFB (True) averages the pixels where Q is not NaN; Liu (False) propagates the
        NaN of 0/0 (F flat over a window), so Liu's Q_C is NaN on most medical images.

    Returns
    -------
    ndarray, N
        Dimensionless, at most 1; higher is better.

    References
    ----------
    .. [1] N. Cvejic, A. Loza, D. Bull, N. Canagarajah, Int. J. Signal Processing 2(3),
       178-182, 2005.
    """
    m = window_means(F, (A, B), WINDOW)
    mu_f, mu_a, mu_b = m.x[0], m.y[0], m.y[1]
    var_f = m.xx[0] - mu_f * mu_f
    var_a, var_b = m.yy[0] - mu_a * mu_a, m.yy[1] - mu_b * mu_b
    cov_a, cov_b = m.xy[0] - mu_a * mu_f, m.xy[1] - mu_b * mu_f
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = cov_a / (cov_a + cov_b)
        q = sim * _uiqi(mu_a, mu_f, var_a, var_f, cov_a) \
            + (1 - sim) * _uiqi(mu_b, mu_f, var_b, var_f, cov_b)
        q = np.where(sim < 0, 0.0, np.where(sim > 1, 1.0, q))
    return _mean(q, omit_nan)


def yang_quality(F: np.ndarray, A: np.ndarray, B: np.ndarray, *,
                 omit_nan: bool = True) -> np.ndarray:
    """Q_Y, Yang's similarity-based metric (Liu ``metricYang``, MEFB ``Qy``).

    UIQI maps S(A, B), S(A, F), S(B, F) (7 x 7 Gaussian, sigma 1.5, 'valid'),
    lambda = sigma_A^2 / (sigma_A^2 + sigma_B^2); where S(A, B) >= 0.75,
    Q = lambda S(A, F) + (1 - lambda) S(B, F), elsewhere Q = max(S(A, F), S(B, F));
    Q_Y = mean of Q. As coded the two branches are added after multiplying by the
    branch masks, so a NaN lambda (A and B flat) poisons the pixel even on the max
    branch (NaN * 0).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255 (raw values).
    omit_nan : bool
        MEFB (True) averages the non-NaN pixels; Liu (False) propagates the NaN, so
        Liu's Q_Y is NaN on most medical images.

    Returns
    -------
    ndarray, N
        Dimensionless, at most 1; higher is better.

    References
    ----------
    .. [1] C. Yang, J.-Q. Zhang, X.-R. Wang, X. Liu, Information Fusion 9(2), 156-160,
       2008.
    """
    m = window_means(F, (A, B), WINDOW)
    mu_f, mu_a, mu_b = m.x[0], m.y[0], m.y[1]
    var_f = m.xx[0] - mu_f * mu_f
    var_a, var_b = m.yy[0] - mu_a * mu_a, m.yy[1] - mu_b * mu_b
    cov_ab = filter_valid(A * B, WINDOW) - mu_a * mu_b
    with np.errstate(invalid="ignore", divide="ignore"):
        s_af = _uiqi(mu_a, mu_f, var_a, var_f, m.xy[0] - mu_a * mu_f)
        s_bf = _uiqi(mu_b, mu_f, var_b, var_f, m.xy[1] - mu_b * mu_f)
        similar = _uiqi(mu_a, mu_b, var_a, var_b, cov_ab) >= 0.75
        weight = var_a / (var_a + var_b)
        q = (weight * s_af + (1 - weight) * s_bf) * similar + np.fmax(s_af, s_bf) * ~similar
    return _mean(q, omit_nan)
