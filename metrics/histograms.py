"""Batched histograms, entropies and mutual information (all profiles).

Public, stable names: :func:`gray_histograms`, :func:`entropy`, :func:`value_codes`,
:func:`mutual_information`.
"""
from __future__ import annotations

import numpy as np

from .jit import kernel


@kernel
def _code_counts(codes: np.ndarray, table: np.ndarray) -> None:
    """Counts of the integer codes into ``table`` (zeroed here); a run of equal codes is
    counted at once (image backgrounds are long runs, which would otherwise serialise
    the increments of one bin)."""
    table[:] = 0
    last, run = codes[0], 0
    for code in codes:
        if code == last:
            run += 1
        else:
            table[last] += run
            last, run = code, 1
    table[last] += run


@kernel
def _rounded_counts(x: np.ndarray, bins: int, counts: np.ndarray) -> None:
    """Counts (N x bins) of each row of x rounded half to even and clipped to
    ``0..bins-1``: the bins in one vectorised pass, then :func:`_code_counts`."""
    codes = np.empty(x.shape[1], dtype=np.int32)
    for i in range(x.shape[0]):
        row = x[i]
        for p in range(row.shape[0]):
            codes[p] = int(min(max(np.rint(row[p]), 0.0), bins - 1.0))
        _code_counts(codes, counts[i])


def gray_histograms(x: np.ndarray, bins: int = 256) -> np.ndarray:
    """Per-image counts of the integer values ``0..bins-1`` (N x bins).

    Values are rounded half to even (``numpy.round``) and clipped to ``0..bins-1``.
    """
    counts = np.empty((len(x), bins), dtype=np.int64)
    _rounded_counts(np.ascontiguousarray(x, dtype=np.float64).reshape(len(x), -1), bins, counts)
    return counts


def entropy(counts: np.ndarray, base: float = 2.0) -> np.ndarray:
    """Shannon entropy of each row of a count (or probability) table, N x K -> N.

    ``-sum p log p`` with ``0 log 0 = 0``, in bits for ``base=2`` and nats for ``base=e``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum(axis=1, keepdims=True)
    logs = np.log(np.where(p > 0, p, 1.0))
    return 0.0 - np.sum(p * logs, axis=1) / np.log(base)  # 0.0 - : no -0.0


def value_codes(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Label every pixel by its exact value: N x H*W integer codes and the code count.

    Codes lie in ``0..count-1``. Integer-valued stacks in 0..255 use the value itself
    (fast path, count 256, uint8 codes); any other stack is ranked per image with ``numpy.unique``
    (count = the largest number of distinct values of one image).
    """
    n = len(x)
    flat = x.reshape(n, -1)
    with np.errstate(invalid="ignore"):  # an out-of-range cast never equals its input
        small = flat.astype(np.uint8)
    if np.array_equal(small, flat):
        return small, 256
    codes = np.empty(flat.shape, dtype=np.intp)
    count = 1
    for i, row in enumerate(flat):
        uniques, codes[i] = np.unique(row, return_inverse=True)
        count = max(count, len(uniques))
    return codes, count


@kernel
def _byte_codes(x: np.ndarray, scale: int, codes: np.ndarray) -> bool:
    """``codes += scale * x`` for a byte-valued row x; False if a value of x is not an
    integer in 0..255 (then ``codes`` is incomplete). No early exit: the loop vectorises."""
    bad = False
    for p in range(x.shape[0]):
        value = x[p]
        inside = 0.0 <= value <= 255.0
        level = int(value) if inside else 0
        bad |= not inside or level != value
        codes[p] += scale * level
    return not bad


@kernel
def _joint_information(joint: np.ndarray, pixels: int) -> float:
    """Mutual information in nats of a 256 x 256 table of joint counts (clipped at 0)."""
    px, py = np.empty(256), np.zeros(256)
    for i in range(256):
        row_sum = 0
        for k in range(256):
            row_sum += joint[i, k]
            py[k] += joint[i, k]
        px[i] = row_sum
    total = 0.0
    for i in range(256):
        for k in range(256):
            count = joint[i, k]
            if count:
                total += count * np.log(count * pixels / (px[i] * py[k]))
    return max(total / pixels, 0.0)


@kernel
def _byte_mutual_information(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> bool:
    """:func:`mutual_information` of byte-valued rows (x: M x P, y: N x P; row j of y
    pairs with row j % M of x) from dense 256 x 256 joint counts, into ``out``; False
    (``out`` incomplete) where a value is not an integer in 0..255."""
    pixels = x.shape[1]
    joint = np.empty((256, 256), dtype=np.int32)
    x_codes, codes = np.empty((x.shape[0], pixels), dtype=np.int32), np.empty(pixels, np.int32)
    for i in range(x.shape[0]):
        x_codes[i] = 0
        if not _byte_codes(x[i], 256, x_codes[i]):
            return False
    for j in range(y.shape[0]):
        codes[:] = x_codes[j % x.shape[0]]
        if not _byte_codes(y[j], 1, codes):
            return False
        _code_counts(codes, joint.reshape(-1))
        out[j] = _joint_information(joint, pixels)
    return True


def mutual_information(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mutual information in nats between the exact pixel values of x and y, per image.

    ``I = sum p(i,j) log(p(i,j) / (p(i) p(j)))`` over the joint histogram with one bin
    per distinct value; this is scikit-learn's ``mutual_info_score`` on the flattened
    images. Byte-valued images (integers 0..255) take a compiled kernel over dense
    256 x 256 counts; others visit only the occupied joint bins (sorting). Clipped at
    0 (rounding can give -1e-16 on independent images). x may be shorter than y, its
    length dividing y's: it is then repeated (one fused stack F against the sources
    [A, B], coded once).

    References
    ----------
    .. [1] T. M. Cover, J. A. Thomas, "Elements of Information Theory", 2nd ed.,
       Wiley, 2006, ch. 2.
    """
    n, m = len(y), len(x)
    fx = np.ascontiguousarray(x, dtype=np.float64).reshape(m, -1)
    fy = np.ascontiguousarray(y, dtype=np.float64).reshape(n, -1)
    out = np.empty(n)
    if _byte_mutual_information(fx, fy, out):
        return out
    cx, kx = value_codes(x)
    cy, ky = value_codes(y)
    pixels = cx.shape[1]
    joint = cy.reshape(n // m, m, pixels).astype(np.intp) + cx.astype(np.intp) * ky
    # image k * m + i pairs x[i] with y[k * m + i]
    joint += (np.arange(n, dtype=np.intp) * (kx * ky)).reshape(n // m, m, 1)
    if n * kx * ky <= 1 << 26:
        table = np.bincount(joint.ravel(), minlength=n * kx * ky)
        codes = np.flatnonzero(table > 0)
        counts = table[codes]
    else:
        codes, counts = np.unique(joint, return_counts=True)
    owner = codes // (kx * ky)
    i = (codes // ky) % kx
    j = codes % ky
    px = np.bincount(owner * kx + i, weights=counts, minlength=n * kx)
    py = np.bincount(owner * ky + j, weights=counts, minlength=n * ky)
    counts = counts.astype(np.float64)
    terms = counts * np.log(counts * pixels / (px[owner * kx + i] * py[owner * ky + j]))
    return np.maximum(np.bincount(owner, weights=terms, minlength=n) / pixels, 0.0)
