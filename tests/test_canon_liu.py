"""The canon metrics of Liu's toolbox and MEFB implemented in metrics/information_based.py,
feature_based.py and piella.py (issue 22): registration, equality with the plain
implementations of tests/canon_reference.py, the Octave worked values of
../shared/fixtures/metric_canon/, and the reference's degenerate cases."""
from __future__ import annotations

import numpy as np
import pytest
from canon_reference import LIU, MEFB
from metrics_reference import harvard_triples

from mmif_bench.evaluation import score_255
from mmif_bench.registry import get_metric, list_metrics

PLAIN = {**{f"liu.{name}": fn for name, fn in LIU.items()},
         **{f"mefb.{name}": fn for name, fn in MEFB.items()}}
PLAIN_RTOL = 1e-10
WORKED_RTOL = 1e-6  # the README's tolerance for every metric here

# worked value (reference, metric name in worked_values.csv) -> registered metrics that
# compute it; liu.QMI, liu.TE and liu.QNCIE run the same code as their MEFB copies
# (metric_canon.md §2, §3, §5), so the MEFB values check them too.
WORKED = {
    ("liu", "QG"): ["liu.QG"], ("liu", "QM"): ["liu.QM"], ("liu", "QS"): ["liu.QS"],
    ("liu", "QSF"): ["liu.QSF"], ("liu", "QTE"): ["liu.QTE"], ("liu", "QW"): ["liu.QW"],
    ("mefb", "NMI"): ["mefb.NMI", "liu.QMI"], ("mefb", "TE"): ["mefb.TE", "liu.TE"],
    ("mefb", "Qncie"): ["mefb.QNCIE", "liu.QNCIE"], ("mefb", "Qw"): ["mefb.QW"],
}


def _scores(f: np.ndarray, a: np.ndarray, b: np.ndarray, keys) -> dict[str, float]:
    """Each registered metric on one triple, by its full key (liu.QW and mefb.QW share
    the name QW)."""
    return {key: float(get_metric(key).compute(f[None], a[None], b[None])[0]) for key in keys}


def _synthetic_triple(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """64 x 48 sources with zero background, a saturated (255) block in A over zero in B,
    a flat grey block in both, and textured regions; F = max (a uint8-valued stack)."""
    rng = np.random.default_rng(seed)
    a = np.zeros((64, 48))
    b = np.zeros((64, 48))
    a[8:56, 6:42] = rng.integers(0, 256, (48, 36))
    b[16:60, 10:46] = rng.integers(0, 200, (44, 36))
    a[20:40, 8:30] = 255.0             # flat, saturated in A; B textured or zero around
    a[44:64, 30:48], b[44:64, 30:48] = 90.0, 140.0  # both flat and non-zero
    return np.maximum(a, b), a, b


def test_profiles_register_the_canon_metrics():
    liu = set(list_metrics("liu"))
    mefb = set(list_metrics("mefb"))
    assert {f"liu.{n}" for n in LIU} <= liu
    assert {f"mefb.{n}" for n in MEFB} <= mefb
    for key in PLAIN:
        metric = get_metric(key)
        assert metric.key == key and metric.higher_is_better and metric.needs_sources
        assert metric.reference and metric.description


@pytest.mark.slow
@pytest.mark.parametrize("seed, crop", [(0, (64, 48)), (1, (64, 48)), (2, (63, 45))])
def test_fast_path_equals_plain_on_synthetic_images(seed, crop):
    """Flat non-zero windows in one and in both sources (the saliency cases of Piella);
    odd sizes (Q_M's Haar blocks leave the last row and column out)."""
    f, a, b = (x[:crop[0], :crop[1]] for x in _synthetic_triple(seed))
    fast = _scores(f, a, b, PLAIN)
    for key, plain in PLAIN.items():
        assert fast[key] == pytest.approx(plain(a, b, f), rel=PLAIN_RTOL), key


@pytest.mark.parametrize("fusion", ["max", "mean"])
def test_fast_path_equals_plain_on_harvard_pairs(harvard_root, fusion):
    """The first Harvard test pair of each modality (other images than the worked
    cases'), fused by max and by the rounded mean."""
    for f, a, b in zip(*harvard_triples(harvard_root, 1, fusion)):
        fast = _scores(f, a, b, PLAIN)
        for key, plain in PLAIN.items():
            assert fast[key] == pytest.approx(plain(a, b, f), rel=PLAIN_RTOL), key


def test_worked_values_of_the_reference_code(metric_canon_cases):
    checked = 0
    for case in metric_canon_cases:
        keys = WORKED.get((case.reference, case.metric), [])
        if not keys:
            continue
        fast = _scores(*case.images, keys)
        for key in keys:
            assert fast[key] == pytest.approx(case.value, rel=WORKED_RTOL), (case.pair, key)
            checked += 1
    assert checked == 3 * sum(len(keys) for keys in WORKED.values())


def test_piella_edge_dependent_quality_is_qw_times_mefb_qw(metric_canon_cases):
    """Liu's Q_E crashes; Piella's Q_E (alpha = 1) is Liu's Q_W x MEFB's Qw, whose
    worked values exist."""
    value = {(c.pair, c.reference, c.metric): c.value for c in metric_canon_cases}
    images = {c.pair: c.images for c in metric_canon_cases}
    for pair, (f, a, b) in images.items():
        expected = value[(pair, "liu", "QW")] * value[(pair, "mefb", "Qw")]
        assert score_255(f, a, b, ["liu.QE"])["QE"] == pytest.approx(expected, rel=WORKED_RTOL)


@pytest.mark.slow
def test_batch_equals_single_images():
    triples = [_synthetic_triple(seed) for seed in range(3)]
    F, A, B = (np.stack(x) for x in zip(*triples))
    for key in PLAIN:
        batch = get_metric(key).compute(F, A, B)
        for i, (f, a, b) in enumerate(triples):
            assert batch[i] == pytest.approx(_scores(f, a, b, [key])[key], rel=1e-12), key


def test_constant_nonzero_image_has_no_stretch():
    """``normalize1`` divides by max - min: a constant non-zero image gives NaN (the
    reference stops with an index error there); an all-zero image stays as it is."""
    f, a, b = _synthetic_triple(0)
    flat = np.full_like(f, 7.0)
    for key in ("liu.QMI", "liu.TE", "liu.QTE", "liu.QNCIE"):
        assert np.isnan(score_255(flat, a, b, [key])[key.split(".")[1]]), key
    zero = _scores(np.zeros_like(f), a, b, ["liu.QMI"])["liu.QMI"]
    assert zero == pytest.approx(LIU["QMI"](a, b, np.zeros_like(f)), rel=PLAIN_RTOL)


def test_inputs_are_read_as_uint8_values():
    """Non-integer inputs score as the uint8 image the MATLAB code reads."""
    f, a, b = _synthetic_triple(1)
    shifted = _scores(f + 0.3, a - 0.2, b + 0.4, PLAIN)
    assert shifted == _scores(f, a, b, PLAIN)


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["liu", "mefb"])
def test_cli_run_scores_the_profile(profile, tmp_path):
    """``mmif-bench run --profile liu|mefb`` scores every metric of the profile (on the
    built-in phantom pairs, so without data)."""
    from mmif_bench.cli import main

    out = tmp_path / profile
    assert main(["run", "--dataset", "phantom", "--methods", "max", "--profile", profile,
                 "--out", str(out), "--no-report"]) == 0
    rows = [line.split(",") for line in (out / "scores.csv").read_text().splitlines()[1:]]
    scored = {row[4] for row in rows}
    assert scored == {get_metric(key).name for key in list_metrics(profile)}
    mine = {key.split(".")[1] for key in PLAIN if key.startswith(profile)}
    assert mine <= scored
    assert all(np.isfinite(float(row[5])) for row in rows if row[4] in mine)


def test_phase_congruency_leaves_torch_threads_as_found() -> None:
    """Q_P's FFTs run on one torch thread and give the caller's thread count back."""
    import torch

    from mmif_bench.metrics.phase_congruency import zhao_phase_congruency

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 256, (2, 1, 48, 48)).astype(np.float64)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        value = zhao_phase_congruency(np.round((a + b) / 2), a, b)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert np.isfinite(value).all()
