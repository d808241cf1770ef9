"""Edge-based metrics of the default profile: Qabf (edge transfer) and Nabf (artefacts).

Qabf evaluates its per-pixel terms on whole images (compiled kernels over blocks of
rows; pixels without a source edge get weight 0), Nabf only at artefact pixels (numpy
gathers); both sum per image.
"""
from __future__ import annotations

import numpy as np

from .jit import kernel, sum_kernel
from .validation import checked

HALF_PI = np.pi / 2.0
QABF_BLOCK_ROWS = 32  # Qabf works on blocks of rows: the block's planes stay in the L2 cache


# Q_XF = 0.9994 / (1 + e^(-15 (G - 0.5))) * 0.9879 / (1 + e^(-22 (Aor - 0.8))) with
# Aor = 1 - |aX - aF| / (pi/2): the exponents as 7.5 - 15 G and 22/(pi/2) |aX - aF| - 4.4.
QABF_GAIN = 0.9994 * 0.9879
QABF_STRENGTH = (-15.0, 15.0 * 0.5)            # slope, offset of the exponent in G
QABF_ALIGNMENT = (22.0 / HALF_PI, -22.0 * 0.2)  # slope, offset in |aX - aF|


@kernel
def _qabf_edges(padded: np.ndarray, strength: np.ndarray, slope: np.ndarray) -> None:
    """Sobel strength ``g`` and slope ``gy / gx`` (+inf where gx = 0) of each image,
    given the images with one row and column of zeros around them.

    ``gx = conv2(x, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 'same')`` and ``gy`` with
    ``[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]``, their nonzero terms added to +0 in the
    order of ``scipy.signal.convolve2d`` (the products by 1 and 2 are exact), so that
    equal responses stay equal as in the reference code; ``g = sqrt(gx^2 + gy^2)``.
    """
    images, height, width = strength.shape
    for i in range(images):
        for r in range(height):
            below, row, above = padded[i, r + 2], padded[i, r + 1], padded[i, r]
            g, t = strength[i, r], slope[i, r]
            for c in range(width):  # x[r + 1 - a, c + 1 - b] is padded[r + 2 - a, c + 2 - b]
                gx = 0.0 + -1.0 * below[c + 2] + 1.0 * below[c] + -2.0 * row[c + 2] \
                    + 2.0 * row[c] + -1.0 * above[c + 2] + 1.0 * above[c]
                gy = 0.0 + 1.0 * below[c + 2] + 2.0 * below[c + 1] + 1.0 * below[c] \
                    + -1.0 * above[c + 2] + -2.0 * above[c + 1] + -1.0 * above[c]
                g[c] = np.sqrt(gx * gx + gy * gy)
                t[c] = gy / gx if gx != 0.0 else np.inf


@kernel
def _padded_rows(images: tuple, top: int, count: int, out: np.ndarray) -> None:
    """Rows ``top - 1 .. top + count`` of each image into ``out[k, :count + 2, 1:-1]``,
    zeros beyond the image (the border columns of ``out`` stay zero)."""
    for k in range(len(images)):
        image = images[k]
        height, width = image.shape
        for r in range(count + 2):
            source, line = top - 1 + r, out[k, r]
            for c in range(width):
                line[c + 1] = image[source, c] if 0 <= source < height else 0.0


@kernel
def _qabf_exponents(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    """The two exponents of Q_AF and of Q_BF per pixel (rows of ``out``: strength A,
    alignment A, strength B, alignment B) from strengths and angles of A, B, F
    (rows of g and a, flattened): of the strength ratio ``G`` (``gF`` where gX == gF,
    the reference code's quirk) and of the orientation difference."""
    for k in range(2):
        g_x, a_x, g_f, a_f = g[k], a[k], g[2], a[2]
        strength, alignment = out[2 * k], out[2 * k + 1]
        for p in range(out.shape[1]):
            gx, gf = g_x[p], g_f[p]
            smaller, larger = (gx, gf) if gx < gf else (gf, gx)
            quotient = smaller / larger  # NaN where both are 0: then gx == gf
            ratio = gf if gx == gf else quotient
            strength[p] = ratio * QABF_STRENGTH[0] + QABF_STRENGTH[1]
            alignment[p] = abs(a_x[p] - a_f[p]) * QABF_ALIGNMENT[0] + QABF_ALIGNMENT[1]


@sum_kernel
def _qabf_sums(g: np.ndarray, powers: np.ndarray) -> tuple[float, float]:
    """``sum(gX / ((1 + e^s)(1 + e^a)))`` over both sources, from the exponentials of
    :func:`_qabf_exponents`, and ``sum(gA + gB)``."""
    weighted, total = 0.0, 0.0
    for k in range(2):
        g_x, strength, alignment = g[k], powers[2 * k], powers[2 * k + 1]
        for p in range(powers.shape[1]):
            weighted += g_x[p] / ((alignment[p] + 1.0) * (strength[p] + 1.0))
            total += g_x[p]
    return weighted, total


@checked("Qabf")
def fusion_qabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Qabf: Xydeas-Petrovic edge preservation weighted by source edge strength.

    Sobel responses by true convolution with zero padding (``conv2(x, h, 'same')``)
    with ``h_x = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and
    ``h_y = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]``; strength ``g = sqrt(gx^2 + gy^2)``,
    orientation ``a = arctan(gy / gx)`` (``pi/2`` where gx = 0). For a source X:
    ``G = gF/gX`` where gX > gF, ``gX/gF`` where gX < gF and ``gF`` where equal (the
    reference code's quirk), ``Aor = 1 - |aX - aF| / (pi/2)``,
    ``Q_XF = 0.9994 / (1 + exp(-15 (G - 0.5))) * 0.9879 / (1 + exp(-22 (Aor - 0.8)))``.
    ``Qabf = sum(Q_AF gA + Q_BF gB) / sum(gA + gB)``; 0 where both sources have no edge
    at all (the reference code gives 0/0 there). Per-pixel steps are compiled kernels;
    ``arctan`` and ``exp`` are numpy's (vectorised); each image is worked through in
    blocks of ``QABF_BLOCK_ROWS`` rows.

    References
    ----------
    .. [1] C. S. Xydeas, V. Petrovic, "Objective image fusion performance measure",
       Electron. Lett. 36(4), 308-309, 2000.
    """
    n, h, w = F.shape
    rows = min(h, QABF_BLOCK_ROWS)
    padded = np.zeros((3, rows + 2, w + 2))
    g, angle = np.empty((2, 3, rows, w))
    powers = np.empty((4, rows * w))
    value = np.zeros(n)
    for i in range(n):
        weighted = total = 0.0
        for top in range(0, h, rows):
            m = min(rows, h - top)
            _padded_rows((A[i], B[i], F[i]), top, m, padded)
            _qabf_edges(padded[:, :m + 2], g[:, :m], angle[:, :m])
            np.arctan(angle[:, :m], out=angle[:, :m])
            block_g = g[:, :m].reshape(3, -1)
            _qabf_exponents(block_g, angle[:, :m].reshape(3, -1), powers[:, :m * w])
            np.exp(powers[:, :m * w], out=powers[:, :m * w])
            block_weighted, block_total = _qabf_sums(block_g, powers[:, :m * w])
            weighted += block_weighted
            total += block_total
        value[i] = QABF_GAIN * weighted / total if total > 0 else 0.0
    return value


# Petrovic-Xydeas parameters as in B. K. Shreyamsha Kumar's objective_fusion_perform_fn.
NABF_THRESHOLD = 2.0      # Td: edge strength below which a pixel gets the minimum weight
NABF_MIN_WEIGHT = 0.001   # wt_min
NABF_WEIGHT_POWER = 1.5   # L
NABF_GAMMA_G, NABF_KAPPA_G, NABF_SIGMA_G = 0.9999, 19.0, 0.5
NABF_GAMMA_A, NABF_KAPPA_A, NABF_SIGMA_A = 0.9995, 22.0, 0.5
NABF_GATHER = 1 << 15  # artefact pixels gathered per numpy pass (11 x 8 B each: 2.9 MB)


def _nabf_orientation(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``arctan(gx / gy)`` (``+-pi/2`` where gy = 0, as MATLAB's atan(+-Inf)), 0 where
    both vanish."""
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.arctan(gx / gy)
    return np.where((gx == 0) & (gy == 0), 0.0, angle)


def _nabf_preservation(g_x: np.ndarray, a_x: np.ndarray, g_f: np.ndarray,
                       a_f: np.ndarray) -> np.ndarray:
    """Q_XF = sqrt(Q_g Q_a) at artefact pixels (gF > gX there, so G = gX / gF)."""
    ratio = g_x / g_f
    alignment = np.abs(np.abs(a_x - a_f) - HALF_PI) / HALF_PI
    q_g = NABF_GAMMA_G / (1.0 + np.exp(-NABF_KAPPA_G * (ratio - NABF_SIGMA_G)))
    q_a = NABF_GAMMA_A / (1.0 + np.exp(-NABF_KAPPA_A * (alignment - NABF_SIGMA_A)))
    return np.sqrt(q_g * q_a)


@kernel
def _mirrored(i: int, n: int) -> int:
    """Index i of a line of n values mirrored without repeating the edge (``dcb|abcd``)."""
    if n == 1:
        return 0
    return -i if i < 0 else (2 * n - 2 - i if i >= n else i)


@kernel
def _sobel8(up: np.ndarray, row: np.ndarray, down: np.ndarray, left: int, c: int,
            right: int) -> tuple[float, float]:
    """Sobel responses / 8 at column c from the rows above, at and below and the mirrored
    neighbour columns, the nonzero terms added to +0 in the kernels' row-major order
    (that of OpenCV's ``filter2D`` and ``scipy.signal.correlate2d``)."""
    gx = 0.0 + -1.0 * up[left] + 1.0 * up[right] + -2.0 * row[left] + 2.0 * row[right] \
        + -1.0 * down[left] + 1.0 * down[right]
    gy = 0.0 + -1.0 * up[left] + -2.0 * up[c] + -1.0 * up[right] + 1.0 * down[left] \
        + 2.0 * down[c] + 1.0 * down[right]
    return gx / 8.0, gy / 8.0


@kernel
def _nabf_edge_row(x: np.ndarray, r: int, hx: np.ndarray, hy: np.ndarray,
                   mag: np.ndarray) -> None:
    """Row r of the Sobel responses / 8 on a mirrored border (:func:`_sobel8`) and their
    magnitude ``sqrt(gx^2 + gy^2)`` for image x."""
    height, width = x.shape
    up, row, down = x[_mirrored(r - 1, height)], x[r], x[_mirrored(r + 1, height)]
    for c in range(1, width - 1):
        hx[c], hy[c] = _sobel8(up, row, down, c - 1, c, c + 1)
    for c in range(0, width, max(width - 1, 1)):  # the first and last column
        hx[c], hy[c] = _sobel8(up, row, down, _mirrored(c - 1, width), c,
                               _mirrored(c + 1, width))
    for c in range(width):
        mag[c] = np.sqrt(hx[c] * hx[c] + hy[c] * hy[c])


@kernel
def _nabf_weight(g: float) -> float:
    """``g^1.5`` (as ``g sqrt(g)``) where g >= 2, else 0.001."""
    return g * np.sqrt(g) if g >= NABF_THRESHOLD else NABF_MIN_WEIGHT


@kernel
def _nabf_artefacts(a: np.ndarray, b: np.ndarray, f: np.ndarray, row: int, total: float,
                    picked: np.ndarray) -> tuple:
    """From row ``row`` on, while ``picked`` has room for another row: ``total`` plus
    ``sum(w_A + w_B)`` over those rows, and their artefact pixels (gF > gA and gF > gB),
    their values in the first ``count`` columns of ``picked`` (rows gA, gB, gF, then gx,
    gy of A, of B and of F, then w_A, w_B). Returns (next row, total, count). The edges are
    computed a row at a time (3 rows of 3 images in memory, not 9 planes)."""
    height, width = a.shape
    gx, gy, g = np.empty((3, width)), np.empty((3, width)), np.empty((3, width))
    count = 0
    while row < height and count + width <= picked.shape[1]:
        _nabf_edge_row(a, row, gx[0], gy[0], g[0])
        _nabf_edge_row(b, row, gx[1], gy[1], g[1])
        _nabf_edge_row(f, row, gx[2], gy[2], g[2])
        for c in range(width):
            w_a, w_b = _nabf_weight(g[0, c]), _nabf_weight(g[1, c])
            total += w_a + w_b
            if g[2, c] > g[0, c] and g[2, c] > g[1, c]:
                for k in range(3):
                    picked[k, count] = g[k, c]
                    picked[3 + 2 * k, count] = gx[k, c]
                    picked[4 + 2 * k, count] = gy[k, c]
                picked[9, count], picked[10, count] = w_a, w_b
                count += 1
        row += 1
    return row, total, count


def _nabf_losses(at: np.ndarray, out: np.ndarray) -> None:
    """``(1 - Q_XF) w_X`` of artefact pixels (columns of ``at``, rows as ``picked``) for
    X = A, B into the two rows of ``out``."""
    a_f = _nabf_orientation(at[7], at[8])
    for k in range(2):
        q = _nabf_preservation(at[k], _nabf_orientation(at[3 + 2 * k], at[4 + 2 * k]),
                               at[2], a_f)
        np.multiply(1.0 - q, at[9 + k], out=out[k])


@checked("Nabf")
def fusion_nabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Nabf: Kumar's modified Petrovic-Xydeas fusion-artefact measure (lower is better).

    Arguments in the documented order (fused, source 1, source 2). Edges: correlation
    with the Sobel kernels divided by 8 on a mirrored border (``dcb|abcd``, Kumar's
    ``per_extn_im_fn``); ``g = sqrt(gx^2 + gy^2)``, ``a = arctan(gx / gy)`` (0 where
    both vanish). For a source X: ``G = min(gX, gF) / max(gX, gF)`` (0 where either is
    0), ``Aor = | |aX - aF| - pi/2 | / (pi/2)``,
    ``Q_XF = sqrt(0.9999 / (1 + exp(-19 (G - 0.5))) * 0.9995 / (1 + exp(-22 (Aor - 0.5))))``;
    weights ``w_X = gX^1.5`` where gX >= 2, else 0.001. With ``na = 1`` where
    ``gF > gA`` and ``gF > gB`` (an edge stronger than in either source), else 0:
    ``Nabf = sum(na ((1 - Q_AF) w_A + (1 - Q_BF) w_B)) / sum(w_A + w_B)``.
    The weights are never 0, so the value is always defined (0 for flat images).

    References
    ----------
    .. [1] B. K. Shreyamsha Kumar, "Multifocus and multispectral image fusion based on
       pixel significance using discrete cosine harmonic wavelet transform", Signal
       Image Video Process. 7(6), 1125-1143, 2013 (the modified NABF).
    .. [2] V. Petrovic, C. Xydeas, "Objective image fusion performance
       characterisation", Proc. ICCV 2005, 1866-1871 (the original N_AB/F).
    """
    n, h, w = F.shape
    picked = np.empty((11, max(NABF_GATHER, w)))  # artefact pixels, a chunk at a time
    losses = np.empty((2, h * w))  # written up to the image's artefact count
    value = np.empty(n)
    for i in range(n):
        row, total, done = 0, 0.0, 0
        while row < h:
            row, total, count = _nabf_artefacts(A[i], B[i], F[i], row, total, picked)
            _nabf_losses(picked[:, :count], losses[:, done:done + count])
            done += count
        value[i] = (losses[0, :done].sum() + losses[1, :done].sum()) / total
    return value
