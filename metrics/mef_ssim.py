"""Tang's ``MS_SSIM``: the multi-scale MEF-SSIM of Ma, Zeng and Wang on two sources.

Not Wang's MS-SSIM of one image pair (the default profile's ``MS_SSIM``): a structure-only
SSIM between F and a "desired" patch synthesised from both sources, on 3 scales. The
reference loops over every 11 x 11 patch; here each patch statistic is written as window
moments (box means for the patch means, contrasts and the consistency R, Gaussian means
for the final SSIM), so the desired patch is never built. Its Gaussian statistics are
linear in the sources' moments: with r = s (sum_k a_k (x_k - mu_k)), a_k = w_k / ed_k,
sigma_r^2 = s^2 sum_kl a_k a_l cov_g(x_k, x_l) and sigma_rf = s sum_k a_k cov_g(x_k, f).

References
----------
.. [1] K. Ma, K. Zeng, Z. Wang, "Perceptual quality assessment for multi-exposure image
   fusion", IEEE Trans. Image Processing 24(11), 3345-3356, 2015.
.. [2] L. Tang, J. Yuan, J. Ma, Information Fusion 82, 28-42, 2022; code
   github.com/Linfeng-Tang/Evaluation-for-Image-Fusion (``analysis_ms_ssim``).
"""
from __future__ import annotations

import math

import numpy as np

from .filters import filter_valid, gaussian_taps, halve, window_means

LEVELS = 3
LEVEL_WEIGHTS = np.array([0.0448, 0.2856, 0.3001]) / 0.6305
PATCH = 11
K = 0.03
C = (K * 255.0) ** 2
EPS = float(np.finfo(np.float64).eps)
GAUSSIAN = gaussian_taps(PATCH, 1.5)
BOX = np.full(PATCH, 1.0 / PATCH)
MIN_SIZE = PATCH * 2 ** (LEVELS - 1)  # mef_ms_ssim's bound: 44


def _level_quality(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> np.ndarray:
    """``mef_ssim(cat(3, A, B), F)`` per image: mean over the 'valid' patch positions of
    (2 sigma_rf + C) / (sigma_r^2 + sigma_f^2 + C)."""
    box = window_means(a, (b,), BOX)
    mu_a, mu_b = box.x[0], box.y[0]
    var_a = box.xx[0] - mu_a * mu_a
    var_b = box.yy[0] - mu_b * mu_b
    cov_ab = box.xy[0] - mu_a * mu_b
    n = PATCH * PATCH
    dev_a, dev_b = np.sqrt(np.maximum(n * var_a, 0.0)), np.sqrt(np.maximum(n * var_b, 0.0))
    ed_a, ed_b = dev_a + 0.001, dev_b + 0.001
    # consistency R = |sum_k (x_k - mu_k)| / sum_k |x_k - mu_k| (norms over the patch)
    spread = np.sqrt(np.maximum(n * (var_a + var_b + 2 * cov_ab), 0.0))
    r = (spread + EPS) / (dev_a + dev_b + EPS)
    r = np.where(r > 1, 1 - EPS, np.where(r < 0, EPS, r))
    p = np.minimum(np.tan(math.pi / 2 * r), 10.0)
    w_a, w_b = (ed_a / PATCH) ** p + EPS, (ed_b / PATCH) ** p + EPS
    total = w_a + w_b
    c_a, c_b = (w_a / total) / ed_a, (w_b / total) / ed_b
    norm2 = n * (c_a * c_a * var_a + 2 * c_a * c_b * cov_ab + c_b * c_b * var_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(norm2 > 0, np.maximum(ed_a, ed_b) / np.sqrt(norm2), 1.0)
    gauss = window_means(f, (a, b), GAUSSIAN)
    mu_f, ga, gb = gauss.x[0], gauss.y[0], gauss.y[1]
    var_f = gauss.xx[0] - mu_f * mu_f
    gvar_a, gvar_b = gauss.yy[0] - ga * ga, gauss.yy[1] - gb * gb
    gcov_ab = filter_valid(a * b, GAUSSIAN) - ga * gb
    cov_af, cov_bf = gauss.xy[0] - ga * mu_f, gauss.xy[1] - gb * mu_f
    var_r = scale * scale * (c_a * c_a * gvar_a + 2 * c_a * c_b * gcov_ab + c_b * c_b * gvar_b)
    cov_rf = scale * (c_a * cov_af + c_b * cov_bf)
    q = (2 * cov_rf + C) / (var_r + var_f + C)
    return q.mean(axis=(1, 2))


def multiscale_mef_ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MS_SSIM of Tang's evaluator: MEF-SSIM (Ma et al.) of F against {A, B}, 3 scales.

    Per scale and 11 x 11 patch position: the sources' uniform-window means mu_k and
    contrasts ed_k = |x_k - mu_k| + 0.001; the consistency
    R = |sum_k (x_k - mu_k)| / sum_k |x_k - mu_k| (each + eps, clipped into (0, 1));
    weights w_k = (ed_k / 11)^p + eps with p = min(tan(pi R / 2), 10), normalised; the
    desired patch r = sum_k w_k (x_k - mu_k) / ed_k, rescaled to norm max_k ed_k; patch
    quality (2 sigma_rf + C) / (sigma_r^2 + sigma_f^2 + C) with Gaussian-weighted
    statistics (11 x 11, sigma 1.5), C = (0.03 * 255)^2; the scale's score is the mean.
    Between scales every image is averaged over 2 x 2 blocks and subsampled.
    MS_SSIM = prod_l Q_l^beta_l, beta = (0.0448, 0.2856, 0.3001) / 0.6305 (NaN if a
    Q_l is negative, where MATLAB's value would be complex).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255; at least 44 x 44.

    Returns
    -------
    ndarray, N
        Dimensionless, at most 1 (about 0.85-0.95 on medical pairs); higher is better.

    References
    ----------
    .. [1] K. Ma, K. Zeng, Z. Wang, IEEE Trans. Image Processing 24(11), 3345-3356, 2015.
    """
    scores = np.ones(len(F))
    for level in range(LEVELS):
        if level:
            F, A, B = halve(F), halve(A), halve(B)
        with np.errstate(invalid="ignore"):
            scores = scores * _level_quality(A, B, F) ** LEVEL_WEIGHTS[level]
    return scores
