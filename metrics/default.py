"""Default-profile metrics (the CDDFuse-style evaluator); see docs/metrics.md.

Module-level :class:`~mmif_bench.metric.Metric` objects, registered through the
``mmif_bench.metrics`` entry points in pyproject.toml.
"""
from __future__ import annotations

from mmif_bench.metric import Metric

from .edges import fusion_nabf, fusion_qabf
from .information import fused_entropy, fusion_mutual_information
from .intensity import (average_gradient, correlation_coefficient, peak_signal_to_noise_ratio,
                        spatial_frequency, standard_deviation, sum_correlation_differences)
from .structural import MS_SSIM_MIN_SIZE, SSIM_WINDOW, fusion_ms_ssim, fusion_ssim
from .vif import MIN_SIZE as VIF_MIN_SIZE
from .vif import fusion_vif

EN = Metric("EN", fused_entropy, True, False,
            "Roberts, van Aardt, Ahmed, J. Appl. Remote Sens. 2008",
            "Shannon entropy of the 256-bin histogram of F", unit="bits")
SD = Metric("SD", standard_deviation, True, False, "Rao, Meas. Sci. Technol. 1997",
            "population standard deviation of F", unit="grey levels")
SF = Metric("SF", spatial_frequency, True, False, "Eskicioglu, Fisher, IEEE Trans. Commun. 1995",
            "root of the mean squared row and column differences of F", unit="grey levels")
AG = Metric("AG", average_gradient, True, False, "Cui et al., Opt. Commun. 2015",
            "mean of sqrt((Gx^2 + Gy^2) / 2) with numpy.gradient", unit="grey levels / px")
MI = Metric("MI", fusion_mutual_information, True, True, "Qu, Zhang, Yan, Electron. Lett. 2002",
            "I(F;A) + I(F;B) over the exact pixel values", unit="nats")
SCD = Metric("SCD", sum_correlation_differences, True, True, "Aslantas, Bendes, AEU 2015",
             "corr(A, F - B) + corr(B, F - A)")
CC = Metric("CC", correlation_coefficient, True, True, "Zhang, Ye, Xiao, CVPRW 2020 (VIFB)",
            "(corr(A, F) + corr(B, F)) / 2")
PSNR = Metric("PSNR", peak_signal_to_noise_ratio, True, True,
              "Jagalingam, Hegde, Aquatic Procedia 2015",
              "10 log10(max(F)^2 / mean of the two MSEs)", unit="dB")
VIF = Metric("VIF", fusion_vif, True, True, "Han et al., Inf. Fusion 2013; Sheikh, Bovik, TIP 2006",
             "VIFp(A, F) + VIFp(B, F), four scales", min_size=VIF_MIN_SIZE)
Qabf = Metric("Qabf", fusion_qabf, True, True, "Xydeas, Petrovic, Electron. Lett. 2000",
              "Sobel edge strength and orientation preservation, weighted by source edges")
SSIM = Metric("SSIM", fusion_ssim, True, True, "Wang, Bovik, Sheikh, Simoncelli, TIP 2004",
              "SSIM(F, A) + SSIM(F, B), scikit-image defaults, data_range 255",
              min_size=SSIM_WINDOW)
Nabf = Metric("Nabf", fusion_nabf, False, True,
              "Shreyamsha Kumar, SIViP 2013; Petrovic, Xydeas, ICCV 2005",
              "share of source edge information replaced by artefact edges in F")
MS_SSIM = Metric("MS_SSIM", fusion_ms_ssim, True, True,
                 "Wang, Simoncelli, Bovik, Asilomar 2003",
                 "MS-SSIM(F, A) + MS-SSIM(F, B), five scales, 11x11 Gaussian",
                 min_size=MS_SSIM_MIN_SIZE)
