"""Information-theoretic measures of Liu's toolbox and MEFB: Q_MI (MEFB NMI), Cvejic's
TE, Nava's Q_TE and Wang's Q_NCIE, on joint histograms of ``normalize1``-stretched images.

Every measure first stretches each image on its own to the integers 0..255
(:func:`metrics.matlab.normalize_minmax_round`, Liu's ``normalize1``) and builds
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

from typing import NamedTuple

import numpy as np

from .matlab import normalize_minmax_round

LEVELS = 256
CVEJIC_Q = 1.85    # Cvejic's Tsallis order (TE)
NAVA_Q = 0.43137   # Nava's Tsallis order (Q_TE)


class JointHistogram(NamedTuple):
    """Joint probabilities of two level maps (N x 256 x 256, [first, second]) and their
    marginals (N x 256): ``first`` over the rows, ``second`` over the columns."""

    joint: np.ndarray
    first: np.ndarray
    second: np.ndarray


def stretched_levels(*stacks: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """``normalize1`` of each stack as integer codes 0..255 (N x H*W) and a mask of the
    images (N) that some stack leaves without a stretch (constant non-zero: NaN)."""
    levels, undefined = [], np.zeros(len(stacks[0]), dtype=bool)
    for stack in stacks:
        stretched = normalize_minmax_round(stack).reshape(len(stack), -1)
        bad = np.isnan(stretched).any(axis=1)
        undefined |= bad
        levels.append(np.where(bad[:, None], 0.0, stretched).astype(np.intp))
    return levels, undefined


def joint_histogram(first: np.ndarray, second: np.ndarray) -> JointHistogram:
    """Normalised 256 x 256 joint histograms of two N x P stacks of codes 0..255."""
    n, pixels = first.shape
    codes = first * LEVELS + second + (np.arange(n) * LEVELS * LEVELS)[:, None]
    counts = np.bincount(codes.ravel(), minlength=n * LEVELS * LEVELS)
    joint = counts.reshape(n, LEVELS, LEVELS) / pixels
    return JointHistogram(joint, joint.sum(axis=2), joint.sum(axis=1))


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """``-sum(p log2 p)`` over the last axes after the first, 0 log 0 = 0."""
    flat = p.reshape(len(p), -1)
    return 0.0 - np.sum(flat * np.log2(np.where(flat > 0, flat, 1.0)), axis=1)


def _entropies(h: JointHistogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H(first), H(second), H(first, second) in bits."""
    return _entropy_bits(h.first), _entropy_bits(h.second), _entropy_bits(h.joint)


def tsallis_information(h: JointHistogram, q: float) -> np.ndarray:
    """Liu's ``tsallis``: ``(1 - S) / (1 - q)``, ``S = sum h(i,j)^q / d(i,j)^(q-1)`` over
    the cells with ``d != 0``, where **as coded** ``d(i,j) = p_second(i) p_first(j)``
    (``sum(h)`` is the column marginal, used as the first image's). Only occupied cells
    contribute (0^q = 0 for q > 0)."""
    owner, i, j = np.nonzero(h.joint)
    d = h.second[owner, i] * h.first[owner, j]
    used = d != 0
    cells = h.joint[owner, i, j][used] ** q / d[used] ** (q - 1.0)
    total = np.bincount(owner[used], weights=cells, minlength=len(h.joint))
    return (1.0 - total) / (1.0 - q)


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
        h_x, h_f, h_xf = _entropies(joint_histogram(source, f))
        value += (h_x + h_f - h_xf) / (h_f + h_x)
    return _with_undefined(2.0 * value, undefined)


def tsallis_entropy_cvejic(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """TE: Cvejic's Tsallis-entropy measure ``T_q(A,F) + T_q(B,F)``, q = 1.85, higher is
    better, unbounded.

    ``T_q(X,F) = (1 - S) / (1 - q)`` with ``S = sum h^q / d^(q-1)`` over the 256 x 256
    joint histogram h of the ``normalize1``-stretched X (rows) and F (columns), where
    **as coded** ``d(i,j) = p_F(i) p_X(j)`` (the reference's swapped marginals; the
    paper divides by ``p_X(i) p_F(j)``, which gives far smaller values on sparse
    histograms) and cells with ``d = 0`` are skipped (:func:`tsallis_information`).
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
    value = (tsallis_information(joint_histogram(a, f), CVEJIC_Q)
             + tsallis_information(joint_histogram(b, f), CVEJIC_Q))
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
    sources = joint_histogram(a, b)
    h_a, h_b, _ = _entropies(sources)
    numerator = (tsallis_information(joint_histogram(a, f), NAVA_Q)
                 + tsallis_information(joint_histogram(b, f), NAVA_Q))
    denominator = h_b ** NAVA_Q + h_a ** NAVA_Q + tsallis_information(sources, NAVA_Q)
    return _with_undefined(numerator / denominator, undefined)


def nonlinear_correlation_information_entropy(F: np.ndarray, A: np.ndarray,
                                              B: np.ndarray) -> np.ndarray:
    """Q_NCIE: Wang's nonlinear correlation information entropy, in [0, 1], higher is
    better.

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
        h_x, h_y, h_xy = _entropies(joint_histogram(x, y))
        return h_y / scale + h_x / scale - h_xy / scale

    r = np.repeat(np.eye(3)[None], len(F), axis=0)
    for (i, j), (x, y) in zip(((0, 1), (0, 2), (1, 2)), ((a, b), (a, f), (b, f))):
        r[:, i, j] = r[:, j, i] = ncc(x, y)
    eigen = np.linalg.eigvalsh(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_r = -np.sum(eigen * np.log2(eigen / 3.0) / 3.0, axis=1) / scale
    return _with_undefined(1.0 - h_r, undefined)
