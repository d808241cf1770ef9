"""VIFF: Han et al.'s visual information fidelity for fusion (MEFB ``metricsVIF``).

Not the default profile's VIF (VIFp(A, F) + VIFp(B, F), :mod:`metrics.vif`): VIFF keeps,
pixel by pixel, the source with the smaller gain, uses the noise variance 0.005 * 255^2
and weights four scales. The window moments are streamed as in :mod:`metrics.vif`
(:func:`metrics.filters.moment_block`, :func:`metrics.filters.moment_means`).

References
----------
.. [1] Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based on
   visual information fidelity", Information Fusion 14(2), 127-135, 2013.
.. [2] H. R. Sheikh, A. C. Bovik, "Image information and visual quality", IEEE Trans.
   Image Process. 15(2), 430-444, 2006.
"""
from __future__ import annotations

import numpy as np

from .filters import STREAM_BLOCK_ROWS, filter_valid, moment_block, moment_means, moment_scratch
from .jit import kernel, log10_product
from .vif import SCALES, _log10_sum, scale_taps

NOISE_VARIANCE = 0.005 * 255 * 255  # sigma_n^2 = 325.125
EPS = 1e-10
TERM_C = 1e-7  # added to every pixel's VID and VIND
SCALE_WEIGHTS = np.array([1.0, 0.0, 0.15, 1.0]) / 2.15


@kernel
def _gain_terms(mu_x: float, xx: float, mu_y: float, yy: float, xy: float) -> tuple:
    """Sheikh-Bovik's gain g, distortion variance sv and source variance s1 of one pixel
    (source y, distorted x), with the reference's corrections in its order."""
    s1 = yy - mu_y * mu_y
    s2 = xx - mu_x * mu_x
    s12 = xy - mu_y * mu_x
    s1 = 0.0 if s1 < 0.0 else s1
    s2 = 0.0 if s2 < 0.0 else s2
    g = s12 / (s1 + EPS)
    sv = s2 - g * s12
    if s1 < EPS:
        g, sv, s1 = 0.0, s2, 0.0
    if s2 < EPS:
        g, sv = 0.0, 0.0
    if g < 0.0:
        sv, g = s2, 0.0
    if sv <= EPS:
        sv = EPS
    return g, sv, s1


@kernel
def _row_factors(m: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> None:
    """Per pixel of a row of window means (F, F^2, then A, A^2, AF, B, B^2, BF): the
    factors 1 + g^2 s1 / (sv + sigma_n^2) and 1 + s1 / sigma_n^2 of the source with the
    smaller gain (A where g_A < g_B, else B), whose base-10 logarithms are VID and VIND."""
    for c in range(m.shape[1]):
        ga, sva, s1a = _gain_terms(m[0, c], m[1, c], m[2, c], m[3, c], m[4, c])
        gb, svb, s1b = _gain_terms(m[0, c], m[1, c], m[5, c], m[6, c], m[7, c])
        if ga < gb:
            g, sv, s1 = ga, sva, s1a
        else:
            g, sv, s1 = gb, svb, s1b
        numerator[c] = 1.0 + g * g * s1 / (sv + NOISE_VARIANCE)
        denominator[c] = 1.0 + s1 / NOISE_VARIANCE


@kernel
def _scale_ratio(f: np.ndarray, a: np.ndarray, b: np.ndarray, taps: np.ndarray) -> float:
    """(sum VID + C) / (sum VIND + C) of one scale (C per pixel): window moments of F
    against A and B streamed row by row, logarithms summed as running products."""
    columns = f.shape[1] - len(taps) + 1
    planes, lines, means = moment_scratch(f.shape[1], 2, taps)
    numerator, denominator = np.empty(columns), np.empty(columns)
    products, exponents = np.ones(2), np.zeros(2, dtype=np.int64)
    pixels = 0
    for top in range(0, f.shape[0] - len(taps) + 1, STREAM_BLOCK_ROWS):
        block = moment_block(f, (a, b), taps, top, planes)
        for r in range(0, block, 2):
            for q in range(moment_means(planes, r, block, taps, lines, means)):
                _row_factors(means[q], numerator, denominator)
                products[0], exponents[0] = _log10_sum(numerator, products[0], exponents[0])
                products[1], exponents[1] = _log10_sum(denominator, products[1], exponents[1])
                pixels += columns
    extra = TERM_C * pixels
    return ((log10_product(products[0], exponents[0]) + extra)
            / (log10_product(products[1], exponents[1]) + extra))


def han_vif(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """VIFF, Han et al.'s visual information fidelity for fusion (MEFB ``VIF``).

    Four scales s with N x N Gaussian windows, N = 2^(5-s) + 1 (17, 9, 5, 3),
    sigma = N/5; for s > 1 A, B and F are filtered with that scale's window ('valid')
    and every second row and column kept. Per pixel and source X (reference) against F:
    Sheikh-Bovik's gain g = sigma_XF / (sigma_X^2 + 1e-10) and sv = sigma_F^2 - g sigma_XF
    with the reference's corrections (g = 0 for flat X or F or a negative gain,
    sv >= 1e-10); VID = log10(1 + g^2 sigma_X^2 / (sv + sigma_n^2)) and
    VIND = log10(1 + sigma_X^2 / sigma_n^2), sigma_n^2 = 0.005 * 255^2, taken from the
    source with the smaller gain (ties go to B). Per scale
    F_s = sum(VID + 1e-7) / sum(VIND + 1e-7); VIFF = sum_s p_s F_s with
    p = (1, 0, 0.15, 1) / 2.15 (scale 2 is computed: it feeds the downsampling).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255 (raw values).

    Returns
    -------
    ndarray, N
        Dimensionless, about 0..1; higher is better.

    References
    ----------
    .. [1] Y. Han, Y. Cai, Y. Cao, X. Xu, Information Fusion 14(2), 127-135, 2013.
    """
    values = np.zeros(len(F))
    for scale in range(1, SCALES + 1):
        taps = scale_taps(scale)
        if scale > 1:
            F, A, B = (filter_valid(x, taps, step=2) for x in (F, A, B))
        F, A, B = (np.ascontiguousarray(x, dtype=np.float64) for x in (F, A, B))
        weight = SCALE_WEIGHTS[scale - 1]
        for i in range(len(F)):
            values[i] += weight * _scale_ratio(F[i], A[i], B[i], taps)
    return values
