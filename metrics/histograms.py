"""Batched histograms, entropies and mutual information (all profiles).

Public, stable names: :func:`gray_histograms`, :func:`entropy`, :func:`value_codes`,
:func:`mutual_information`.
"""
from __future__ import annotations

import cv2
import numpy as np

EXACT_FLOAT32_COUNTS = 1 << 24  # OpenCV histograms count in float32: exact below 2^24


def _byte_histograms(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray | None:
    """Counts of the uint8 images x (N x 256), or joint counts of (x, y) image pairs
    (N x 256*256, x value major) with x repeated when y is K times longer; OpenCV
    ``calcHist`` (float32 counts). None where float32 counts could be inexact."""
    if x[0].size >= EXACT_FLOAT32_COUNTS:
        return None
    if y is None:
        rows = [cv2.calcHist([image], [0], None, [256], [0, 256]) for image in x]
    else:
        rows = [cv2.calcHist([x[i % len(x)], image], [0, 1], None, [256, 256], [0, 256, 0, 256])
                for i, image in enumerate(y)]
    return np.stack(rows).reshape(len(rows), -1)


def gray_histograms(x: np.ndarray, bins: int = 256) -> np.ndarray:
    """Per-image counts of the integer values ``0..bins-1`` (N x bins).

    Values are rounded half to even (``numpy.round``) and clipped to ``0..bins-1``.
    """
    n = len(x)
    values = np.clip(np.round(x), 0, bins - 1)
    if bins == 256 and (counts := _byte_histograms(values.astype(np.uint8))) is not None:
        return counts.astype(np.int64)
    values = values.reshape(n, -1).astype(np.int64)
    values += (np.arange(n, dtype=np.int64) * bins)[:, None]
    return np.bincount(values.ravel(), minlength=n * bins).reshape(n, bins)


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


def mutual_information(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mutual information in nats between the exact pixel values of x and y, per image.

    ``I = sum p(i,j) log(p(i,j) / (p(i) p(j)))`` over the joint histogram with one bin
    per distinct value; this is scikit-learn's ``mutual_info_score`` on the flattened
    images. Only occupied joint bins are visited (dense bincount for 8-bit values,
    sorting otherwise). Clipped at 0 (rounding can give -1e-16 on independent images).
    x may be shorter than y, its length dividing y's: it is then repeated (one fused
    stack F against the sources [A, B], coded once).

    References
    ----------
    .. [1] T. M. Cover, J. A. Thomas, "Elements of Information Theory", 2nd ed.,
       Wiley, 2006, ch. 2.
    """
    n, m = len(y), len(x)
    cx, kx = value_codes(x)
    cy, ky = value_codes(y)
    pixels = cx.shape[1]
    table = None
    if kx == ky == 256:  # 8-bit values: OpenCV joint histograms
        table = _byte_histograms(cx, cy)
    if table is None:
        joint = cy.reshape(n // m, m, pixels).astype(np.intp) + cx.astype(np.intp) * ky
        # image k * m + i pairs x[i] with y[k * m + i]
        joint += (np.arange(n, dtype=np.intp) * (kx * ky)).reshape(n // m, m, 1)
        if n * kx * ky <= 1 << 26:
            table = np.bincount(joint.ravel(), minlength=n * kx * ky)
    if table is not None:
        codes = np.flatnonzero(table > 0)
        counts = table.ravel()[codes]
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
