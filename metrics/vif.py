"""VIF of the default profile: pixel-domain VIF (VIFp) summed over the two sources."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .filters import (
    STREAM_BLOCK_ROWS,
    filter_valid,
    gaussian_taps,
    moment_block,
    moment_means,
    moment_scratch,
)
from .jit import kernel, log10_product, times
from .validation import checked

SCALES = 4
NOISE_VARIANCE = 2.0  # sigma_n^2 of the HVS noise model
EPS = 1e-10
MIN_SIZE = 41  # smallest side for which all four 'valid' scales are non-empty


def scale_taps(scale: int) -> np.ndarray:
    """Gaussian taps of scale 1..4: N = 2^(5 - scale) + 1 (17, 9, 5, 3), sigma = N / 5."""
    size = 2 ** (SCALES - scale + 1) + 1
    return gaussian_taps(size, size / 5.0)


def vifp(references: Sequence[np.ndarray], distorted: np.ndarray) -> np.ndarray:
    """Pixel-domain visual information fidelity of ``distorted`` against each reference.

    Four scales; for scale > 1 both images are first filtered with that scale's window
    ('valid') and subsampled by 2. With 'valid' local moments s1, s2, s12 (clamped at 0
    for s1, s2): ``g = s12 / (s1 + 1e-10)``, ``sv = s2 - g s12``, then in this order
    g = 0 and sv = s2 and s1 = 0 where s1 < 1e-10; g = 0 and sv = 0 where s2 < 1e-10;
    sv = s2 and g = 0 where g < 0; sv = max(sv, 1e-10).
    ``VIFp = sum log10(1 + g^2 s1 / (sv + 2)) / sum log10(1 + s1 / 2)`` over all scales,
    and 1.0 where that is 0/0 (no reference detail at any scale). ``references`` are K
    stacks like ``distorted`` (the sources A and B against one F, which is filtered
    once); returns K x N values.

    References
    ----------
    .. [1] H. R. Sheikh, A. C. Bovik, "Image information and visual quality",
       IEEE Trans. Image Process. 15(2), 430-444, 2006.
    .. [2] Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based
       on visual information fidelity", Inf. Fusion 14(2), 127-135, 2013.
    """
    sums = np.zeros((len(references), len(distorted), 2))  # numerator, denominator
    for scale in range(1, SCALES + 1):
        taps = scale_taps(scale)
        if scale > 1:
            references = [filter_valid(stack, taps, step=2) for stack in references]
            distorted = filter_valid(distorted, taps, step=2)
        stacks = tuple(np.ascontiguousarray(stack) for stack in references)
        for i in range(len(distorted)):
            _scale_sums(distorted[i], tuple(stack[i] for stack in stacks), taps, sums[:, i])
    numerator, denominator = sums[..., 0], sums[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator / denominator
    return np.where(np.isnan(ratio), 1.0, ratio)


@kernel
def _row_terms(x: np.ndarray, xx: np.ndarray, y: np.ndarray, yy: np.ndarray, xy: np.ndarray,
               numerator: np.ndarray, denominator: np.ndarray) -> None:
    """The factors ``1 + g s1 g / sv`` and ``1 + s1 / sigma_n^2`` of one row of pixels
    (whose logarithms VIF sums), from the row's window means.

    Per pixel, in the reference's order: ``s2 = xx - x^2`` (not clamped: where it is
    below eps s12 is zeroed, and the noise term ``max(s2 + sigma_n^2 - g s12,
    eps + sigma_n^2)`` equals the reference's ``max(sv, eps) + sigma_n^2`` up to
    rounding); ``s1 = yy - mu^2``, 0 below eps; ``s12 = max(xy - mu x, 0)``, 0 where
    s2 < eps; then ``g = s12 / (s1 + eps)``. The reference's masking sequence leaves a
    zero numerator term unless s1 >= eps, s2 >= eps and g > 0, which these zeroings
    give without masks.
    """
    for c in range(x.shape[0]):
        mx, mu = x[c], y[c]
        s2 = xx[c] - mx * mx
        s1 = yy[c] - mu * mu
        s1 = s1 if s1 >= EPS else 0.0
        s12 = xy[c] - mu * mx
        s12 = 0.0 if s12 < 0.0 or s2 < EPS else s12
        g = s12 / (s1 + EPS)
        sv = max((s2 + NOISE_VARIANCE) - g * s12, EPS + NOISE_VARIANCE)
        numerator[c] = 1.0 + g * s1 * g / sv
        denominator[c] = 1.0 + s1 / NOISE_VARIANCE


@kernel
def _log10_sum(factors: np.ndarray, product: float, exponent: int) -> tuple[float, int]:
    """Multiply ``factors`` into the running product (:func:`metrics.jit.times`) eight at
    a time: each group's product is taken first (independent of the running product, so
    the groups overlap in the CPU), one factor at a time where a group's product
    overflows (factors above about 1e38, from images far outside 0..255)."""
    for start in range(0, factors.shape[0], 8):
        group = 1.0
        for c in range(start, min(start + 8, factors.shape[0])):
            group *= factors[c]
        if group != np.inf:
            product, exponent = times(product, exponent, group)
        else:
            for c in range(start, min(start + 8, factors.shape[0])):
                product, exponent = times(product, exponent, factors[c])
    return product, exponent


@kernel
def _scale_sums(x: np.ndarray, y: tuple, taps: np.ndarray, sums: np.ndarray) -> None:
    """Add one scale's numerator and denominator sums to ``sums`` (K x 2) for one image
    x (H x W, the distorted image) and its K references ``y``.

    Window means of x, x^2 and per source y, y^2, xy over ``outer(taps, taps)``, 'valid'
    region, streamed (:func:`metrics.filters.moment_block`,
    :func:`metrics.filters.moment_means`); per output row the factors
    (:func:`_row_terms`), whose logarithms are summed as running products
    (:func:`_log10_sum`).
    """
    sources, columns = len(y), x.shape[1] - len(taps) + 1
    planes, lines, means = moment_scratch(x.shape[1], sources, taps)
    numerator, denominator = np.empty(columns), np.empty(columns)
    products, exponents = np.ones((sources, 2)), np.zeros((sources, 2), dtype=np.int64)
    for top in range(0, x.shape[0] - len(taps) + 1, STREAM_BLOCK_ROWS):
        block = moment_block(x, y, taps, top, planes)
        for r in range(0, block, 2):
            for q in range(moment_means(planes, r, block, taps, lines, means)):
                m = means[q]
                for k in range(sources):
                    _row_terms(m[0], m[1], m[2 + 3 * k], m[3 + 3 * k], m[4 + 3 * k],
                               numerator, denominator)
                    for term, factors in enumerate((numerator, denominator)):
                        products[k, term], exponents[k, term] = _log10_sum(
                            factors, products[k, term], exponents[k, term])
    for k in range(sources):
        for term in range(2):
            sums[k, term] += log10_product(products[k, term], exponents[k, term])


@checked("VIF", MIN_SIZE)
def fusion_vif(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """VIF: ``VIFp(A, F) + VIFp(B, F)`` (sum over the sources), see :func:`vifp`."""
    return vifp((A, B), F).sum(axis=0)
