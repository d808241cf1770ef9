"""Profile ``vifb``: the 13 metrics of VIFB's MATLAB ``metrics/`` folder, vectorised.

Each metric reproduces ``metricsX(img1, img2, fused)`` of VIFB for uint8 gray inputs,
with img1 = A (first source), img2 = B (second source). Inputs are first reduced to the
values a uint8 image holds (:func:`metrics.matlab.to_uint8_values`). Definitions are in
``docs/profiles.md``; the per-pixel MATLAB loops become array operations on N x H x W
stacks.

References
----------
X. Zhang, P. Ye, G. Xiao, "VIFB: A Visible and Infrared Image Fusion Benchmark",
CVPR Workshops 2020; code github.com/xingchenzhang/VIFB, folder ``metrics/``.
"""
from __future__ import annotations

import functools

import numpy as np

from mmif_bench.metric import Metric

from . import matlab
from .edges import fusion_qabf
from .filters import gaussian_taps, sobel
from .histograms import gray_histograms
from .histograms import mutual_information as value_mutual_information
from .information import fused_entropy
from .intensity import average_gradient as mean_gradient
from .intensity import standard_deviation
from .structural import ssim_maps
from .validation import profile_metric

_REF = "VIFB (Zhang et al., CVPRW 2020), metrics/"


def _u8(*stacks: np.ndarray) -> list[np.ndarray]:
    return [matlab.to_uint8_values(s) for s in stacks]


def average_gradient(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """AG (``metricsAvg_gradient``): sum of sqrt((dx^2+dy^2)/2) over (M-1)(N-1).

    dx, dy from MATLAB ``gradient`` (central inside, one-sided on the border); the sum
    runs over all M x N pixels but is divided by (M-1)(N-1).

    References
    ----------
    G. Cui et al., Optics Communications 341, 199-209, 2015.
    """
    (F,) = _u8(F)
    _, h, w = F.shape
    return mean_gradient(F, F, F) * (h * w / ((h - 1) * (w - 1)))


def cross_entropy(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """CE (``metricsCross_entropy``): mean of KL(P_A || P_F) and KL(P_B || P_F), bits.

    P are 256-bin histograms; bins where either probability is 0 are skipped.

    References
    ----------
    D. M. Bulanon et al., Biosystems Engineering 103(1), 12-22, 2009.
    """
    F, A, B = _u8(F, A, B)
    pf = gray_histograms(F) / F[0].size

    def kl(source: np.ndarray) -> np.ndarray:
        ps = gray_histograms(source) / source[0].size
        both = (ps > 0) & (pf > 0)
        ratio = np.where(both, ps, 1.0) / np.where(both, pf, 1.0)
        return np.where(both, ps * np.log2(ratio), 0.0).sum(axis=1)

    return (kl(A) + kl(B)) / 2.0


def edge_intensity(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """EI (``metricsEdge_intensity``): mean Sobel magnitude, ``imfilter`` replicate border.

    References
    ----------
    B. Rajalingam, R. Priya, Int. J. Eng. Sci. Invention, 2018.
    """
    (F,) = _u8(F)
    gx, gy = sobel(F, "replicate")
    return np.sqrt(gx * gx + gy * gy).mean(axis=(1, 2))


def vifb_entropy(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """EN (``metricsEntropy``): 256-bin entropy of F in bits (the default EN on uint8)."""
    (F,) = _u8(F)
    return fused_entropy(F, F, F)


def _rescaled_levels(x: np.ndarray) -> np.ndarray:
    """``metricsMutinf``'s normalisation: min-max to [0, 1], ``int16(v*255)``, 0..255."""
    lo = x.min(axis=(1, 2), keepdims=True)
    hi = x.max(axis=(1, 2), keepdims=True)
    if np.all(lo == 0) and np.all(hi == 255):
        return x  # (x / 255) * 255 is within an ulp of x, which rounds back to x
    flat = hi == lo
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (x - lo) / np.where(flat, 1.0, hi - lo)
    return np.where(flat, 0.0, matlab.matlab_round(scaled * 255.0))


def mutual_information(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MI (``metricsMutinf``): I(A;F) + I(B;F) in nats after min-max rescaling each image.

    Each image is rescaled to [0, 1] by its own min and max, multiplied by 255 and
    rounded (``int16``), then a 256 x 256 joint histogram gives the entropies (natural
    log; Ha + Hb - Hab equals the mutual information of the two level maps). A constant
    image becomes all zeros.

    References
    ----------
    G. Qu, D. Zhang, P. Yan, Electronics Letters 38(7), 313-315, 2002.
    """
    F, A, B = _u8(F, A, B)
    levels = [_rescaled_levels(x) for x in (A, B, F)]
    return (value_mutual_information(levels[0], levels[2])
            + value_mutual_information(levels[1], levels[2]))


def _root_sum_square_over_area(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """VIFB's ``mse(a, b)``: sqrt(sum((a-b)^2)) / (M*N) (neither a mean nor a root mean)."""
    d = x - y
    return np.sqrt((d * d).sum(axis=(1, 2))) / x[0].size


def rmse(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """RMSE (``metricsRmse``): mean over the sources of sqrt(sum((X-F)^2))/(M*N).

    References
    ----------
    P. Jagalingam, A. V. Hegde, Aquatic Procedia 4, 133-142, 2015.
    """
    F, A, B = _u8(F, A, B)
    return (_root_sum_square_over_area(A, F) + _root_sum_square_over_area(B, F)) / 2.0


def psnr(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """PSNR (``metricsPsnr``): 20 log10(255 / sqrt(RMSE)) with VIFB's RMSE above.

    References
    ----------
    P. Jagalingam, A. V. Hegde, Aquatic Procedia 4, 133-142, 2015.
    """
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(255.0 / np.sqrt(rmse(F, A, B)))


def qabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Qabf (``metricsQabf``): the default Qabf computed on 255 x the pixel values.

    ``metricsQabf`` converts the images to double first, so ``255*im2double(..)``
    multiplies the 0..255 values by 255 again. Only the reference code's gX == gF quirk
    (ratio := gF) notices the scale: there the ratio is 255 times larger.

    References
    ----------
    C. S. Xydeas, V. Petrovic, Electronics Letters 36(4), 308-309, 2000.
    """
    F, A, B = _u8(F, A, B)
    return fusion_qabf(255.0 * F, 255.0 * A, 255.0 * B)


def _local_contrast(x: np.ndarray) -> np.ndarray:
    """Chen-Blum contrast |G2-weighted / G4-weighted - 1| with 31 x 31 unnormalised Gaussians."""
    offsets = np.arange(-15.0, 16.0)
    near = matlab.filter2_same(x, np.exp(-offsets ** 2 / 8.0)) / (8.0 * np.pi)
    far = matlab.filter2_same(x, np.exp(-offsets ** 2 / 32.0)) / (32.0 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.abs(near / far - 1.0)
        squared = c * c  # c^3 as c^2 c: numpy's ** 3 is a scalar pow
        return squared * c / (squared + 1e-4)


def _ratio_min(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MATLAB's ``(x./y).*mask + (y./x).*(1-mask)`` with mask = x < y (NaN kept)."""
    mask = (x < y).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x / y) * mask + (y / x) * (1.0 - mask)


@functools.lru_cache(maxsize=8)
def _chen_blum_response(h: int, w: int) -> np.ndarray:
    """Qcb's DoG contrast-sensitivity response on ``freqspace`` coordinates scaled by
    (W/30, H/30), per image size (read-only)."""
    u, v = matlab.freqspace_meshgrid(h, w)
    r = np.hypot(u * (w / 30.0), v * (h / 30.0))
    csf = np.exp(-(r / 15.3870) ** 2) - 0.7622 * np.exp(-(r / 1.3456) ** 2)
    csf.flags.writeable = False
    return csf


@functools.lru_cache(maxsize=8)
def _chen_varshney_response(h: int, w: int) -> np.ndarray:
    """Qcv's Mannos-Sakrison response on ``freqspace`` coordinates scaled by (W/8, H/8),
    per image size (read-only)."""
    u, v = matlab.freqspace_meshgrid(h, w)
    r = np.hypot(u * (w / 8.0), v * (h / 8.0))
    csf = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    csf.flags.writeable = False
    return csf


def chen_blum(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Qcb (``metricsQcb``): Chen-Blum contrast preservation, mean of the quality map.

    Images are min-max normalised and rounded (``normalize1``), filtered in frequency
    by the DoG contrast-sensitivity function exp(-(r/15.387)^2) - 0.7622 exp(-(r/1.3456)^2)
    on ``freqspace`` coordinates scaled by (W/30, H/30); local contrast uses 31 x 31
    Gaussians with sigma 2 and 4 (``filter2 'same'``), all in complex arithmetic as MATLAB
    does. On zero backgrounds the contrast ratio is a ratio of FFT rounding noise, so
    values agree with another implementation only to about 1e-2 (docs/profiles.md).

    References
    ----------
    Y. Chen, R. S. Blum, Image and Vision Computing 27(10), 1421-1432, 2009.
    """
    F, A, B = (matlab.normalize_minmax_round(x) for x in _u8(F, A, B))
    csf = _chen_blum_response(*F.shape[1:])
    cA, cB, cF = (_local_contrast(matlab.centred_filter_fft(x, csf)) for x in (A, B, F))
    with np.errstate(divide="ignore", invalid="ignore"):
        wA = cA * cA / (cA * cA + cB * cB)
        wB = cB * cB / (cA * cA + cB * cB)
    q = wA * _ratio_min(cA, cF) + wB * _ratio_min(cB, cF)
    return q.mean(axis=(1, 2))


def chen_varshney(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Qcv (``metricsQcv``): Chen-Varshney regional distortion, lower is better.

    After ``normalize1``: saliency = sum over 16 x 16 blocks of (Sobel magnitude)^5;
    distortion = block mean of the squared Mannos-Sakrison-filtered difference X - F
    (filter 2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1) on ``freqspace`` scaled by
    (W/8, H/8)); Q = sum(sA DA + sB DB) / sum(sA + sB). MATLAB's result carries an
    imaginary part of rounding size; the real part is returned (computed with a real FFT
    pair, :func:`metrics.matlab.centred_filter_real`).

    References
    ----------
    H. Chen, P. K. Varshney, Information Fusion 8(2), 193-207, 2007.
    """
    F, A, B = (matlab.normalize_minmax_round(x) for x in _u8(F, A, B))
    csf = _chen_varshney_response(*F.shape[1:])

    def saliency(x: np.ndarray) -> np.ndarray:
        gx, gy = sobel(x, "constant")
        squared = gx * gx + gy * gy  # |g|^5 as |g|^4 |g|: numpy's ** 5 is a scalar pow
        return matlab.block_reduce(squared * squared * np.sqrt(squared), 16, "sum")

    def distortion(x: np.ndarray) -> np.ndarray:
        filtered = matlab.centred_filter_real(x - F, csf)
        return matlab.block_reduce(filtered * filtered, 16, "mean")

    sA, sB = saliency(A), saliency(B)
    num = (sA * distortion(A) + sB * distortion(B)).sum(axis=(1, 2))
    return num / (sA + sB).sum(axis=(1, 2))


def spatial_frequency(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SF (``metricsSpatial_frequency``): sqrt((sum dRow^2 + sum dCol^2) / (M*N)).

    Both sums of squared neighbour differences are divided by M*N (not by the number
    of differences), so the value is below the default SF.

    References
    ----------
    A. M. Eskicioglu, P. S. Fisher, IEEE Trans. Communications 43(12), 2959-2965, 1995.
    """
    (F,) = _u8(F)
    row = np.diff(F, axis=2)
    col = np.diff(F, axis=1)
    total = (row * row).sum(axis=(1, 2)) + (col * col).sum(axis=(1, 2))
    return np.sqrt(total / F[0].size)


def ssim(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SSIM (``metricsSsim``): SSIM(A, F) + SSIM(B, F), best value 2.

    11 x 11 Gaussian window (sigma 1.5), ``filter2 'valid'``, population (weighted)
    statistics, C1 = (0.01*255)^2, C2 = (0.03*255)^2, mean of the map.

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, IEEE TIP 13(4), 600-612, 2004.
    """
    F, A, B = _u8(F, A, B)
    ssim_map, _ = ssim_maps(F, (A, B), gaussian_taps(11, 1.5))
    return ssim_map.mean(axis=(2, 3)).sum(axis=0)


def vifb_standard_deviation(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """SD (``metricsVariance``, despite its name a standard deviation): the default SD."""
    (F,) = _u8(F)
    return standard_deviation(F, F, F)


def _metric(name: str, fn, higher: bool, sources: bool, vifb_name: str, unit: str = "",
            min_size: int = 2) -> Metric:
    return profile_metric("vifb", name, fn, higher, sources, f"{_REF}metrics{vifb_name}.m", unit,
                          min_size)


AG = _metric("AG", average_gradient, True, False, "Avg_gradient")
CE = _metric("CE", cross_entropy, False, True, "Cross_entropy", unit="bits")
EI = _metric("EI", edge_intensity, True, False, "Edge_intensity")
EN = _metric("EN", vifb_entropy, True, False, "Entropy", unit="bits")
MI = _metric("MI", mutual_information, True, True, "Mutinf", unit="nats")
PSNR = _metric("PSNR", psnr, True, True, "Psnr", unit="dB")
Qabf = _metric("Qabf", qabf, True, True, "Qabf")
Qcb = _metric("Qcb", chen_blum, True, True, "Qcb")
Qcv = _metric("Qcv", chen_varshney, False, True, "Qcv")
RMSE = _metric("RMSE", rmse, False, True, "Rmse")
SF = _metric("SF", spatial_frequency, True, False, "Spatial_frequency")
SSIM = _metric("SSIM", ssim, True, True, "Ssim", min_size=11)
SD = _metric("SD", vifb_standard_deviation, True, False, "Variance")
