"""VIF of the default profile: pixel-domain VIF (VIFp) summed over the two sources."""
from __future__ import annotations

import numpy as np

from .filters import WindowMeans, filter_valid, gaussian_taps, window_means
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
    and 1.0 where that is 0/0 (no reference detail at any scale). ``reference`` may hold
    K times as many images as ``distorted`` (the sources [A, B] against one F): image i
    of ``distorted`` pairs with images i, N + i, ... and is filtered once. Returns one
    value per reference image.

    References
    ----------
    .. [1] H. R. Sheikh, A. C. Bovik, "Image information and visual quality",
       IEEE Trans. Image Process. 15(2), 430-444, 2006.
    .. [2] Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based
       on visual information fidelity", Inf. Fusion 14(2), 127-135, 2013.
    """
    n = len(distorted)
    sources = len(reference) // n
    numerator = np.zeros((sources, n))
    denominator = np.zeros_like(numerator)
    for scale in range(1, SCALES + 1):
        taps = scale_taps(scale)
        if scale > 1:
            both = filter_valid(np.concatenate([reference, distorted]), taps)[:, ::2, ::2]
            reference, distorted = both[:len(reference)], both[len(reference):]
        m = window_means(distorted, reference, taps)
        s2_noise, keep = _distorted_terms(m)
        for k in range(sources):  # one image plane per operation: the working set fits L2
            num, den = _scale_sums(m, k, s2_noise, keep)
            numerator[k] += num
            denominator[k] += den
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator / denominator
    return np.where(np.isnan(ratio), 1.0, ratio).reshape(-1)


def _distorted_terms(m: WindowMeans) -> tuple[np.ndarray, np.ndarray]:
    """``s2 + sigma_n^2`` (written into ``m.xx``) and the 0/1 mask ``s2 >= eps``.

    s2 is not clamped at 0: where it is negative the mask zeroes s12, so the noise term
    ``max(s2 + sigma_n^2 - g s12, eps + sigma_n^2)`` is ``eps + sigma_n^2``, as with the
    reference's clamped s2 (``max(sv, eps) + sigma_n^2`` up to rounding).
    """
    s2 = m.xx[0]
    s2 -= np.square(m.x[0])
    keep = (s2 >= EPS).astype(np.float64)
    s2 += NOISE_VARIANCE
    return s2, keep


def _scale_sums(m: WindowMeans, k: int, s2_noise: np.ndarray,
                keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image numerator and denominator sums of one scale for reference plane k.

    The reference's masking sequence leaves a zero numerator term unless s1 >= eps,
    s2 >= eps and g > 0; there sv = max(s2 - g s12, eps). Zeroing s1 < eps (as the
    reference does for the denominator) and s12 where s2 < eps or s12 < 0 gives the same
    terms without masks; ``g s1`` is taken first, 0 where s1 = 0 even for a huge g.
    Overwrites the planes ``m.y[k]``, ``m.yy[k]`` and ``m.xy[k]``.
    """
    mu, s1, s12 = m.y[k], m.yy[k], m.xy[k]
    scratch = np.multiply(mu, mu)
    s1 -= scratch
    s1 *= s1 >= EPS
    s12 -= np.multiply(mu, m.x[0], out=scratch)
    np.maximum(s12, 0.0, out=s12)
    s12 *= keep
    g = np.add(s1, EPS, out=mu)
    np.divide(s12, g, out=g)
    sv = np.multiply(g, s12, out=s12)
    np.subtract(s2_noise, sv, out=sv)
    np.maximum(sv, EPS + NOISE_VARIANCE, out=sv)
    gain = np.multiply(g, s1, out=scratch)
    gain *= g
    gain /= sv
    s1 /= NOISE_VARIANCE
    return _sum_log10_1p(gain, m.valid), _sum_log10_1p(s1, m.valid)


def _sum_log10_1p(x: np.ndarray, region: tuple) -> np.ndarray:
    """Per-image sums of ``log10(1 + x[region])`` (the region of x is overwritten)."""
    x = x[region]
    x += 1.0
    return np.log10(x, out=x).sum(axis=(-2, -1))


@checked("VIF", MIN_SIZE)
def fusion_vif(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """VIF: ``VIFp(A, F) + VIFp(B, F)`` (sum over the sources), see :func:`vifp`."""
    n = len(F)
    both = vifp(np.concatenate([A, B]), F)
    return both[:n] + both[n:]
