"""Profile ``mefb``: the metrics of MEFB's ``metrics/`` folder, vectorised.

Each metric reproduces ``metricsX(img1, img2, fused)`` of github.com/xingchenzhang/MEFB
for uint8 gray inputs, with img1 = A (first source, the MRI) and img2 = B (inputs are
first reduced to the values a uint8 image holds). Several are Liu's code copied (NMI,
TE, Qncie): they share the measure functions of the ``liu`` profile. Definitions,
traps and which number a paper printed: ``docs/metrics.md``.

References
----------
X. Zhang, "Benchmarking and comparing multi-exposure image fusion algorithms",
Information Fusion 74, 111-131, 2021.
"""
from __future__ import annotations

from mmif_bench.metric import BatchFn, Metric

from . import fmi, information_based, local_similarity, perceptual, phase_congruency, piella, vif, vifb
from .liu import on_uint8
from .validation import profile_metric

_REF = "MEFB (Zhang, Inf. Fusion 2021), metrics/"


def _metric(name: str, fn: BatchFn, higher: bool, mefb_name: str, unit: str = "",
            min_size: int = 1, sources: bool = True) -> Metric:
    return profile_metric("mefb", name, on_uint8(fn), higher, sources,
                          f"{_REF}metrics{mefb_name}.m", unit, min_size)


NMI = _metric("NMI", information_based.normalized_mutual_information, True, "NMI")
TE = _metric("TE", information_based.tsallis_entropy_cvejic, True, "TE")
QNCIE = _metric("QNCIE", information_based.nonlinear_correlation_information_entropy, True,
                "Qncie")
QW = _metric("QW", piella.piella_edge_weighted_quality, True, "Qw", min_size=piella.WINDOW)
FMI = _metric("FMI", fmi.edge_fmi, True, "FMI", min_size=fmi.WINDOW)
QP = _metric("QP", phase_congruency.zhao_phase_congruency, True, "Qp",
             min_size=phase_congruency.MIN_SIZE)
QC = _metric("QC", local_similarity.cvejic_quality, True, "Qc", min_size=local_similarity.MIN_SIZE)
QY = _metric("QY", local_similarity.yang_quality, True, "Qy", min_size=local_similarity.MIN_SIZE)
VIFF = _metric("VIFF", perceptual.han_vif, True, "VIF", min_size=vif.MIN_SIZE)
QCB = _metric("QCB", vifb.chen_blum, True, "Qcb", min_size=2)
QCV = _metric("QCV", vifb.chen_varshney, False, "Qcv", min_size=2)
CE = _metric("CE", vifb.cross_entropy, False, "Cross_entropy", unit="bits")
EI = _metric("EI", vifb.edge_intensity, True, "Edge_intensity", sources=False)
