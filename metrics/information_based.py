"""Information-theoretic measures of Liu's toolbox and MEFB: Q_MI (MEFB NMI), Cvejic's
TE, Nava's Q_TE and Wang's Q_NCIE, on joint histograms of ``normalize1``-stretched images.

Every measure first stretches each image on its own to the integers 0..255
(Liu's ``normalize1``, :func:`stretched_levels`) and builds
256 x 256 joint histograms indexed [first image value, second image value], normalised
to sum 1, as Liu's ``mutual_info.m``, ``tsallis.m`` and ``NCC.m`` do (MEFB copies them).
A constant non-zero image has no stretch (0/0; the reference stops with an index error):
its measures are NaN. Definitions and traps: ``docs/metrics.md`` ("The metric canon").

References
----------
.. [1] Z. Liu, E. Blasch, Z. Xue, J. Zhao, R. Laganiere, W. Wu, "Objective assessment
   of multiresolution image fusion algorithms for context enhancement in night vision:
   a comparative study", IEEE TPAMI 34(1), 94-109, 2012; code
   github.com/zhengliu6699/imageFusionMetrics.
"""
from __future__ import annotations

import numpy as np

from .jit import kernel

LEVELS = 256
CVEJIC_Q = 1.85    # Cvejic's Tsallis order (TE)
NAVA_Q = 0.43137   # Nava's Tsallis order (Q_TE)


@kernel
def _stretch(x: np.ndarray, codes: np.ndarray) -> bool:
    """``normalize1`` of one flattened image into integer codes 0..255: min-max to
    [0, 1], times 255, rounded half away from zero (the order of operations of
    :func:`metrics.matlab.normalize_minmax_round`); an all-zero image stays 0. False
    (codes undefined) for a constant non-zero image."""
    lo, hi = x.min(), x.max()
    if lo == 0.0 and hi == 0.0:
        codes[:] = 0
        return True
    if hi == lo:
        return False
    span = hi - lo
    for p in range(x.shape[0]):
        value = (x[p] - lo) / span * 255.0
        whole = np.floor(value)
        codes[p] = int(whole) + (1 if value - whole >= 0.5 else 0)
    return True


def stretched_levels(*stacks: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """``normalize1`` of each N x H x W stack as integer codes 0..255 (N x H*W) and a
    mask of the images (N) that some stack leaves without a stretch (constant
    non-zero: 0/0 in the reference)."""
    n = len(stacks[0])
    levels, undefined = [], np.zeros(n, dtype=bool)
    for stack in stacks:
        flat = np.ascontiguousarray(stack, dtype=np.float64).reshape(n, -1)
        codes = np.zeros(flat.shape, dtype=np.int32)
        for i in range(n):
            undefined[i] |= not _stretch(flat[i], codes[i])
        levels.append(codes)
    return levels, undefined


@kernel
def _joint_statistics(first: np.ndarray, second: np.ndarray, q: float,
                      table: np.ndarray, out: np.ndarray) -> None:
    """From the 256 x 256 joint histogram h of two code maps ([first, second], counts
    over the pixel count): ``out`` = H(first), H(second), H(first, second) in bits and,
    for q > 0, the Tsallis sum ``S = sum h(i,j)^q / d(i,j)^(q-1)`` over the cells with
    h > 0 and ``d(i,j) = p_second(i) p_first(j)`` != 0 (Liu's ``tsallis``: ``sum(h)``,
    the column marginal, serves as the first image's)."""
    pixels = first.shape[0]
    table[:] = 0
    for p in range(pixels):
        table[first[p], second[p]] += 1
    p_first, p_second = np.zeros(LEVELS), np.zeros(LEVELS)
    joint_entropy = 0.0
    for i in range(LEVELS):
        for j in range(LEVELS):
            if table[i, j]:
                h = table[i, j] / pixels
                p_first[i] += h
                p_second[j] += h
                joint_entropy -= h * np.log2(h)
    out[0], out[1], out[2], out[3] = 0.0, 0.0, joint_entropy, 0.0
    for k in range(LEVELS):
        if p_first[k] > 0.0:
            out[0] -= p_first[k] * np.log2(p_first[k])
        if p_second[k] > 0.0:
            out[1] -= p_second[k] * np.log2(p_second[k])
    if q > 0.0:
        for i in range(LEVELS):
            for j in range(LEVELS):
                d = p_second[i] * p_first[j]
                if table[i, j] and d != 0.0:
                    out[3] += (table[i, j] / pixels) ** q / d ** (q - 1.0)


def joint_statistics(first: np.ndarray, second: np.ndarray, q: float = 0.0) -> np.ndarray:
    """Per image (N x 4): H(first), H(second), H(first, second) in bits and, for q > 0,
    the Tsallis sum of Liu's ``tsallis`` (:func:`_joint_statistics`), from N x P code
    maps of :func:`stretched_levels`."""
    out = np.empty((len(first), 4))
    table = np.empty((LEVELS, LEVELS), dtype=np.int64)
    for i in range(len(first)):
        _joint_statistics(first[i], second[i], q, table, out[i])
    return out


def _tsallis(statistics: np.ndarray, q: float) -> np.ndarray:
    """``T_q = (1 - S) / (1 - q)`` from :func:`joint_statistics`."""
    return (1.0 - statistics[:, 3]) / (1.0 - q)


def _with_undefined(values: np.ndarray, undefined: np.ndarray) -> np.ndarray:
    return np.where(undefined, np.nan, values)


def normalized_mutual_information(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_MI: Hossny's normalised mutual information, in [0, 2], higher is better.

    ``Q_MI = 2 [MI(A,F) / (H(A) + H(F)) + MI(B,F) / (H(B) + H(F))]`` with
    ``MI(X,F) = H(X) + H(F) - H(X,F)``, entropies in bits of the 256-bin (joint)
    histograms of the ``normalize1``-stretched images (the log base cancels). Liu's
    ``metricMI(A, B, F, 1)`` and MEFB's ``metricsNMI`` (bitwise the same code). Not Qu's
    MI (the default profile's ``MI``).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255 integer values.

    Returns
    -------
    ndarray, N
        Dimensionless; NaN for an image that is constant and non-zero.

    References
    ----------
    .. [1] M. Hossny, S. Nahavandi, D. Creighton, "Comments on 'Information measure for
       performance of image fusion'", Electronics Letters 44(18), 1066-1067, 2008.
    """
    (a, b, f), undefined = stretched_levels(A, B, F)
    value = np.zeros(len(F))
    for source in (a, b):
        h_x, h_f, h_xf, _ = joint_statistics(source, f).T
        value += (h_x + h_f - h_xf) / (h_f + h_x)
    return _with_undefined(2.0 * value, undefined)


def tsallis_entropy_cvejic(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """TE: Cvejic's Tsallis measure T_q(A,F) + T_q(B,F), q = 1.85; higher is better, unbounded.

    ``T_q(X,F) = (1 - S) / (1 - q)`` with ``S = sum h^q / d^(q-1)`` over the 256 x 256
    joint histogram h of the ``normalize1``-stretched X (rows) and F (columns), where
    **as coded** ``d(i,j) = p_F(i) p_X(j)`` (the reference's swapped marginals; the
    paper divides by ``p_X(i) p_F(j)``, which gives far smaller values on sparse
    histograms) and cells with ``d = 0`` are skipped (:func:`joint_statistics`).
    MEFB's ``metricsTE`` and Liu's ``metricMI(A, B, F, 2)`` (bitwise the same code).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255 integer values.

    Returns
    -------
    ndarray, N
        Dimensionless, not normalised (single digits to about 1000 on medical pairs);
        NaN for an image that is constant and non-zero.

    References
    ----------
    .. [1] N. Cvejic, C. N. Canagarajah, D. R. Bull, "Image fusion metric based on
       mutual information and Tsallis entropy", Electronics Letters 42(11), 626-627, 2006.
    """
    (a, b, f), undefined = stretched_levels(A, B, F)
    value = (_tsallis(joint_statistics(a, f, CVEJIC_Q), CVEJIC_Q)
             + _tsallis(joint_statistics(b, f, CVEJIC_Q), CVEJIC_Q))
    return _with_undefined(value, undefined)


def tsallis_entropy_nava(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_TE: Nava's normalised Tsallis measure, q = 0.43137, higher is better.

    ``Q_TE = [T_q(A,F) + T_q(B,F)] / [H(A)^q + H(B)^q + T_q(A,B)]`` with T_q as in
    :func:`tsallis_entropy_cvejic` (same swapped-marginal divisor) and H the Shannon
    entropies in bits of the stretched sources. Liu's ``metricMI(A, B, F, 3)``, the
    "Q_TE" of Liu's ``fusionAssess`` (not MEFB's TE).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255 integer values.

    Returns
    -------
    ndarray, N
        Dimensionless (about 0.4-0.6 on medical pairs); NaN for an image that is
        constant and non-zero.

    References
    ----------
    .. [1] R. Nava, G. Cristobal, B. Escalante-Ramirez, "Mutual information improves
       image fusion quality assessments", SPIE Newsroom, 2007.
    """
    (a, b, f), undefined = stretched_levels(A, B, F)
    sources = joint_statistics(a, b, NAVA_Q)
    h_a, h_b = sources[:, 0], sources[:, 1]
    numerator = (_tsallis(joint_statistics(a, f, NAVA_Q), NAVA_Q)
                 + _tsallis(joint_statistics(b, f, NAVA_Q), NAVA_Q))
    denominator = h_b ** NAVA_Q + h_a ** NAVA_Q + _tsallis(sources, NAVA_Q)
    return _with_undefined(numerator / denominator, undefined)


def nonlinear_correlation_information_entropy(F: np.ndarray, A: np.ndarray,
                                              B: np.ndarray) -> np.ndarray:
    """Q_NCIE: Wang's nonlinear correlation information entropy, in [0, 1]; higher is better.

    ``NCC(X,Y) = H(X) + H(Y) - H(X,Y)`` with entropies in base 256 (bits / 8) of the
    stretched images; R = [[1, NCC(A,B), NCC(A,F)], [NCC(A,B), 1, NCC(B,F)],
    [NCC(A,F), NCC(B,F), 1]] with eigenvalues l_1..3;
    ``Q_NCIE = 1 + sum (l_i / 3) log_256(l_i / 3)``. Liu's ``metricWang`` and MEFB's
    ``metricsQncie``. A zero (or negative) eigenvalue gives NaN, as the unguarded
    logarithm of the reference (which returns NaN or a complex value there).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image and the two sources, 0..255 integer values.

    Returns
    -------
    ndarray, N
        Dimensionless; NaN for an image that is constant and non-zero.

    References
    ----------
    .. [1] Q. Wang, Y. Shen, J. Jin, "Performance evaluation of image fusion
       techniques", in T. Stathaki (ed.), Image Fusion: Algorithms and Applications,
       ch. 19, 469-492, Academic Press, 2008.
    .. [2] Q. Wang, Y. Shen, J. Q. Zhang, "A nonlinear correlation measure for
       multivariable data set", Physica D 200(3-4), 287-295, 2005.
    """
    (a, b, f), undefined = stretched_levels(A, B, F)
    scale = np.log2(LEVELS)

    def ncc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        h_x, h_y, h_xy, _ = joint_statistics(x, y).T
        return h_y / scale + h_x / scale - h_xy / scale

    r = np.repeat(np.eye(3)[None], len(F), axis=0)
    for (i, j), (x, y) in zip(((0, 1), (0, 2), (1, 2)), ((a, b), (a, f), (b, f))):
        r[:, i, j] = r[:, j, i] = ncc(x, y)
    eigen = np.linalg.eigvalsh(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_r = -np.sum(eigen * np.log2(eigen / 3.0) / 3.0, axis=1) / scale
    return _with_undefined(1.0 - h_r, undefined)
