"""Default-profile metrics (the CDDFuse-style evaluator); see docs/metrics.md.

Module-level :class:`~mmif_bench.metric.Metric` objects, registered through the
``mmif_bench.metrics`` entry points in pyproject.toml.
"""
from __future__ import annotations

from mmif_bench.metric import Metric

from .bibliography import BIBTEX
from .edges import fusion_nabf, fusion_qabf
from .information import fused_entropy, fusion_mutual_information
from .intensity import (
                        average_gradient,
                        correlation_coefficient,
                        peak_signal_to_noise_ratio,
                        spatial_frequency,
                        standard_deviation,
                        sum_correlation_differences,
)
from .structural import MS_SSIM_MIN_SIZE, SSIM_WINDOW, fusion_ms_ssim, fusion_ssim
from .vif import MIN_SIZE as VIF_MIN_SIZE
from .vif import fusion_vif

EN = Metric("EN", fused_entropy, higher_is_better=True, needs_sources=False,
            reference="Roberts, van Aardt, Ahmed, J. Appl. Remote Sens. 2008",
            description="Shannon entropy of the 256-bin histogram of F", unit="bits",
            bibtex=BIBTEX["EN"])
SD = Metric("SD", standard_deviation, higher_is_better=True, needs_sources=False,
            reference="Rao, Meas. Sci. Technol. 1997",
            description="population standard deviation of F", unit="grey levels",
            bibtex=BIBTEX["SD"])
SF = Metric("SF", spatial_frequency, higher_is_better=True, needs_sources=False,
            reference="Eskicioglu, Fisher, IEEE Trans. Commun. 1995",
            description="root of the mean squared row and column differences of F",
            unit="grey levels",
            bibtex=BIBTEX["SF"])
AG = Metric("AG", average_gradient, higher_is_better=True, needs_sources=False,
            reference="Cui et al., Opt. Commun. 2015",
            description="mean of sqrt((Gx^2 + Gy^2) / 2) with numpy.gradient",
            unit="grey levels / px",
            bibtex=BIBTEX["AG"])
MI = Metric("MI", fusion_mutual_information, higher_is_better=True, needs_sources=True,
            reference="Qu, Zhang, Yan, Electron. Lett. 2002",
            description="I(F;A) + I(F;B) over the exact pixel values", unit="nats",
            bibtex=BIBTEX["MI"])
SCD = Metric("SCD", sum_correlation_differences, higher_is_better=True, needs_sources=True,
             reference="Aslantas, Bendes, AEU 2015",
             description="corr(A, F - B) + corr(B, F - A)",
             bibtex=BIBTEX["SCD"])
CC = Metric("CC", correlation_coefficient, higher_is_better=True, needs_sources=True,
            reference="Zhang, Ye, Xiao, CVPRW 2020 (VIFB)",
            description="(corr(A, F) + corr(B, F)) / 2",
            bibtex=BIBTEX["CC"])
PSNR = Metric("PSNR", peak_signal_to_noise_ratio, higher_is_better=True, needs_sources=True,
              reference="Jagalingam, Hegde, Aquatic Procedia 2015",
              description="10 log10(max(F)^2 / mean of the two MSEs)", unit="dB",
              bibtex=BIBTEX["PSNR"])
VIF = Metric("VIF", fusion_vif, higher_is_better=True, needs_sources=True,
             reference="Han et al., Inf. Fusion 2013; Sheikh, Bovik, TIP 2006",
             description="VIFp(A, F) + VIFp(B, F), four scales", min_size=VIF_MIN_SIZE,
             bibtex=BIBTEX["VIF"])
Qabf = Metric("Qabf", fusion_qabf, higher_is_better=True, needs_sources=True,
              reference="Xydeas, Petrovic, Electron. Lett. 2000",
              description="Sobel edge strength and orientation preservation, weighted by "
                          "source edges",
              bibtex=BIBTEX["Qabf"])
SSIM = Metric("SSIM", fusion_ssim, higher_is_better=True, needs_sources=True,
              reference="Wang, Bovik, Sheikh, Simoncelli, TIP 2004",
              description="SSIM(F, A) + SSIM(F, B), scikit-image defaults, data_range 255",
              min_size=SSIM_WINDOW, bibtex=BIBTEX["SSIM"])
Nabf = Metric("Nabf", fusion_nabf, higher_is_better=False, needs_sources=True,
              reference="Shreyamsha Kumar, SIViP 2013; Petrovic, Xydeas, ICCV 2005",
              description="share of source edge information replaced by artefact edges in F",
              bibtex=BIBTEX["Nabf"])
MS_SSIM = Metric("MS_SSIM", fusion_ms_ssim, higher_is_better=True, needs_sources=True,
                 reference="Wang, Simoncelli, Bovik, Asilomar 2003",
                 description="MS-SSIM(F, A) + MS-SSIM(F, B), five scales, 11x11 Gaussian",
                 min_size=MS_SSIM_MIN_SIZE,
                 bibtex=BIBTEX["MS_SSIM"])
