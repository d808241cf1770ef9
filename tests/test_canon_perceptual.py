"""The canon's feature and perceptual metrics (FMI, Q_P, Q_C, Q_Y, VIFF, Tang's MS_SSIM,
and the reused Q_CV, Q_CB, CE, EI; issue 22): the worked values of the reference code,
the plain implementations of tests/canon_reference_perceptual.py, the reference's quirks.
Speed is in tests/test_metrics_benchmark.py."""
from __future__ import annotations

import math

import canon_reference_perceptual as plain
import numpy as np
import pytest
import pywt
from metrics_reference import harvard_triples

from mmif_bench.evaluation import score_255, score_255_batch
from mmif_bench.metrics import (
    fmi,
    local_similarity,
    mef_ssim,
    perceptual,
    phase_congruency,
    wavelets,
)
from mmif_bench.metrics.matlab import to_uint8_values
from mmif_bench.registry import get_metric

# worked-value rows (reference, metric as the CSV names it) -> registry key
WORKED = {("mefb", "FMI"): "mefb.FMI", ("mefb", "Qp"): "mefb.QP", ("mefb", "Qc"): "mefb.QC",
          ("mefb", "Qy"): "mefb.QY", ("mefb", "VIF"): "mefb.VIFF", ("mefb", "Qcb"): "mefb.QCB",
          ("liu", "QC"): "liu.QC", ("liu", "QY"): "liu.QY", ("tang", "MS_SSIM"): "tang.MS_SSIM"}
# the README's tolerances: flat non-zero windows make these ratios of rounding noise
ILL_CONDITIONED = {"mefb.QC": 3e-2, "mefb.QY": 3e-2, "mefb.QCB": 2e-2}
RTOL = 1e-6
EXACT = 1e-10  # fast path against the plain implementation

MINE = {
    "liu": {"QP": True, "QC": True, "QY": True, "QCV": False, "QCB": True},
    "mefb": {"FMI": True, "QP": True, "QC": True, "QY": True, "VIFF": True, "QCB": True,
             "QCV": False, "CE": False, "EI": True},
    "tang": {"FMI_pixel": True, "FMI_dct": True, "FMI_w": True, "MS_SSIM": True},
}


def _value(key: str, f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """One registered metric (``profile.NAME``) on one triple."""
    (value,) = score_255(f, a, b, metrics=[key]).values()
    return value


@pytest.fixture(scope="module")
def worked_cases(metric_canon_cases):
    return [case for case in metric_canon_cases if (case.reference, case.metric) in WORKED]


@pytest.fixture(scope="module")
def triples(worked_cases):
    """The three worked triples (F = max(A, B)), as F, A, B."""
    seen = {}
    for case in worked_cases:
        seen.setdefault((case.pair, case.image, case.fusion), case.images)
    return list(seen.values())


def test_registered_with_direction_and_reference():
    for profile, names in MINE.items():
        for name, higher in names.items():
            metric = get_metric(f"{profile}.{name}")
            assert (metric.profile, metric.name, metric.higher_is_better) == (profile, name, higher)
            assert metric.reference and metric.description


def test_worked_values(worked_cases):
    assert len(worked_cases) == 27
    for case in worked_cases:
        key = WORKED[(case.reference, case.metric)]
        value = _value(key, *case.images)
        label = (case.pair, key)
        if math.isnan(case.value):  # Liu's QC, QY: the reference's propagated 0/0
            assert math.isnan(value), label
        else:
            rtol = ILL_CONDITIONED.get(key, RTOL)
            assert value == pytest.approx(case.value, rel=rtol), label


def test_same_code_same_values(triples):
    """Liu's and MEFB's Q_P are one code; Tang's FMI_pixel is MEFB's edge FMI; MEFB's and
    Liu's Q_CV, Q_CB and MEFB's CE, EI are VIFB's."""
    for f, a, b in triples:
        values = {"liu": score_255(f, a, b, metrics=["QP", "QCV", "QCB"], profile="liu"),
                  "mefb": score_255(f, a, b, metrics=["QP", "FMI", "QCV", "QCB", "CE", "EI"],
                                    profile="mefb"),
                  "tang": score_255(f, a, b, metrics=["FMI_pixel"], profile="tang")}
        vifb = score_255(f, a, b, metrics=["CE", "EI", "Qcv", "Qcb"], profile="vifb")
        assert values["liu"]["QP"] == values["mefb"]["QP"]
        assert values["tang"]["FMI_pixel"] == values["mefb"]["FMI"]
        for name, vifb_name in (("QCV", "Qcv"), ("QCB", "Qcb")):
            assert values["liu"][name] == values["mefb"][name] == vifb[vifb_name]
        assert values["mefb"]["CE"] == vifb["CE"] and values["mefb"]["EI"] == vifb["EI"]


FAST = {
    "fmi_edge": (plain.fmi_edge, fmi.edge_fmi),
    "qp": (plain.zhao_qp, phase_congruency.zhao_phase_congruency),
    "qy": (plain.yang_qy, local_similarity.yang_quality),
    "viff": (plain.han_viff, perceptual.han_vif),
    "ms_ssim": (plain.tang_ms_ssim, mef_ssim.multiscale_mef_ssim),
}


@pytest.mark.parametrize("name", FAST)
def test_fast_equals_plain(name, triples):
    plain_fn, fast_fn = FAST[name]
    for f, a, b in triples:
        assert fast_fn(f[None], a[None], b[None])[0] == pytest.approx(plain_fn(a, b, f), rel=EXACT)


@pytest.mark.parametrize("name", ["dct", "wavelet"])
def test_transform_fmi_equals_plain(name, triples):
    """FMI on DCT and dmey features, on 96 x 96 crops (no window is ever equal there:
    every window runs the whole computation)."""
    plain_fn = {"dct": plain.fmi_dct, "wavelet": plain.fmi_wavelet}[name]
    fast_fn = {"dct": fmi.dct_fmi, "wavelet": fmi.wavelet_fmi}[name]
    for f, a, b in triples:
        f, a, b = (x[80:176, 80:176] for x in (f, a, b))
        assert fast_fn(f[None], a[None], b[None])[0] == pytest.approx(plain_fn(a, b, f), rel=EXACT)


def test_cvejic_equals_plain_where_conditioned(triples):
    """Q_C to 1e-10 where no window is flat (a fixed dither breaks every flat window);
    on the images as they are, flat non-zero windows make sim a ratio of rounding noise
    and the two filter orders agree to the README's 3e-2 only."""
    rng = np.random.default_rng(22)
    for f, a, b in triples:
        assert local_similarity.cvejic_quality(f[None], a[None], b[None])[0] == pytest.approx(
            plain.cvejic_qc(a, b, f), rel=3e-2)
        dither = [x + rng.uniform(0, 0.5, x.shape) for x in (f, a, b)]
        fd, ad, bd = dither
        for omit_nan in (True, False):
            fast = local_similarity.cvejic_quality(fd[None], ad[None], bd[None],
                                                   omit_nan=omit_nan)[0]
            assert fast == pytest.approx(plain.cvejic_qc(ad, bd, fd, omit_nan), rel=EXACT)


def test_liu_nan_where_mefb_finite(triples):
    """Liu's Q_C and Q_Y propagate the 0/0 of flat windows (black backgrounds); MEFB's
    average the other pixels. Without flat windows both codes agree bit for bit."""
    f, a, b = triples[0]
    liu = score_255(f, a, b, metrics=["QC", "QY"], profile="liu")
    mefb = score_255(f, a, b, metrics=["QC", "QY"], profile="mefb")
    assert math.isnan(liu["QC"]) and math.isnan(liu["QY"])
    assert np.isfinite(mefb["QC"]) and np.isfinite(mefb["QY"])
    rng = np.random.default_rng(5)
    a, b = (rng.integers(1, 256, (64, 64)).astype(float) for _ in range(2))
    f = np.floor((a + b) / 2)
    for name in ("QC", "QY"):
        assert _value(f"liu.{name}", f, a, b) == _value(f"mefb.{name}", f, a, b)


def test_fmi_constant_windows_count_one():
    """Both windows constant but different (an all-zero source window under an all-one
    fused window): the reference's sequential mean makes the correlation exactly 1, so
    fmi = 1 (numpy's pairwise mean would give about 0). The plain code follows the
    reference's sums and its overwritten F window; the fast path has the rule."""
    a = np.zeros((1, 3, 3))
    b = np.zeros((1, 3, 3))
    b[0, 1, 1] = 1.0
    f = np.ones((1, 3, 3))
    expected = plain.fmi(a[0], b[0], f[0])
    assert fmi.feature_mutual_information(a, b, f)[0] == pytest.approx(expected, rel=EXACT)
    assert fmi.feature_mutual_information(a, a, f)[0] == pytest.approx(1.0, rel=1e-12)
    assert plain.fmi(a[0], a[0], f[0]) == pytest.approx(1.0, rel=1e-12)


def test_fmi_b_pass_compares_the_normalised_f_window(harvard_root):
    """Whole images, where flat regions' wavelet features differ by rounding noise: a B
    window equal to the F window as it came, but not to the normalised one the A pass
    leaves, is computed by the reference (a single peak's pass is 0, not 1). The third
    Harvard MRI-CT test pair fused by maximum has such windows."""
    F, A, B = harvard_triples(harvard_root, 3, "max")
    f, a, b = to_uint8_values(F[2]), A[2], B[2]
    expected = plain.fmi_wavelet(a, b, f)
    assert fmi.wavelet_fmi(f[None], a[None], b[None])[0] == pytest.approx(expected, rel=EXACT)


@pytest.mark.parametrize("shape", [(3, 3), (5, 40), (61, 62), (63, 96), (256, 256)])
def test_dmey_transform_equals_pywavelets_bitwise(shape):
    """FMI_w's vectorised dwt2 adds PyWavelets' products in its order, edges included
    (filters longer than the image wrap the symmetric extension)."""
    x = np.round(np.random.default_rng(1).random((2, *shape)) * 255)
    cA, details = wavelets.dwt2_symmetric(x, "dmey")
    expected_cA, expected_details = pywt.dwt2(x, "dmey", mode="symmetric", axes=(1, 2))
    for band, expected in zip((cA, *details), (expected_cA, *expected_details)):
        assert np.array_equal(band, expected)


def test_edge_map_matches_plain(triples):
    for f, a, b in triples:
        for x in (f, a, b):
            assert np.array_equal(fmi.sobel_edge_map(x[None])[0], plain.matlab_edge(x))


@pytest.mark.slow
def test_phase_congruency_on_odd_sizes():
    """Odd sizes use the (n-1)-normalised frequency grid and lowpassfilter's own grid."""
    rng = np.random.default_rng(3)
    a, b = (rng.integers(0, 256, (37, 45)).astype(float) for _ in range(2))
    f = np.maximum(a, b)
    fast = phase_congruency.zhao_phase_congruency(f[None], a[None], b[None])[0]
    assert fast == pytest.approx(plain.zhao_qp(a, b, f), rel=EXACT)


def test_batch_equals_single_images(triples):
    stacks = [np.stack(x) for x in zip(*triples)]
    for profile, names in MINE.items():
        batch = score_255_batch(*stacks, metrics=list(names), profile=profile)
        for i, (f, a, b) in enumerate(triples):
            single = score_255(f, a, b, metrics=list(names), profile=profile)
            for key, value in single.items():
                np.testing.assert_allclose(batch[key][i], value, rtol=1e-12, atol=0,
                                           err_msg=f"{profile}.{key}")


def test_small_images_are_refused():
    a = np.zeros((40, 40))
    with pytest.raises(ValueError, match=r"VIFF \(min 41x41\)"):
        score_255(a, a, a, metrics=["mefb.VIFF"])
    with pytest.raises(ValueError, match=r"MS_SSIM \(min 44x44\)"):
        score_255(a, a, a, metrics=["tang.MS_SSIM"])


@pytest.mark.timeout(120)
def test_degenerate_images():
    """Black and constant images: each measure returns its documented value (the
    reference's 0/0 as NaN, never a hang or a warning turned error)."""
    zeros = np.zeros((64, 64))
    flat = np.full((64, 64), 200.0)
    with np.errstate(all="raise"):
        black = {key: _value(key, zeros, zeros, zeros)
                 for key in ("mefb.FMI", "mefb.QP", "mefb.QC", "mefb.QY", "mefb.VIFF",
                             "tang.FMI_dct", "tang.FMI_w", "tang.MS_SSIM")}
    assert black["mefb.FMI"] == black["tang.FMI_dct"] == 1.0  # every window equal
    assert black["mefb.VIFF"] == 1.0 and black["tang.MS_SSIM"] == 1.0
    for key in ("mefb.QP", "mefb.QC", "mefb.QY", "tang.FMI_w"):  # no mask pixel, 0/0
        assert math.isnan(black[key]), key
    assert _value("mefb.QC", flat, flat, flat) == 1.0
    assert _value("tang.FMI_pixel", flat, zeros, flat) == 1.0


def test_same_name_across_profiles_is_refused():
    """Results are keyed by metric name: liu.QC and mefb.QC in one call would collide."""
    a = np.zeros((32, 32))
    with pytest.raises(ValueError, match="liu.QC and mefb.QC are both named 'QC'"):
        score_255(a, a, a, metrics=["liu.QC", "mefb.QC"])
    assert set(score_255(a, a, a, metrics=["liu.QC", "mefb.FMI", "tang.FMI_dct"])) == \
        {"QC", "FMI", "FMI_dct"}
