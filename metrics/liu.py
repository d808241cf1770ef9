"""Profile ``liu``: the metrics of Liu et al.'s toolbox (``fusionAssess.m`` and the
``metricX`` files it calls), vectorised.

Each metric reproduces ``metricX(im1, im2, fused, ...)`` of github.com/zhengliu6699/
imageFusionMetrics called as ``fusionAssess`` calls it, with im1 = A (first source, the
MRI), im2 = B and the images as doubles of their uint8 values (inputs are first reduced
to the values a uint8 image holds, :func:`metrics.matlab.to_uint8_values`). The measures
live in the family modules; this module names them as the papers print them.
Definitions, traps and which number a paper printed: ``docs/metrics.md``.

References
----------
Z. Liu, E. Blasch, Z. Xue, J. Zhao, R. Laganiere, W. Wu, "Objective assessment of
multiresolution image fusion algorithms for context enhancement in night vision: a
comparative study", IEEE TPAMI 34(1), 94-109, 2012.
"""
from __future__ import annotations

import numpy as np

from mmif_bench.metric import BatchFn, Metric

from . import feature_based, information_based, local_similarity, phase_congruency, piella, vifb
from .matlab import to_uint8_values
from .validation import profile_metric

_REF = "Liu et al., TPAMI 2012, imageFusionMetrics"


def on_uint8(fn: BatchFn) -> BatchFn:
    """``fn`` on the uint8 values of its inputs (what the MATLAB code reads)."""
    def on_uint8_values(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return fn(to_uint8_values(F), to_uint8_values(A), to_uint8_values(B))
    on_uint8_values.__doc__ = fn.__doc__
    return on_uint8_values


def _metric(name: str, fn: BatchFn, higher: bool, matlab_call: str, unit: str = "",
            min_size: int = 1) -> Metric:
    return profile_metric("liu", name, on_uint8(fn), higher, True,
                          f"{_REF}, {matlab_call}", unit, min_size)


QMI = _metric("QMI", information_based.normalized_mutual_information, True, "metricMI(.., 1)")
QTE = _metric("QTE", information_based.tsallis_entropy_nava, True, "metricMI(.., 3)")
TE = _metric("TE", information_based.tsallis_entropy_cvejic, True, "metricMI(.., 2)")
QNCIE = _metric("QNCIE", information_based.nonlinear_correlation_information_entropy, True,
                "metricWang.m")
QG = _metric("QG", feature_based.gradient_preservation, True, "metricXydeas.m")
QM = _metric("QM", feature_based.wavelet_preservation, True, "metricPWW.m",
             min_size=feature_based.WAVELET_MIN_SIZE)
QSF = _metric("QSF", feature_based.spatial_frequency_error, True, "metricZheng.m")
QS = _metric("QS", piella.piella_quality, True, "metricPeilla(.., 1)", min_size=piella.WINDOW)
QW = _metric("QW", piella.piella_weighted_quality, True, "metricPeilla(.., 2)",
             min_size=piella.WINDOW)
QE = _metric("QE", piella.piella_edge_dependent_quality, True,
             "metricPeilla(.., 3) crashes; Piella's Q_W x edge Q_W", min_size=piella.WINDOW)


def cvejic_quality_nan(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_C as Liu's ``metricCvejic(.., 2)``: ``mean2`` of the map, NaN where any window
    of F is flat (a 0/0 the code propagates; NaN on most medical images).

    :func:`metrics.local_similarity.cvejic_quality` with ``omit_nan=False``.
    """
    return local_similarity.cvejic_quality(F, A, B, omit_nan=False)


def yang_quality_nan(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_Y as Liu's ``metricYang``: ``mean2`` of the map, NaN where any window of both
    sources is flat (a 0/0 the code propagates; NaN on most medical images).

    :func:`metrics.local_similarity.yang_quality` with ``omit_nan=False``.
    """
    return local_similarity.yang_quality(F, A, B, omit_nan=False)


QP = _metric("QP", phase_congruency.zhao_phase_congruency, True, "metricZhao.m",
             min_size=phase_congruency.MIN_SIZE)
QC = _metric("QC", cvejic_quality_nan, True, "metricCvejic(.., 2)",
             min_size=local_similarity.MIN_SIZE)
QY = _metric("QY", yang_quality_nan, True, "metricYang.m", min_size=local_similarity.MIN_SIZE)
QCV = _metric("QCV", vifb.chen_varshney, False, "metricChen.m", min_size=2)
QCB = _metric("QCB", vifb.chen_blum, True, "metricChenBlum.m", min_size=2)
