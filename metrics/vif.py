"""VIF of the default profile: pixel-domain VIF (VIFp) summed over the two sources."""
from __future__ import annotations

import numpy as np

from .filters import filter_valid, gaussian_taps, local_moments
from .validation import checked

SCALES = 4
NOISE_VARIANCE = 2.0  # sigma_n^2 of the HVS noise model
EPS = 1e-10
MIN_SIZE = 41  # smallest side for which all four 'valid' scales are non-empty


def scale_taps(scale: int) -> np.ndarray:
    """Gaussian taps of scale 1..4: N = 2^(5 - scale) + 1 (17, 9, 5, 3), sigma = N / 5."""
    size = 2 ** (SCALES - scale + 1) + 1
    return gaussian_taps(size, size / 5.0)


def vifp(reference: np.ndarray, distorted: np.ndarray) -> np.ndarray:
    """Pixel-domain visual information fidelity of ``distorted`` against ``reference``.

    Four scales; for scale > 1 both images are first filtered with that scale's window
    ('valid') and subsampled by 2. With 'valid' local moments s1, s2, s12 (clamped at 0
    for s1, s2): ``g = s12 / (s1 + 1e-10)``, ``sv = s2 - g s12``, then in this order
    g = 0 and sv = s2 and s1 = 0 where s1 < 1e-10; g = 0 and sv = 0 where s2 < 1e-10;
    sv = s2 and g = 0 where g < 0; sv = max(sv, 1e-10).
    ``VIFp = sum log10(1 + g^2 s1 / (sv + 2)) / sum log10(1 + s1 / 2)`` over all scales,
    and 1.0 where that is 0/0 (no reference detail at any scale). One stack may be K
    times longer than the other (one F against [A, B]); the shorter one is filtered
    once (see :func:`metrics.filters.local_moments`). Returns one value per image of
    the longer stack.

    References
    ----------
    .. [1] H. R. Sheikh, A. C. Bovik, "Image information and visual quality",
       IEEE Trans. Image Process. 15(2), 430-444, 2006.
    .. [2] Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based
       on visual information fidelity", Inf. Fusion 14(2), 127-135, 2013.
    """
    n = min(len(reference), len(distorted))
    numerator = np.zeros((max(len(reference), len(distorted)) // n, n))
    denominator = np.zeros_like(numerator)
    for scale in range(1, SCALES + 1):
        taps = scale_taps(scale)
        if scale > 1:
            both = filter_valid(np.concatenate([reference, distorted]), taps)[:, ::2, ::2]
            reference, distorted = both[:len(reference)], both[len(reference):]
        m = local_moments(reference, distorted, taps)
        # The reference's masking sequence leaves a zero numerator term unless s1 >= eps,
        # s2 >= eps and g > 0; there sv = max(s2 - g s12, eps). Zeroing s1 < eps (as the
        # reference does for the denominator), s12 where s2 < eps and g < 0 gives the
        # same terms without masks.
        s1 = np.maximum(m.var_x, 0.0, out=m.var_x)
        s1 *= s1 >= EPS
        s2 = np.maximum(m.var_y, 0.0, out=m.var_y)
        s12 = m.cov
        s12 *= s2 >= EPS
        g = s12 / (s1 + EPS)
        np.maximum(g, 0.0, out=g)
        sv = np.multiply(g, s12, out=s12)
        np.subtract(s2, sv, out=sv)
        np.maximum(sv, EPS, out=sv)
        sv += NOISE_VARIANCE
        gain = g * s1  # g s1 first: 0 where s1 = 0, even for a huge g
        gain *= g
        gain /= sv
        numerator += _sum_log10_1p(gain, m.valid)
        s1 /= NOISE_VARIANCE
        denominator += _sum_log10_1p(s1, m.valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator / denominator
    return np.where(np.isnan(ratio), 1.0, ratio).reshape(-1)


def _sum_log10_1p(x: np.ndarray, region: tuple) -> np.ndarray:
    """Per-image sums of ``log10(1 + x[region])`` (x is overwritten)."""
    x += 1.0
    return np.log10(x, out=x)[region].sum(axis=(-2, -1))


@checked("VIF", MIN_SIZE)
def fusion_vif(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """VIF: ``VIFp(A, F) + VIFp(B, F)`` (sum over the sources), see :func:`vifp`."""
    n = len(F)
    both = vifp(np.concatenate([A, B]), F)
    return both[:n] + both[n:]
