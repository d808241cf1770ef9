"""Deliberately plain re-implementations of the canon metrics of Liu's toolbox and MEFB
(Q_MI/NMI, TE, Q_TE, Q_NCIE, Q_G, Q_M, Q_SF, Piella's Q_S, Q_W, Q_E, MEFB's Qw).

Written from the definitions of ../shared/docs/metric_canon.md, one 2-D triple of
uint8-valued images at a time, statement by statement as the MATLAB code runs: Python
loops where it loops (histograms, Tsallis sums, diagonal differences), ``scipy.signal``
2-D correlations where it calls ``filter2 'same'`` and Octave's own order of sums for
``filter2 'valid'``. Nothing from ``mmif_bench`` is used: these
are the independent side of tests/test_canon_liu.py and the slow side of its speed
comparison. Arguments are (A, B, F), as the MATLAB functions take them.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import correlate2d

# ----------------------------------------------------------------- histograms (§0, §2-5)


def normalize1(img: np.ndarray) -> np.ndarray:
    """Liu's ``normalize1``: min-max to 0..255, MATLAB ``round`` (halves up here)."""
    hi, lo = img.max(), img.min()
    if hi == 0 and lo == 0:
        return img
    return np.floor((img - lo) / (hi - lo) * 255 + 0.5)


def joint_histogram(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """``h(x+1, y+1) += 1`` over the pixels, then ``h / sum(h(:))`` (x: rows)."""
    h = [[0.0] * 256 for _ in range(256)]
    for u, v in zip(x.astype(int).ravel().tolist(), y.astype(int).ravel().tolist()):
        h[u][v] += 1
    total = float(x.size)
    return [[c / total for c in row] for row in h]


def _marginals(h: list[list[float]]) -> tuple[list[float], list[float]]:
    """MATLAB ``sum(h)`` (column sums, called im1_marg) and ``sum(h')`` (row sums)."""
    columns = [sum(h[i][j] for i in range(256)) for j in range(256)]
    rows = [sum(row) for row in h]
    return columns, rows


def _entropy(p) -> float:
    return -sum(v * math.log2(v) for v in p if v > 0)


def mutual_info(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Liu's ``mutual_info``: MI, H_xy, H_x (of ``sum(h)``), H_y (of ``sum(h')``)."""
    h = joint_histogram(x, y)
    m1, m2 = _marginals(h)
    h_x, h_y = _entropy(m1), _entropy(m2)
    h_xy = _entropy(v for row in h for v in row)
    return h_x + h_y - h_xy, h_xy, h_x, h_y


def tsallis(x: np.ndarray, y: np.ndarray, q: float) -> float:
    """Liu's ``tsallis``: the double loop with ``buff = im1_marg(i) * im2_marg(j)``."""
    h = joint_histogram(x, y)
    m1, m2 = _marginals(h)
    result = 0.0
    for i in range(256):
        for j in range(256):
            buff = m1[i] * m2[j]
            if buff != 0:
                result += h[i][j] ** q / buff ** (q - 1)
    return (1 - result) / (1 - q)


def metric_mi(a: np.ndarray, b: np.ndarray, f: np.ndarray, sw: int) -> float:
    """Liu's ``metricMI``: sw 1 Q_MI (MEFB NMI), 2 Cvejic TE (MEFB TE), 3 Nava Q_TE."""
    a, b, f = normalize1(a), normalize1(b), normalize1(f)
    if sw == 1:
        i_fx, _, h_x, h_f1 = mutual_info(a, f)
        i_fy, _, h_y, h_f2 = mutual_info(b, f)
        return 2 * (i_fx / (h_f1 + h_x) + i_fy / (h_f2 + h_y))
    if sw == 2:
        return tsallis(a, f, 1.85) + tsallis(b, f, 1.85)
    q = 0.43137
    i_xy = tsallis(a, b, q)
    _, _, h_x, h_y = mutual_info(a, b)
    return (tsallis(a, f, q) + tsallis(b, f, q)) / (h_x ** q + h_y ** q + i_xy)


def ncc(x: np.ndarray, y: np.ndarray) -> float:
    """Liu's ``NCC``: the mutual information with base-256 entropies."""
    _, h_xy, h_x, h_y = mutual_info(x, y)
    return h_x / 8 + h_y / 8 - h_xy / 8


def metric_wang(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Liu's ``metricWang`` (MEFB ``Qncie``)."""
    a, b, f = normalize1(a), normalize1(b), normalize1(f)
    n_ab, n_af, n_bf = ncc(a, b), ncc(a, f), ncc(b, f)
    r = np.linalg.eigvals(np.array([[1, n_ab, n_af], [n_ab, 1, n_bf], [n_af, n_bf, 1]])).real
    h_r = sum(v * math.log2(v / 3) / 3 for v in r)
    return 1 - (-h_r / 8)


# ----------------------------------------------------------------- Q_G (§6)


def _filter2_same(img: np.ndarray, kernel) -> np.ndarray:
    return correlate2d(img, np.asarray(kernel, dtype=np.float64), mode="same")


def metric_xydeas(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Liu's ``metricXydeas``, statement by statement."""
    flt1 = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    flt2 = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]

    def gradient(img):
        x, y = _filter2_same(img, flt1), _filter2_same(img, flt2)
        g = np.sqrt(x * x + y * y)
        x = x + (x == 0) * 0.00001
        return g, np.arctan(y / x)

    fuse_g, fuse_a = gradient(f)
    terms = []
    for img in (a, b):
        img_g, img_a = gradient(img)
        bimap = img_g > fuse_g
        img_g = img_g + (img_g == 0) * 0.00001
        buffer1 = fuse_g / img_g
        fuse_g = fuse_g + (fuse_g == 0) * 0.00001
        buffer2 = img_g / fuse_g
        g_xf = bimap * buffer1 + (1 - bimap) * buffer2
        a_xf = np.abs(np.abs(img_a - fuse_a) - np.pi / 2) * 2 / np.pi
        q = 1 / (1 + np.exp(-10 * (g_xf - 0.5))) * (1 / (1 + np.exp(-20 * (a_xf - 0.75))))
        terms.append((q, img_g))
    (q_a, w_a), (q_b, w_b) = terms
    return float(np.mean((q_a * w_a + q_b * w_b) / (w_a + w_b)))


# ----------------------------------------------------------------- Q_M (§7)


def _corr_dn(img: np.ndarray, taps, axis: int) -> np.ndarray:
    """matlabPyrTools ``corrDn`` with a 2-tap filter (origin at tap 2), step 2 from
    position 2 along ``axis``: out(p) = taps(1) img(2p-1) + taps(2) img(2p) (1-based)."""
    img = np.moveaxis(img, axis, 0)
    count = img.shape[0] // 2
    out = np.array([taps[0] * img[2 * p] + taps[1] * img[2 * p + 1] for p in range(count)])
    return np.moveaxis(out, 0, axis)


def build_wpyr_haar(img: np.ndarray, levels: int) -> list[tuple[np.ndarray, ...]]:
    """``buildWpyr(img, levels, 'haar')`` bands per level, finest first: (lohi, hilo, hihi)."""
    lo_taps = [1 / math.sqrt(2), 1 / math.sqrt(2)]
    hi_taps = [-1 / math.sqrt(2), 1 / math.sqrt(2)]  # modulateFlip of the low-pass
    bands = []
    for _ in range(levels):
        lo, hi = _corr_dn(img, lo_taps, 0), _corr_dn(img, hi_taps, 0)
        bands.append((_corr_dn(hi, lo_taps, 1), _corr_dn(lo, hi_taps, 1),
                      _corr_dn(hi, hi_taps, 1)))
        img = _corr_dn(lo, lo_taps, 1)
    return bands


def metric_pww(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Liu's ``metricPWW``."""
    pa, pb, pf = build_wpyr_haar(a, 2), build_wpyr_haar(b, 2), build_wpyr_haar(f, 2)
    q = []
    for level in range(2):
        (h1, v1, d1), (h2, v2, d2), (hf, vf, df) = pa[level], pb[level], pf[level]
        w1 = h1 * h1 + v1 * v1 + d1 * d1
        w2 = h2 * h2 + v2 * v2 + d2 * d2
        ep1 = np.exp(-np.abs(h1 - hf)) + np.exp(-np.abs(v1 - vf)) + np.exp(-np.abs(d1 - df))
        ep2 = np.exp(-np.abs(h2 - hf)) + np.exp(-np.abs(v2 - vf)) + np.exp(-np.abs(d2 - df))
        q.append(np.sum(ep1 * w1 + ep2 * w2) / np.sum(w1 + w2))
    return float(q[0] ** (2 / 3) * q[1] ** (1 / 3))


# ----------------------------------------------------------------- Q_SF (§8)


def metric_zheng(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Liu's ``metricZheng``, its loops written out."""
    m, n = f.shape
    wd = math.sqrt(2) / 2
    steps = {"RF": (0, 1), "CF": (1, 0), "MDF": (-1, -1), "SDF": (-1, 1)}

    def diffs(img, di, dj):
        """img(i,j) - img(i+di, j+dj) over the pixels where the neighbour exists."""
        out = []
        for i in range(m):
            for j in range(n):
                if 0 <= i + di < m and 0 <= j + dj < n:
                    out.append(img[i, j] - img[i + di, j + dj])
        return out

    sf_f, sf_r = 0.0, 0.0
    for name, (di, dj) in steps.items():
        weight = wd if name in ("MDF", "SDF") else 1.0
        sf_f += weight * sum(d * d for d in diffs(f, di, dj)) / (m * n)
        sf_r += weight * sum(max(abs(x), abs(y)) ** 2
                             for x, y in zip(diffs(a, di, dj), diffs(b, di, dj))) / (m * n)
    sf_f, sf_r = math.sqrt(sf_f), math.sqrt(sf_r)
    return (sf_f - sf_r) / sf_r


# ----------------------------------------------------------------- Piella (§10)


def octave_fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """``fspecial('gaussian', size, sigma)`` with Octave's sequential ``sum(h(:))``."""
    m = (size - 1) / 2
    y, x = np.ogrid[-m:m + 1, -m:m + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    total = 0.0
    for v in h.ravel(order="F").tolist():
        total += v
    return h / total


def octave_filter2_valid(window: np.ndarray, img: np.ndarray) -> np.ndarray:
    """``filter2(window, img, 'valid')`` as Octave runs it: ``conv2`` with the rotated
    window, whose 'valid' kernel adds one axpy per window element, column by column.
    The order matters where a window is constant: E[x^2] - E[x]^2 is then rounding
    noise (or exactly 0), and Piella's saliency share is a ratio of it."""
    kernel = window[::-1, ::-1]
    mb, nb = kernel.shape
    rows, cols = img.shape[0] - mb + 1, img.shape[1] - nb + 1
    out = np.zeros((rows, cols))
    for j in range(nb):
        for i in range(mb):
            out += kernel[i, j] * img[mb - 1 - i:mb - 1 - i + rows, nb - 1 - j:nb - 1 - j + cols]
    return out


def ssim_index(img1: np.ndarray, img2: np.ndarray):
    """Wang's ``ssim_index`` defaults: map and the two variances ('valid')."""
    window = octave_fspecial_gaussian(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def filt(x):
        return octave_filter2_valid(window, x)

    mu1, mu2 = filt(img1), filt(img2)
    sigma1_sq = filt(img1 * img1) - mu1 * mu1
    sigma2_sq = filt(img2 * img2) - mu2 * mu2
    sigma12 = filt(img1 * img2) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / (
        (mu1 * mu1 + mu2 * mu2 + c1) * (sigma1_sq + sigma2_sq + c2))
    return ssim_map, sigma1_sq, sigma2_sq


def _piella_terms(a, b, f):
    _, s1, s2 = ssim_index(a, b)
    test = ((s1 + s2) == 0) * 0.5
    s1, s2 = s1 + test, s2 + test
    ramda = s1 / (s1 + s2)
    map1, _, _ = ssim_index(f, a)
    map2, _, _ = ssim_index(f, b)
    return ramda * map1 + (1 - ramda) * map2, np.maximum(s1, s2)


def metric_peilla(a: np.ndarray, b: np.ndarray, f: np.ndarray, sw: int) -> float:
    """Liu's ``metricPeilla``: sw 1 Q_S, 2 Q_W; sw 3 Piella's Q_E = Q_W x edge Q_W
    (Liu's own branch multiplies by an undefined variable)."""
    q, cw = _piella_terms(a, b, f)
    if sw == 1:
        return float(np.mean(q))
    q_w = float(np.sum(cw / np.sum(cw) * q))
    return q_w if sw == 2 else q_w * mefb_qw(a, b, f)


def mefb_qw(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """MEFB's ``metricsQw``: Q_W of the Prewitt-type edge images."""
    flt1 = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
    flt2 = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]

    def edges(img):
        x, y = _filter2_same(img, flt1), _filter2_same(img, flt2)
        return np.sqrt(x * x + y * y)

    q, cw = _piella_terms(edges(a), edges(b), edges(f))
    return float(np.sum(cw / np.sum(cw) * q))


LIU = {
    "QMI": lambda a, b, f: metric_mi(a, b, f, 1),
    "QTE": lambda a, b, f: metric_mi(a, b, f, 3),
    "TE": lambda a, b, f: metric_mi(a, b, f, 2),
    "QNCIE": metric_wang,
    "QG": metric_xydeas,
    "QM": metric_pww,
    "QSF": metric_zheng,
    "QS": lambda a, b, f: metric_peilla(a, b, f, 1),
    "QW": lambda a, b, f: metric_peilla(a, b, f, 2),
    "QE": lambda a, b, f: metric_peilla(a, b, f, 3),
}
MEFB = {
    "NMI": LIU["QMI"],
    "TE": LIU["TE"],
    "QNCIE": metric_wang,
    "QW": mefb_qw,
}
