"""Profile ``tang``: the 16 metrics of Tang's ``analysis_Reference.m``, vectorised.

The 12 of ``easy=1`` and the 4 that ``easy=0`` adds: FMI_pixel (edge FMI, the code's
default feature), FMI_dct, FMI_w and MS_SSIM (Ma et al.'s multi-scale MEF-SSIM), see
:mod:`metrics.fmi`, :mod:`metrics.mef_ssim` and ``docs/metrics.md`` (canon).
Reproduces ``analysis_Reference(img_f, img1, img2, easy)`` of Linfeng Tang's
Evaluation-for-Image-Fusion (the version that scores EN and MI on the uint8 images, MSE
and PSNR on [0, 1], everything else on 0..255 floats), called as its drivers call it:
fused first, then the first source (A) and the second source (B). Inputs are first
reduced to uint8 values. Where Tang's function is the same computation as the default
profile's or VIFB's, that implementation is reused. Definitions: ``docs/profiles.md``.

References
----------
L. Tang, J. Yuan, J. Ma, "Image fusion in the loop of high-level vision tasks"
(SeAFusion), Information Fusion 82, 28-42, 2022; code
github.com/Linfeng-Tang/Evaluation-for-Image-Fusion.
"""
from __future__ import annotations

import numpy as np

from mmif_bench.metric import Metric

from . import fmi, mef_ssim
from .edges import fusion_nabf, fusion_qabf
from .histograms import mutual_information
from .information import fused_entropy
from .intensity import (
    correlation_coefficient,
    spatial_frequency,
    standard_deviation,
    sum_correlation_differences,
)
from .matlab import to_uint8_values
from .validation import profile_metric
from .vif import MIN_SIZE as VIF_MIN_SIZE
from .vif import fusion_vif
from .vifb import average_gradient

_REF = "Tang, Evaluation-for-Image-Fusion, analysis_Reference.m"


def _u8(*stacks: np.ndarray) -> list[np.ndarray]:
    return [to_uint8_values(s) for s in stacks]


def _on_uint8(fn):
    """The same computation as ``fn`` (a default/VIFB function), on the uint8 values."""
    def on_uint8(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return fn(*_u8(F, A, B))
    on_uint8.__doc__ = fn.__doc__
    return on_uint8


def mean_squared_error(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MSE (``MSE_evaluation``): (MSE(A, F) + MSE(B, F)) / 2 on the [0, 1] scale.

    References
    ----------
    P. Jagalingam, A. V. Hegde, Aquatic Procedia 4, 133-142, 2015.
    """
    F, A, B = (x / 255.0 for x in _u8(F, A, B))
    return (np.mean((F - A) ** 2, axis=(1, 2)) + np.mean((F - B) ** 2, axis=(1, 2))) / 2.0


def psnr(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """PSNR (``PSNR_evaluation``): 20 log10(255 / sqrt(MSE)) with MSE on [0, 1].

    The peak 255 is combined with a [0, 1]-scale MSE, so the value is 20 log10(255)
    = 48.13 dB above the usual 8-bit PSNR.
    """
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(255.0 / np.sqrt(mean_squared_error(F, A, B)))


def mutual_information_bits(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MI (``MI_evaluation``): I(F; A) + I(F; B) in bits from 256-bin histograms.

    Qu's code indexes its histograms with ``uint8 + 1``, which saturates: values 254
    and 255 share one bin. Otherwise it is the default MI divided by ln 2.

    References
    ----------
    G. Qu, D. Zhang, P. Yan, Electronics Letters 38(7), 313-315, 2002.
    """
    F, A, B = (np.minimum(x, 254.0) for x in _u8(F, A, B))
    return (mutual_information(F, A) + mutual_information(F, B)) / np.log(2.0)



def tang_nabf(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Nabf as Tang's code calls it: ``analysis_nabf(img1, img2, img_f)``.

    ``analysis_nabf(f, I1, I2)`` documents (fused, source 1, source 2); the call passes
    the first source where the fused image belongs and the fused image as the second
    source, so the value is the default Nabf with arguments (A, B, F).
    """
    F, A, B = _u8(F, A, B)
    return fusion_nabf(A, B, F)


def _metric(name: str, fn, higher: bool, sources: bool, matlab_name: str, unit: str = "",
            min_size: int = 3) -> Metric:
    return profile_metric("tang", name, fn, higher, sources, f"{_REF} ({matlab_name})", unit,
                          min_size)


EN = _metric("EN", _on_uint8(fused_entropy), True, False, "entropy", unit="bits")
SF = _metric("SF", _on_uint8(spatial_frequency), True, False, "SF_evaluation")
SD = _metric("SD", _on_uint8(standard_deviation), True, False, "SD_evaluation")
PSNR = _metric("PSNR", psnr, True, True, "PSNR_evaluation", unit="dB")
MSE = _metric("MSE", mean_squared_error, False, True, "MSE_evaluation")
MI = _metric("MI", mutual_information_bits, True, True, "MI_evaluation", unit="bits")
VIF = _metric("VIF", _on_uint8(fusion_vif), True, True, "vifp_mscale", min_size=VIF_MIN_SIZE)
AG = _metric("AG", average_gradient, True, False, "AG_evaluation")
CC = _metric("CC", _on_uint8(correlation_coefficient), True, True, "CC_evaluation")
SCD = _metric("SCD", _on_uint8(sum_correlation_differences), True, True, "analysis_SCD")
Qabf = _metric("Qabf", _on_uint8(fusion_qabf), True, True, "analysis_Qabf")
Nabf = _metric("Nabf", tang_nabf, False, True, "analysis_nabf")
FMI_pixel = _metric("FMI_pixel", _on_uint8(fmi.edge_fmi), True, True, "analysis_fmi, default 'edge'",
                    min_size=fmi.WINDOW)
FMI_dct = _metric("FMI_dct", _on_uint8(fmi.dct_fmi), True, True, "analysis_fmi(.., 'dct')",
                  min_size=fmi.WINDOW)
FMI_w = _metric("FMI_w", _on_uint8(fmi.wavelet_fmi), True, True,
                "analysis_fmi(.., 'wavelet') on PyWavelets' 62-tap dmey; MATLAB's dmey has 102 "
                "taps, so not proven equal to MATLAB", min_size=fmi.WINDOW)
MS_SSIM = _metric("MS_SSIM", _on_uint8(mef_ssim.multiscale_mef_ssim), True, True,
                  "analysis_ms_ssim", min_size=mef_ssim.MIN_SIZE)
