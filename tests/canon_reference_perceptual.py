"""Deliberately plain re-implementations of the canon's feature and perceptual metrics:
FMI (edge, DCT, wavelet features), Zhao's Q_P on Liu's ``myphasecong3``, Cvejic's Q_C,
Yang's Q_Y, Han's VIFF and Tang's multi-scale MEF-SSIM.

Written from the definitions of ../shared/docs/metric_canon.md (sections 1, 9, 11, 12,
15, 18), one 2-D triple at a time, statement by statement as the MATLAB code runs:
``scipy.signal`` 2-D correlations with the full 2-D windows where it calls ``filter2``,
explicit left-to-right sums where its order decides a value (FMI's sequential means),
the reference's own formulas (min written as 0.5 (a + b - |a - b|), the F window
overwritten in the A pass). FMI runs the reference's per-window steps on all windows at
once (arrays with a leading window axis) and the MEF-SSIM patch loop one row of patches
at a time; nothing else is restructured. Nothing from ``mmif_bench`` is used: these are
the independent side of tests/test_canon_perceptual.py and the slow side of the speed
comparison. Arguments are (A, B, F), as the MATLAB functions take them.
"""
from __future__ import annotations

import math

import numpy as np
import pywt
from metrics_reference import fspecial_gaussian
from numpy.lib.stride_tricks import sliding_window_view
from profiles_reference import vifb_cross_entropy, vifb_edge_intensity, vifb_qcb, vifb_qcv
from scipy.fft import dctn
from scipy.signal import correlate2d

# ----------------------------------------------------------------------- FMI (§1)


def matlab_edge(img: np.ndarray) -> np.ndarray:
    """MATLAB ``edge(I)``: Sobel / 8 with replicated borders, cut-off 4 mean(b), thinning."""
    op = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float) / 8
    padded = np.pad(img, 1, mode="edge")
    bx = correlate2d(padded, op.T, mode="valid")
    by = correlate2d(padded, op, mode="valid")
    b = bx * bx + by * by
    cutoff = 4 * b.mean()
    rows, cols = b.shape
    e = np.zeros(b.shape, dtype=bool)
    tol = 100 * np.finfo(float).eps
    bl, bxl, byl = b.tolist(), bx.tolist(), by.tolist()
    for r in range(rows):
        for c in range(cols):
            v = bl[r][c]
            if not v > cutoff:
                continue
            left = c == 0 or bl[r][c - 1] <= v
            right = c == cols - 1 or v > bl[r][c + 1]
            up = r == 0 or bl[r - 1][c] <= v
            down = r == rows - 1 or v > bl[r + 1][c]
            across = abs(bxl[r][c]) >= abs(byl[r][c]) - tol and left and right
            along = abs(byl[r][c]) >= abs(bxl[r][c]) - tol and up and down
            e[r, c] = across or along
    return e


def _windows(feature: np.ndarray) -> np.ndarray:
    """Every 3 x 3 window as a column-major 9-vector (``aSub(:)``), windows x 9."""
    w = sliding_window_view(feature, (3, 3))
    return w.transpose(0, 1, 3, 2).reshape(-1, 9)


def _seq_sum(x: np.ndarray) -> np.ndarray:
    """Left-to-right sum over the last axis (MATLAB's ``sum`` of a short vector)."""
    total = x[..., 0].copy()
    for k in range(1, x.shape[-1]):
        total = total + x[..., k]
    return total


def _normalise(sub: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] per window; a constant window becomes ones."""
    lo, hi = sub.min(axis=1, keepdims=True), sub.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hi == lo, 1.0, (sub - lo) / (hi - lo))


def _pass_fmi(x_sub: np.ndarray, f_sub: np.ndarray) -> np.ndarray:
    """One pass of the reference's window loop (X = A or B) on normalised windows."""
    # sum(sum(xSub)): the three column sums, then their sum
    x_total, f_total = ((sub[:, 0] + sub[:, 1] + sub[:, 2]) + (sub[:, 3] + sub[:, 4] + sub[:, 5])
                        + (sub[:, 6] + sub[:, 7] + sub[:, 8]) for sub in (x_sub, f_sub))
    x_pdf, f_pdf = x_sub / x_total[:, None], f_sub / f_total[:, None]
    x_cdf, f_cdf = x_pdf.copy(), f_pdf.copy()
    for i in range(1, 9):
        x_cdf[:, i] = x_pdf[:, i] + x_cdf[:, i - 1]
        f_cdf[:, i] = f_pdf[:, i] + f_cdf[:, i - 1]
    x_temp = x_pdf - (_seq_sum(x_pdf) / 9)[:, None]
    f_temp = f_pdf - (_seq_sum(f_pdf) / 9)[:, None]
    num = _seq_sum(x_temp * f_temp)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(num == 0, 0.0,
                     num / np.sqrt(_seq_sum(x_temp * x_temp) * _seq_sum(f_temp * f_temp)))
    pos = np.arange(1, 10, dtype=float)
    x_sd = np.sqrt(_seq_sum(pos ** 2 * x_pdf) - _seq_sum(pos * x_pdf) ** 2)
    f_sd = np.sqrt(_seq_sum(pos ** 2 * f_pdf) - _seq_sum(pos * f_pdf) ** 2)
    fc, xc = f_cdf[:, :, None], x_cdf[:, None, :]  # [window, i (F), j (X)]
    upper = 0.5 * (fc + xc - np.abs(fc - xc))
    lower = 0.5 * (fc + xc - 1 + np.abs(fc + xc - 1))
    product_cdf = fc * xc
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_up = (upper - product_cdf).reshape(len(c), -1).sum(axis=1)
        cov_lo = (lower - product_cdf).reshape(len(c), -1).sum(axis=1)
        phi = np.where((c == 0) | (x_sd == 0) | (f_sd == 0), 0.0, c / (cov_up / (f_sd * x_sd)))
        theta = np.where((x_sd == 0) | (f_sd == 0), 0.0, c / (cov_lo / (f_sd * x_sd)))
    weight = np.where(c >= 0, phi, theta)
    bound = np.where((c >= 0)[:, None, None], upper, lower)
    padded = np.zeros((len(c), 10, 10))
    padded[:, 1:, 1:] = bound
    mass = padded[:, 1:, 1:] - padded[:, :-1, 1:] - padded[:, 1:, :-1] + padded[:, :-1, :-1]
    jpdf = weight[:, None, None] * mass + (1 - weight)[:, None, None] * (
        f_pdf[:, :, None] * x_pdf[:, None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(jpdf != 0, -jpdf * np.log2(np.abs(jpdf)), 0.0)  # real(-q log2 q)
        x_ent = np.where(x_pdf != 0, -x_pdf * np.log2(x_pdf), 0.0).sum(axis=1)
        f_ent = np.where(f_pdf != 0, -f_pdf * np.log2(f_pdf), 0.0).sum(axis=1)
        mi = x_ent + f_ent - terms.reshape(len(c), -1).sum(axis=1)
        return np.where(mi == 0, 0.0, 2 * mi / (x_ent + f_ent))


def fmi(a_feat: np.ndarray, b_feat: np.ndarray, f_feat: np.ndarray) -> float:
    """Haghighat's Fast-FMI windows on three feature maps, w = 3."""
    a_sub, b_sub, f_sub = (_windows(np.asarray(x, dtype=float)) for x in (a_feat, b_feat, f_feat))
    a_equal = np.all(a_sub == f_sub, axis=1)
    fmi_af = np.where(a_equal, 1.0, _pass_fmi(_normalise(a_sub), _normalise(f_sub)))
    # the A pass leaves fSub normalised where it ran (the B pass compares with that)
    f_sub = np.where(a_equal[:, None], f_sub, _normalise(f_sub))
    b_equal = np.all(b_sub == f_sub, axis=1)
    fmi_bf = np.where(b_equal, 1.0, _pass_fmi(_normalise(b_sub), _normalise(f_sub)))
    return float(np.mean((fmi_af + fmi_bf) / 2))


def fmi_edge(a, b, f) -> float:
    return fmi(matlab_edge(a), matlab_edge(b), matlab_edge(f))


def fmi_dct(a, b, f) -> float:
    return fmi(*(dctn(x, type=2, norm="ortho") for x in (a, b, f)))


def _dmey_features(img: np.ndarray) -> np.ndarray:
    ca, (ch, cv, cd) = pywt.dwt2(img, "dmey", mode="symmetric")
    tiled = np.block([[ca, ch], [cv, cd]])
    return (tiled - tiled.min()) / (tiled.max() - tiled.min())


def fmi_wavelet(a, b, f) -> float:
    return fmi(*(_dmey_features(x) for x in (a, b, f)))


# ------------------------------------------------------------- Q_P (§9)


def myphasecong3(im: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liu's ``myphasecong3`` with its defaults: (phaseCongruency, M, m)."""
    nscale, norient, min_wave, mult, sigma_onf, d_theta, k, cut_off, g = \
        4, 6, 3, 2.1, 0.55, 1.2, 2.0, 0.5, 10
    eps = 1e-4
    theta_sigma = math.pi / norient / d_theta
    rows, cols = im.shape
    imagefft = np.fft.fft2(im)

    def frange(n):
        return (np.arange(-(n - 1) / 2, (n - 1) / 2 + 1) / (n - 1) if n % 2
                else np.arange(-n / 2, n / 2) / n)

    x, y = np.meshgrid(frange(cols), frange(rows))
    radius = np.sqrt(x ** 2 + y ** 2)
    radius[rows // 2, cols // 2] = 1
    theta = np.arctan2(-y, x)
    radius, theta = np.fft.ifftshift(radius), np.fft.ifftshift(theta)
    sintheta, costheta = np.sin(theta), np.cos(theta)
    lx, ly = np.meshgrid((np.arange(1, cols + 1) - (cols // 2 + 1)) / cols,
                         (np.arange(1, rows + 1) - (rows // 2 + 1)) / rows)
    lp = np.fft.fftshift(1.0 / (1.0 + (np.sqrt(lx ** 2 + ly ** 2) / 0.45) ** 30))
    log_gabor = []
    for s in range(nscale):
        fo = 1.0 / (min_wave * mult ** s)
        lg = np.exp(-np.log(radius / fo) ** 2 / (2 * math.log(sigma_onf) ** 2)) * lp
        lg[0, 0] = 0
        log_gabor.append(lg)
    total_energy = np.zeros((rows, cols))
    total_sum_an = np.zeros((rows, cols))
    covx2, covy2, covxy = (np.zeros((rows, cols)) for _ in range(3))
    for o in range(norient):
        angl = o * math.pi / norient
        ds = sintheta * math.cos(angl) - costheta * math.sin(angl)
        dc = costheta * math.cos(angl) + sintheta * math.sin(angl)
        spread = np.exp(-np.abs(np.arctan2(ds, dc)) ** 2 / (2 * theta_sigma ** 2))
        sum_e, sum_o, sum_an = (np.zeros((rows, cols)) for _ in range(3))
        eo, ifft_filters = [], []
        for s in range(nscale):
            filt = log_gabor[s] * spread
            ifft_filters.append(np.real(np.fft.ifft2(filt)) * math.sqrt(rows * cols))
            eo.append(np.fft.ifft2(imagefft * filt))
            an = np.abs(eo[s])
            sum_an = sum_an + an
            sum_e = sum_e + eo[s].real
            sum_o = sum_o + eo[s].imag
            if s == 0:
                em_n = np.sum(filt ** 2)
                max_an = an
            else:
                max_an = np.maximum(max_an, an)
        x_energy = np.sqrt(sum_e ** 2 + sum_o ** 2) + eps
        mean_e, mean_o = sum_e / x_energy, sum_o / x_energy
        energy = np.zeros((rows, cols))
        for s in range(nscale):
            e, od = eo[s].real, eo[s].imag
            energy = energy + e * mean_e + od * mean_o - np.abs(e * mean_o - od * mean_e)
        median_e2n = np.median(np.abs(eo[0]).ravel() ** 2)
        noise_power = (-median_e2n / math.log(0.5)) / em_n
        est_sum_an2 = sum(f ** 2 for f in ifft_filters)
        est_sum_aiaj = sum(ifft_filters[i] * ifft_filters[j]
                           for i in range(nscale) for j in range(i + 1, nscale))
        noise2 = 2 * noise_power * np.sum(est_sum_an2) + 4 * noise_power * np.sum(est_sum_aiaj)
        tau = math.sqrt(noise2 / 2)
        t = (tau * math.sqrt(math.pi / 2) + k * math.sqrt((2 - math.pi / 2) * tau ** 2)) / 1.7
        energy = np.maximum(energy - t, 0)
        width = sum_an / (max_an + eps) / nscale
        weight = 1.0 / (1 + np.exp((cut_off - width) * g))
        total_sum_an = total_sum_an + sum_an
        total_energy = total_energy + weight * energy
        pc_o = weight * energy / sum_an
        covx, covy = pc_o * math.cos(angl), pc_o * math.sin(angl)
        covx2, covy2, covxy = covx2 + covx ** 2, covy2 + covy ** 2, covxy + covx * covy
    pc = total_energy / (total_sum_an + eps)
    covx2, covy2, covxy = covx2 / (norient / 2), covy2 / (norient / 2), covxy / norient
    denom = np.sqrt(covxy ** 2 + (covx2 - covy2) ** 2) + eps
    return pc, (covy2 + covx2 + denom) / 2, (covy2 + covx2 - denom) / 2


def _zhao_correlation(y1, y2, y_max, yf, mask1, mask2, mask3) -> float:
    window = fspecial_gaussian(11, 1.5)
    window = window / window.sum()

    def filt(x):
        return correlate2d(x, window, mode="same")

    y1, y2, y_max = mask1 * y1, mask2 * y2, mask3 * y_max
    mu1, mu2, muf, mu_max = filt(y1), filt(y2), filt(yf), filt(y_max)
    s1, s2 = filt(y1 * y1) - mu1 * mu1, filt(y2 * y2) - mu2 * mu2
    s_max, sf = filt(y_max * y_max) - mu_max * mu_max, filt(yf * yf) - muf * muf
    s1f, s2f = filt(y1 * yf) - mu1 * muf, filt(y2 * yf) - mu2 * muf
    s_maxf = filt(y_max * yf) - mu_max * muf
    c = 1e-4
    res = np.zeros((3,) + yf.shape)
    for layer, (mask, cov, var) in enumerate(((mask1, s1f, s1), (mask2, s2f, s2),
                                              (mask3, s_maxf, s_max))):
        inside = mask == 1
        res[layer][inside] = (cov[inside] + c) / (np.sqrt(np.abs(var[inside] * sf[inside])) + c)
    return float(res.max(axis=0).sum() / mask3.sum())


def zhao_qp(a, b, f) -> float:
    (pc1, big1, small1), (pc2, big2, small2), (pcf, bigf, smallf) = (
        myphasecong3(x) for x in (a, b, f))
    mask = pc1 > pc2
    pc_max = mask * pc1 + ~mask * pc2
    big_max = mask * big1 + ~mask * big2
    small_max = mask * small1 + ~mask * small2
    masks = [(x > 0.1).astype(float) for x in (pc1, pc2, pc_max)]
    return (_zhao_correlation(pc1, pc2, pc_max, pcf, *masks)
            * _zhao_correlation(big1, big2, big_max, bigf, *masks)
            * _zhao_correlation(small1, small2, small_max, smallf, *masks))


# ------------------------------------------------------------- Q_C, Q_Y (§11, §12)


def ssim_yang(img1: np.ndarray, img2: np.ndarray):
    """(ssim_map, sigma1_sq, sigma2_sq, sigma12) with a 7 x 7 Gaussian and C = 2e-16."""
    window = fspecial_gaussian(7, 1.5)
    window = window / window.sum()
    c = 2e-16
    mu1, mu2 = correlate2d(img1, window, "valid"), correlate2d(img2, window, "valid")
    s1 = correlate2d(img1 * img1, window, "valid") - mu1 * mu1
    s2 = correlate2d(img2 * img2, window, "valid") - mu2 * mu2
    s12 = correlate2d(img1 * img2, window, "valid") - mu1 * mu2
    ssim_map = (((2 * (mu1 * mu2) + c) * (2 * s12 + c))
                / ((mu1 * mu1 + mu2 * mu2 + c) * (s1 + s2 + c)))
    return ssim_map, s1, s2, s12


def cvejic_qc(a, b, f, omit_nan: bool = True) -> float:
    map2, _, _, sigma_xf = ssim_yang(a, f)
    map3, _, _, sigma_yf = ssim_yang(b, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim_xyf = sigma_xf / (sigma_xf + sigma_yf)
        sim = sim_xyf * map2 + (1 - sim_xyf) * map3
        sim[sim_xyf < 0] = 0
        sim[sim_xyf > 1] = 1
    if omit_nan:
        sim = sim[~np.isnan(sim)]
    return float(np.mean(sim))


def yang_qy(a, b, f, omit_nan: bool = True) -> float:
    map1, s1, s2, _ = ssim_yang(a, b)
    map2, _, _, _ = ssim_yang(a, f)
    map3, _, _, _ = ssim_yang(b, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        bin_map = map1 >= 0.75
        ramda = s1 / (s1 + s2)
        q1 = (ramda * map2 + (1 - ramda) * map3) * bin_map
        q2 = np.fmax(map2, map3) * ~bin_map  # MATLAB max ignores NaN
        q = q1 + q2
    if omit_nan:
        q = q[~np.isnan(q)]
    return float(np.mean(q))


# ------------------------------------------------------------- VIFF (§15)


def _com_vid_vind_g(ref, dist, sigma_nsq):
    out = []
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
        flat1 = s1 < 1e-10
        g[flat1], sv[flat1], s1[flat1] = 0, s2[flat1], 0
        flat2 = s2 < 1e-10
        g[flat2], sv[flat2] = 0, 0
        negative = g < 0
        sv[negative], g[negative] = s2[negative], 0
        sv[sv <= 1e-10] = 1e-10
        vid = np.log10(1 + g ** 2 * s1 / (sv + sigma_nsq))
        vind = np.log10(1 + s1 / sigma_nsq)
        out.append((vid, vind, g))
    return out


def han_viff(a, b, f) -> float:
    sq, c = 0.005 * 255 * 255, 1e-7
    p = np.array([1, 0, 0.15, 1]) / 2.15
    t1, t2 = _com_vid_vind_g(a, f, sq), _com_vid_vind_g(b, f, sq)
    total = 0.0
    for i in range(4):
        (z1, m1, g1), (z2, m2, g2) = t1[i], t2[i]
        take1 = g1 < g2
        z12, m12 = np.where(take1, z1, z2), np.where(take1, m1, m2)
        total += (np.sum(z12 + c) / np.sum(m12 + c)) * p[i]
    return float(total)


# ------------------------------------------------------------- Tang MS_SSIM (§18)


def mef_ssim(seq: list[np.ndarray], fused: np.ndarray) -> float:
    """``mef_ssim(imgSeq, fI)`` with K = 0.03 and the 11 x 11 Gaussian window."""
    window = fspecial_gaussian(11, 1.5).reshape(-1)  # column-major = row-major (symmetric)
    w_size, eps = 11, np.finfo(float).eps
    s_window = np.ones((w_size, w_size)) / w_size ** 2
    mu, ed = [], []
    for img in seq:
        m = correlate2d(img, s_window, "valid")
        sigma_sq = correlate2d(img * img, s_window, "valid") - m * m
        mu.append(m)
        ed.append(np.sqrt(np.maximum(w_size ** 2 * sigma_sq, 0)) + 0.001)
    rows, cols = mu[0].shape
    c = (0.03 * 255) ** 2
    q_map = np.zeros((rows, cols))
    for i in range(rows):  # one row of patches at a time: patches x 121 values
        patches = [sliding_window_view(img[i:i + w_size], (w_size, w_size))[0]
                   .transpose(0, 2, 1).reshape(cols, -1) for img in seq]
        f_vecs = sliding_window_view(fused[i:i + w_size], (w_size, w_size))[0] \
            .transpose(0, 2, 1).reshape(cols, -1)
        denominator = sum(np.linalg.norm(v - m[i][:, None], axis=1) for v, m in zip(patches, mu))
        summed = sum(patches)
        numerator = np.linalg.norm(summed - summed.mean(axis=1, keepdims=True), axis=1)
        r = (numerator + eps) / (denominator + eps)
        r[r > 1] = 1 - eps
        r[r < 0] = eps
        p = np.tan(math.pi / 2 * r)
        p[p > 10] = 10
        w_map = [(e[i] / w_size) ** p + eps for e in ed]
        normalizer = sum(w_map)
        w_map = [w / normalizer for w in w_map]
        max_ed = np.maximum.reduce([e[i] for e in ed])
        r_block = sum(w[:, None] * (v - m[i][:, None]) / e[i][:, None]
                      for w, v, m, e in zip(w_map, patches, mu, ed))
        norm = np.linalg.norm(r_block, axis=1)
        scale = np.where(norm > 0, max_ed / np.where(norm > 0, norm, 1), 1.0)
        r_block = r_block * scale[:, None]
        mu1, mu2 = r_block @ window, f_vecs @ window
        s1 = ((r_block - mu1[:, None]) ** 2) @ window
        s2 = ((f_vecs - mu2[:, None]) ** 2) @ window
        s12 = ((r_block - mu1[:, None]) * (f_vecs - mu2[:, None])) @ window
        q_map[i] = (2 * s12 + c) / (s1 + s2 + c)
    return float(q_map.mean())


def tang_ms_ssim(a, b, f) -> float:
    """Tang's ``analysis_ms_ssim(cat(3, A, B), F)``: 3 levels, 2 x 2 box between them."""
    weight = np.array([0.0448, 0.2856, 0.3001])
    weight = weight / weight.sum()
    seq, fused = [a, b], f
    q = []

    def down(x):
        padded = np.pad(x, ((0, 1), (0, 1)), mode="symmetric")  # imfilter 'symmetric'
        smooth = correlate2d(padded, np.ones((2, 2)) / 4, mode="valid")
        return smooth[::2, ::2]

    for level in range(3):
        if level:
            seq, fused = [down(x) for x in seq], down(fused)
        q.append(mef_ssim(seq, fused))
    return float(np.prod(np.array(q) ** weight))


# ------------------------------------------------------------- the profiles' plain sets

LIU = {
    "QP": zhao_qp,
    "QC": lambda a, b, f: cvejic_qc(a, b, f, omit_nan=False),
    "QY": lambda a, b, f: yang_qy(a, b, f, omit_nan=False),
    "QCV": vifb_qcv,
    "QCB": vifb_qcb,
}
MEFB = {
    "FMI": fmi_edge,
    "QP": zhao_qp,
    "QC": cvejic_qc,
    "QY": yang_qy,
    "VIFF": han_viff,
    "QCB": vifb_qcb,
    "QCV": vifb_qcv,
    "CE": vifb_cross_entropy,
    "EI": vifb_edge_intensity,
}
TANG = {
    "FMI_pixel": fmi_edge,
    "FMI_dct": fmi_dct,
    "FMI_w": fmi_wavelet,
    "MS_SSIM": tang_ms_ssim,
}
