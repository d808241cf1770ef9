"""Deliberately plain reference implementations of the default-profile metrics.

One 2-D float64 image triple (fused F, sources A, B) at a time, written straight from
the definitions in docs/metrics.md with scipy's ``convolve2d`` / ``correlate2d``,
scikit-learn's ``mutual_info_score`` and scikit-image's ``structural_similarity``.
Used by the exactness tests and as the baseline of the speed benchmark, which also
share :func:`harvard_triples` (real source pairs with simple fusions).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import convolve2d, correlate2d
from skimage.metrics import structural_similarity
from sklearn.metrics import mutual_info_score

from mmif_bench.imageio import gray_of, read_image


def en(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    values = np.round(F).astype(np.uint8).ravel()
    counts, _ = np.histogram(values, bins=256, range=(0, 256))
    p = counts[counts > 0] / values.size
    return float(-np.sum(p * np.log2(p)))


def sd(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return float(np.std(F))


def sf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    rf = np.mean((F[:, 1:] - F[:, :-1]) ** 2)
    cf = np.mean((F[1:, :] - F[:-1, :]) ** 2)
    return float(np.sqrt(rf + cf))


def ag(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    gy, gx = np.gradient(F)
    return float(np.mean(np.sqrt((gx ** 2 + gy ** 2) / 2)))


def mi(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    with warnings.catch_warnings():  # "expects discrete values" for float images
        warnings.simplefilter("ignore", UserWarning)
        return float(mutual_info_score(F.ravel(), A.ravel()) + mutual_info_score(F.ravel(), B.ravel()))


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])


def scd(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return _corr(A, F - B) + _corr(B, F - A)


def cc(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return (_corr(A, F) + _corr(B, F)) / 2


def psnr(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    mse = (np.mean((A - F) ** 2) + np.mean((B - F) ** 2)) / 2
    return float(10 * np.log10(np.max(F) ** 2 / mse))


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """``fspecial('gaussian', size, sigma)``."""
    m = (size - 1) / 2
    y, x = np.ogrid[-m:m + 1, -m:m + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    num, den = 0.0, 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = fspecial_gaussian(n, n / 5)
        if scale > 1:
            ref = convolve2d(ref, win, mode="valid")[::2, ::2]
            dist = convolve2d(dist, win, mode="valid")[::2, ::2]
        mu1 = convolve2d(ref, win, mode="valid")
        mu2 = convolve2d(dist, win, mode="valid")
        s1 = convolve2d(ref * ref, win, mode="valid") - mu1 * mu1
        s2 = convolve2d(dist * dist, win, mode="valid") - mu2 * mu2
        s12 = convolve2d(ref * dist, win, mode="valid") - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        g[s1 < 1e-10] = 0
        sv[s1 < 1e-10] = s2[s1 < 1e-10]
        s1[s1 < 1e-10] = 0
        g[s2 < 1e-10] = 0
        sv[s2 < 1e-10] = 0
        sv[g < 0] = s2[g < 0]
        g[g < 0] = 0
        sv[sv <= 1e-10] = 1e-10
        num += np.sum(np.log10(1 + g * g * s1 / (sv + 2)))
        den += np.sum(np.log10(1 + s1 / 2))
    value = num / den
    return 1.0 if np.isnan(value) else float(value)


def vif(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return vifp(A, F) + vifp(B, F)


def _qabf_edges(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = convolve2d(img, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), mode="same")
    gy = convolve2d(img, np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]), mode="same")
    g = np.sqrt(gx ** 2 + gy ** 2)
    a = np.full(img.shape, np.pi / 2)
    a[gx != 0] = np.arctan(gy[gx != 0] / gx[gx != 0])
    return g, a


def _qabf_q(gx: np.ndarray, ax: np.ndarray, gf: np.ndarray, af: np.ndarray) -> np.ndarray:
    G = np.zeros_like(gx)
    G[gx > gf] = gf[gx > gf] / gx[gx > gf]
    G[gx == gf] = gf[gx == gf]
    G[gx < gf] = gx[gx < gf] / gf[gx < gf]
    aor = 1 - np.abs(ax - af) / (np.pi / 2)
    return 0.9994 / (1 + np.exp(-15 * (G - 0.5))) * 0.9879 / (1 + np.exp(-22 * (aor - 0.8)))


def qabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    gA, aA = _qabf_edges(A)
    gB, aB = _qabf_edges(B)
    gF, aF = _qabf_edges(F)
    return float(np.sum(_qabf_q(gA, aA, gF, aF) * gA + _qabf_q(gB, aB, gF, aF) * gB)
                 / np.sum(gA + gB))


def ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return float(structural_similarity(F, A, data_range=255)
                 + structural_similarity(F, B, data_range=255))


def _nabf_edges(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ext = np.pad(img, 1, mode="reflect")  # x[1] | x[0] x[1] ... : the mirror of per_extn_im_fn
    gv = correlate2d(ext, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8, mode="valid")
    gh = correlate2d(ext, np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]) / 8, mode="valid")
    g = np.sqrt(gv ** 2 + gh ** 2)
    a = np.zeros(img.shape)
    some = (gv != 0) | (gh != 0)
    with np.errstate(divide="ignore"):
        a[some] = np.arctan(gv[some] / gh[some])
    return g, a


def _nabf_q(gx: np.ndarray, ax: np.ndarray, gf: np.ndarray, af: np.ndarray) -> np.ndarray:
    G = np.zeros_like(gx)
    big = (gx > gf) & (gf != 0)
    small = (gx <= gf) & (gx != 0) & (gf != 0)
    G[big] = gf[big] / gx[big]
    G[small] = gx[small] / gf[small]
    aor = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
    qg = 0.9999 / (1 + np.exp(-19 * (G - 0.5)))
    qa = 0.9995 / (1 + np.exp(-22 * (aor - 0.5)))
    return np.sqrt(qg * qa)


def nabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    gA, aA = _nabf_edges(A)
    gB, aB = _nabf_edges(B)
    gF, aF = _nabf_edges(F)
    wA = np.where(gA >= 2, gA ** 1.5, 0.001)
    wB = np.where(gB >= 2, gB ** 1.5, 0.001)
    na = (gF > gA) & (gF > gB)
    lost = (1 - _nabf_q(gA, aA, gF, aF)) * wA + (1 - _nabf_q(gB, aB, gF, aF)) * wB
    return float(np.sum(na * lost) / np.sum(wA + wB))


def _msssim_one(x: np.ndarray, y: np.ndarray) -> float:
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    win = fspecial_gaussian(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    value = 1.0
    for level, w in enumerate(weights):
        mu1 = convolve2d(x, win, mode="valid")
        mu2 = convolve2d(y, win, mode="valid")
        s1 = convolve2d(x * x, win, mode="valid") - mu1 ** 2
        s2 = convolve2d(y * y, win, mode="valid") - mu2 ** 2
        s12 = convolve2d(x * y, win, mode="valid") - mu1 * mu2
        cs = (2 * s12 + c2) / (s1 + s2 + c2)
        if level == len(weights) - 1:
            term = np.mean((2 * mu1 * mu2 + c1) / (mu1 ** 2 + mu2 ** 2 + c1) * cs)
        else:
            term = np.mean(cs)
            # imfilter(x, ones(2)/4, 'symmetric', 'same') then x(1:2:end, 1:2:end)
            x = convolve2d(np.pad(x, ((0, 1), (0, 1)), mode="symmetric"), np.ones((2, 2)) / 4,
                           mode="valid")[::2, ::2]
            y = convolve2d(np.pad(y, ((0, 1), (0, 1)), mode="symmetric"), np.ones((2, 2)) / 4,
                           mode="valid")[::2, ::2]
        value *= max(term, 0.0) ** w  # documented: a negative mean counts as 0
    return float(value)


def ms_ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    return _msssim_one(F, A) + _msssim_one(F, B)


Reference = Callable[[np.ndarray, np.ndarray, np.ndarray], float]

REFERENCES: dict[str, Reference] = {
    "EN": en, "SD": sd, "SF": sf, "AG": ag, "MI": mi, "SCD": scd, "CC": cc, "PSNR": psnr,
    "VIF": vif, "Qabf": qabf, "SSIM": ssim, "Nabf": nabf, "MS_SSIM": ms_ssim,
}
BENCHMARK_METRICS = ["EN", "SD", "SF", "AG", "MI", "SCD", "CC", "PSNR", "VIF", "Qabf", "SSIM"]


def evaluate_plain(F: np.ndarray, A: np.ndarray, B: np.ndarray,
                   names: list[str] | None = None) -> dict[str, float]:
    """Every reference metric (or ``names``) on one 2-D triple."""
    return {name: REFERENCES[name](F, A, B) for name in names or REFERENCES}


SECOND_MODALITY = {"MRI-CT": "CT", "MRI-PET": "PET", "MRI-SPECT": "SPECT"}
FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean": lambda a, b: np.round((a + b) / 2),        # integer-valued, like a saved PNG
    "max": np.maximum,
    "weighted": lambda a, b: 0.3 * a + 0.7 * b,        # non-integer values
}


def harvard_triples(root: Path, per_pair_type: int,
                    fusion: str = "mean") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacks F, A, B (float64, N x 256 x 256) from the first test pairs of each pair type.

    A is the MRI, B the CT or the OpenCV-rounded luma of PET/SPECT; F = ``fusion`` of both.
    """
    a_list, b_list = [], []
    for pair_type, second in SECOND_MODALITY.items():
        names = (root / pair_type / "test.txt").read_text().split()[:per_pair_type]
        for name in names:
            a_list.append(gray_of(read_image(root / pair_type / "MRI" / name).pixels))
            b_list.append(gray_of(read_image(root / pair_type / second / name).pixels))
    A = np.stack(a_list).astype(np.float64)
    B = np.stack(b_list).astype(np.float64)
    return FUSIONS[fusion](A, B), A, B
