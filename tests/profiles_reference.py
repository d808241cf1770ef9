"""Deliberately plain re-implementations of the VIFB and Tang MATLAB metrics.

Written from the MATLAB code's definitions, one 2-D uint8-valued image triple at a
time, with Python loops where the MATLAB code loops and ``scipy.signal`` 2-D filters
where it calls ``conv2``/``filter2``/``imfilter``. Nothing from ``mmif_bench`` is used:
these are the independent side of tests/test_profiles.py and the slow side of its
speed benchmark.
"""
from __future__ import annotations

import math

import numpy as np
from metrics_reference import fspecial_gaussian
from scipy.signal import convolve2d, correlate2d


def u8(x: np.ndarray) -> np.ndarray:
    """The values of ``uint8(x)`` for x >= 0: round half up, clip to 0..255."""
    return np.clip(np.floor(np.asarray(x, dtype=np.float64) + 0.5), 0, 255)


def _hist(img: np.ndarray) -> list[int]:
    counts = [0] * 256
    for v in img.astype(int).ravel().tolist():
        counts[v] += 1
    return counts


def _entropy(counts, total: int, log=math.log2) -> float:
    return -sum(c / total * log(c / total) for c in counts if c)


def _joint_entropy(x: np.ndarray, y: np.ndarray, log=math.log2) -> float:
    table: dict[tuple[int, int], int] = {}
    for key in zip(x.astype(int).ravel().tolist(), y.astype(int).ravel().tolist()):
        table[key] = table.get(key, 0) + 1
    return _entropy(table.values(), x.size, log)


def _matlab_gradient(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx = np.zeros_like(img)
    dy = np.zeros_like(img)
    dx[:, 1:-1] = (img[:, 2:] - img[:, :-2]) / 2
    dx[:, 0], dx[:, -1] = img[:, 1] - img[:, 0], img[:, -1] - img[:, -2]
    dy[1:-1, :] = (img[2:, :] - img[:-2, :]) / 2
    dy[0, :], dy[-1, :] = img[1, :] - img[0, :], img[-1, :] - img[-2, :]
    return dx, dy


def _freqspace(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    fu = np.array([(k - math.floor(w / 2)) * 2 / w for k in range(w)])
    fv = np.array([(k - math.floor(h / 2)) * 2 / h for k in range(h)])
    return np.meshgrid(fu, fv)


def _normalize1(img: np.ndarray) -> np.ndarray:
    hi, lo = img.max(), img.min()
    if hi == 0 and lo == 0:
        return img
    return np.floor((img - lo) / (hi - lo) * 255 + 0.5)


# ----------------------------------------------------------------------------- shared


def average_gradient(f: np.ndarray) -> float:
    """VIFB metricsAvg_gradient / Tang AG_evaluation."""
    dx, dy = _matlab_gradient(f)
    r, c = f.shape
    return float(np.sum(np.sqrt((dx ** 2 + dy ** 2) / 2)) / ((r - 1) * (c - 1)))


def entropy(f: np.ndarray) -> float:
    """VIFB metricsEntropy / MATLAB entropy() on uint8."""
    return _entropy(_hist(f), f.size)


def standard_deviation(f: np.ndarray) -> float:
    return float(math.sqrt(np.sum((f - f.mean()) ** 2) / f.size))


def qabf(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """The MATLAB Qabf loops (VIFB metricsQabf body, Tang analysis_Qabf)."""
    h1 = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float)
    h3 = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
    maps = []
    for img in (a, b, f):
        sx = convolve2d(img, h3, mode="same")
        sy = convolve2d(img, h1, mode="same")
        g = np.sqrt(sx ** 2 + sy ** 2)
        ang = np.zeros_like(img)
        for i in range(img.shape[0]):
            for j in range(img.shape[1]):
                ang[i, j] = math.pi / 2 if sx[i, j] == 0 else math.atan(sy[i, j] / sx[i, j])
        maps.append((g, ang))
    (ga, aa), (gb, ab), (gf, af) = maps
    num = den = 0.0
    for gx, ax in ((ga, aa), (gb, ab)):
        for i in range(f.shape[0]):
            for j in range(f.shape[1]):
                if gx[i, j] > gf[i, j]:
                    gg = gf[i, j] / gx[i, j]
                elif gx[i, j] == gf[i, j]:
                    gg = gf[i, j]
                else:
                    gg = gx[i, j] / gf[i, j]
                aor = 1 - abs(ax[i, j] - af[i, j]) / (math.pi / 2)
                q = (0.9994 / (1 + math.exp(-15 * (gg - 0.5)))
                     * 0.9879 / (1 + math.exp(-22 * (aor - 0.8))))
                num += q * gx[i, j]
                den += gx[i, j]
    return num / den


# ----------------------------------------------------------------------------- VIFB


def vifb_cross_entropy(a, b, f) -> float:
    hf = _hist(f)

    def ce(src):
        hs = _hist(src)
        total = 0.0
        for k in range(256):
            p1, p2 = hs[k] / src.size, hf[k] / f.size
            if p1 != 0 and p2 != 0:
                total += p1 * math.log2(p1 / p2)
        return total

    return (ce(a) + ce(b)) / 2


def vifb_edge_intensity(a, b, f) -> float:
    w = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float)
    padded = np.pad(f, 1, mode="edge")
    gx = correlate2d(padded, w, mode="valid")
    gy = correlate2d(padded, w.T, mode="valid")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def vifb_mutual_information(a, b, f) -> float:
    def levels(x):
        if x.max() != x.min():
            return np.floor((x - x.min()) / (x.max() - x.min()) * 255 + 0.5)
        return np.zeros_like(x)

    def mi(x, y):
        x, y = levels(x), levels(y)
        return (_entropy(_hist(x), x.size, math.log) + _entropy(_hist(y), y.size, math.log)
                - _joint_entropy(x, y, math.log))

    return mi(a, f) + mi(b, f)


def _vifb_mse(x, y) -> float:
    return float(math.sqrt(np.sum((x - y) ** 2)) / x.size)


def vifb_rmse(a, b, f) -> float:
    return (_vifb_mse(a, f) + _vifb_mse(b, f)) / 2


def vifb_psnr(a, b, f) -> float:
    return 20 * math.log10(255 / math.sqrt(vifb_rmse(a, b, f)))


def vifb_qabf(a, b, f) -> float:
    return qabf(255 * a, 255 * b, 255 * f)


def vifb_qcb(a, b, f) -> float:
    im1, im2, fused = (_normalize1(x) for x in (a, b, f))
    hang, lie = im1.shape
    u, v = _freqspace(hang, lie)
    u, v = (lie / 30) * u, (hang / 30) * v
    r = np.sqrt(u ** 2 + v ** 2)
    sd = np.exp(-(r / 15.3870) ** 2) - 0.7622 * np.exp(-(r / 1.3456) ** 2)
    y, x = np.mgrid[-15:16, -15:16]
    g1 = np.exp(-(x * x + y * y) / 8) / (2 * math.pi * 4)
    g2 = np.exp(-(x * x + y * y) / 32) / (2 * math.pi * 16)

    def contrast(img):
        filtered = np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(img)) * sd))
        c = np.abs(correlate2d(filtered, g1, mode="same") / correlate2d(filtered, g2, mode="same") - 1)
        return c ** 3 / (c ** 2 + 0.0001)

    c1, c2, cf = contrast(im1), contrast(im2), contrast(fused)
    q = np.zeros_like(c1)
    for i in range(hang):
        for j in range(lie):
            q1 = c1[i, j] / cf[i, j] if c1[i, j] < cf[i, j] else cf[i, j] / c1[i, j]
            q2 = c2[i, j] / cf[i, j] if c2[i, j] < cf[i, j] else cf[i, j] / c2[i, j]
            s = c1[i, j] ** 2 + c2[i, j] ** 2
            q[i, j] = c1[i, j] ** 2 / s * q1 + c2[i, j] ** 2 / s * q2
    return float(q.mean())


def vifb_qcv(a, b, f) -> float:
    im1, im2, fused = (_normalize1(x) for x in (a, b, f))
    flt1 = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
    flt2 = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float)
    hang, lie = im1.shape
    win = 16

    def blocks(img, fun):
        out = []
        for i in range(0, hang, win):
            for j in range(0, lie, win):
                block = np.zeros((win, win), dtype=img.dtype)
                part = img[i:i + win, j:j + win]
                block[:part.shape[0], :part.shape[1]] = part
                out.append(fun(block))
        return np.array(out)

    def saliency(img):
        g = np.sqrt(correlate2d(img, flt1, mode="same") ** 2 + correlate2d(img, flt2, mode="same") ** 2)
        return blocks(g, lambda x: np.sum(x ** 5))

    u, v = _freqspace(hang, lie)
    r = np.sqrt((lie / 8 * u) ** 2 + (hang / 8 * v) ** 2)
    theta = 2.6 * (0.0192 + 0.144 * r) * np.exp(-(0.144 * r) ** 1.1)

    def distortion(img):
        d = np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(img - fused)) * theta))
        return blocks(d, lambda x: np.mean(x ** 2))

    r1, r2 = saliency(im1), saliency(im2)
    q = np.sum(r1 * distortion(im1) + r2 * distortion(im2)) / np.sum(r1 + r2)
    return float(np.real(q))


def vifb_spatial_frequency(a, b, f) -> float:
    m, n = f.shape
    rf = sum(float(np.sum((f[i, 1:] - f[i, :-1]) ** 2)) for i in range(m)) / (m * n)
    cf = sum(float(np.sum((f[1:, j] - f[:-1, j]) ** 2)) for j in range(n)) / (m * n)
    return math.sqrt(rf + cf)


def _ssim_valid(x, y) -> float:
    w = fspecial_gaussian(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ua, ub = correlate2d(x, w, "valid"), correlate2d(y, w, "valid")
    sa = correlate2d(x * x, w, "valid") - ua * ua
    sb = correlate2d(y * y, w, "valid") - ub * ub
    sab = correlate2d(x * y, w, "valid") - ua * ub
    m = ((2 * ua * ub + c1) * (2 * sab + c2)) / ((ua * ua + ub * ub + c1) * (sa + sb + c2))
    return float(m.mean())


def vifb_ssim(a, b, f) -> float:
    return _ssim_valid(a, f) + _ssim_valid(b, f)


VIFB = {
    "AG": lambda a, b, f: average_gradient(f),
    "CE": vifb_cross_entropy,
    "EI": vifb_edge_intensity,
    "EN": lambda a, b, f: entropy(f),
    "MI": vifb_mutual_information,
    "PSNR": vifb_psnr,
    "Qabf": vifb_qabf,
    "Qcb": vifb_qcb,
    "Qcv": vifb_qcv,
    "RMSE": vifb_rmse,
    "SF": vifb_spatial_frequency,
    "SSIM": vifb_ssim,
    "SD": lambda a, b, f: standard_deviation(f),
}


# ----------------------------------------------------------------------------- Tang


def tang_mse(a, b, f) -> float:
    a, b, f = a / 255, b / 255, f / 255
    return 0.5 * float(np.sum((f - a) ** 2)) / f.size + 0.5 * float(np.sum((f - b) ** 2)) / f.size


def tang_psnr(a, b, f) -> float:
    return 20 * math.log10(255 / math.sqrt(tang_mse(a, b, f)))


def tang_mutual_information(a, b, f) -> float:
    """Qu's MI_evaluation: histograms indexed by uint8(v) + 1, which saturates at 255."""
    a, b, f = (np.minimum(x + 1, 255) for x in (a, b, f))
    ha, hb, hf = (_entropy(_hist(x), x.size) for x in (a, b, f))
    return ha + hf - _joint_entropy(f, a) + hb + hf - _joint_entropy(f, b)


def _vifp(ref, dist) -> float:
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = fspecial_gaussian(n, n / 5)
        if scale > 1:
            ref = correlate2d(ref, win, "valid")[::2, ::2]
            dist = correlate2d(dist, win, "valid")[::2, ::2]
        mu1, mu2 = correlate2d(ref, win, "valid"), correlate2d(dist, win, "valid")
        s1 = correlate2d(ref * ref, win, "valid") - mu1 * mu1
        s2 = correlate2d(dist * dist, win, "valid") - mu2 * mu2
        s12 = correlate2d(ref * dist, win, "valid") - mu1 * mu2
        s1[s1 < 0], s2[s2 < 0] = 0, 0
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        g[s1 < 1e-10], sv[s1 < 1e-10] = 0, s2[s1 < 1e-10]
        s1[s1 < 1e-10] = 0
        g[s2 < 1e-10], sv[s2 < 1e-10] = 0, 0
        sv[g < 0] = s2[g < 0]
        g[g < 0] = 0
        sv[sv <= 1e-10] = 1e-10
        num += float(np.sum(np.log10(1 + g * g * s1 / (sv + 2))))
        den += float(np.sum(np.log10(1 + s1 / 2)))
    return num / den


def tang_vif(a, b, f) -> float:
    return _vifp(a, f) + _vifp(b, f)


def _corr2(x, y) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.sum(dx * dy) / math.sqrt(np.sum(dx * dx) * np.sum(dy * dy)))


def tang_nabf(a, b, f) -> float:
    """Kumar's analysis_nabf(f, I1, I2) called as Tang does: (img1, img2, img_f)."""
    fused, x1, x2 = a, b, f
    vtemp = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float) / 8
    htemp = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float) / 8

    def sobel_fn(x):
        ext = np.zeros((x.shape[0] + 2, x.shape[1] + 2))
        ext[1:-1, 1:-1] = x
        ext[0, :], ext[-1, :] = ext[2, :], ext[-3, :]
        ext[:, 0], ext[:, -1] = ext[:, 2], ext[:, -3]
        return convolve2d(ext, vtemp, "valid"), convolve2d(ext, htemp, "valid")

    grads = [sobel_fn(x) for x in (x1, x2, fused)]
    (gvA, ghA), (gvB, ghB), (gvF, ghF) = grads
    gA, gB, gF = (np.sqrt(gh ** 2 + gv ** 2) for gv, gh in grads)

    def angle(gv, gh):
        if gv == 0 and gh == 0:
            return 0.0
        return math.atan(gv / gh) if gh != 0 else math.copysign(math.pi / 2, gv)

    def rel(gx, gf):
        if gx == 0 or gf == 0:
            return 0.0
        return gf / gx if gx > gf else gx / gf

    def q(g, a_):
        qg = 0.9999 / (1 + math.exp(-19 * (g - 0.5)))
        qa = 0.9995 / (1 + math.exp(-22 * (a_ - 0.5)))
        return math.sqrt(qg * qa)

    num = wsum = 0.0
    for i in range(f.shape[0]):
        for j in range(f.shape[1]):
            aF = angle(gvF[i, j], ghF[i, j])
            qa_ = q(rel(gA[i, j], gF[i, j]),
                    abs(abs(angle(gvA[i, j], ghA[i, j]) - aF) - math.pi / 2) * 2 / math.pi)
            qb_ = q(rel(gB[i, j], gF[i, j]),
                    abs(abs(angle(gvB[i, j], ghB[i, j]) - aF) - math.pi / 2) * 2 / math.pi)
            wa = gA[i, j] ** 1.5 if gA[i, j] >= 2 else 0.001
            wb = gB[i, j] ** 1.5 if gB[i, j] >= 2 else 0.001
            wsum += wa + wb
            if gF[i, j] > gA[i, j] and gF[i, j] > gB[i, j]:
                num += (1 - qa_) * wa + (1 - qb_) * wb
    return num / wsum


TANG = {
    "EN": lambda a, b, f: entropy(f),
    "SF": lambda a, b, f: math.sqrt(float(np.mean(np.diff(f, axis=0) ** 2))
                                    + float(np.mean(np.diff(f, axis=1) ** 2))),
    "SD": lambda a, b, f: standard_deviation(f),
    "PSNR": tang_psnr,
    "MSE": tang_mse,
    "MI": tang_mutual_information,
    "VIF": tang_vif,
    "AG": lambda a, b, f: average_gradient(f),
    "CC": lambda a, b, f: 0.5 * _corr2(a, f) + 0.5 * _corr2(b, f),
    "SCD": lambda a, b, f: _corr2(f - b, a) + _corr2(f - a, b),
    "Qabf": lambda a, b, f: qabf(a, b, f),
    "Nabf": tang_nabf,
}

PROFILES = {"vifb": VIFB, "tang": TANG}
