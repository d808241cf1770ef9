"""Profiles ``vifb`` and ``tang``: values against plain re-implementations, identities
with the default profile, metadata (issue 8); speed is in tests/test_metrics_benchmark.py."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from profiles_reference import PROFILES

from mmif_bench.evaluation import score_255, score_255_batch
from mmif_bench.registry import get_metric, list_metrics

PAIRS = [("MRI-CT", "CT"), ("MRI-PET", "PET"), ("MRI-SPECT", "SPECT")]
VIFB_NAMES = "AG CE EI EN MI PSNR Qabf Qcb Qcv RMSE SF SSIM SD".split()
TANG_NAMES = "EN SF SD PSNR MSE MI VIF AG CC SCD Qabf Nabf FMI_pixel FMI_dct FMI_w MS_SSIM".split()
LOWER_IS_BETTER = {"vifb": {"CE", "Qcv", "RMSE"}, "tang": {"MSE", "Nabf"}}
RTOL = 1e-6
QCB_RTOL = 2e-2  # contrast ratios of FFT rounding noise on zero backgrounds, docs/profiles.md


def _gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)


def _triple(root: Path, pair: str, second: str, index: int = 0):
    name = (root / pair / "test.txt").read_text().split()[index]
    a = _gray(root / pair / "MRI" / name)
    b = _gray(root / pair / second / name)
    fused = np.floor(0.6 * np.maximum(a, b) + 0.4 * np.minimum(a, b) + 0.5)
    return fused, a, b


@pytest.fixture(scope="module")
def triples(harvard_root):
    """One test pair per modality with a simple weighted max/min fusion, as F, A, B."""
    return [_triple(harvard_root, pair, second) for pair, second in PAIRS]


@pytest.fixture(scope="module")
def plain_values(triples):
    """Plain reference values {profile: [{name: value} per triple]} (computed once)."""
    return {profile: [{name: fn(a, b, f) for name, fn in refs.items()} for f, a, b in triples]
            for profile, refs in PROFILES.items()}


def test_profiles_register_their_metric_sets():
    assert sorted(list_metrics("vifb")) == sorted(f"vifb.{n}" for n in VIFB_NAMES)
    assert sorted(list_metrics("tang")) == sorted(f"tang.{n}" for n in TANG_NAMES)
    for profile, names in (("vifb", VIFB_NAMES), ("tang", TANG_NAMES)):
        for name in names:
            metric = get_metric(f"{profile}.{name}")
            assert metric.profile == profile and metric.name == name
            assert metric.higher_is_better == (name not in LOWER_IS_BETTER[profile])
            assert metric.reference and metric.description


@pytest.mark.parametrize("profile", ["vifb", "tang"])
def test_profile_matches_plain_implementation(profile, triples, plain_values):
    for (f, a, b), plain in zip(triples, plain_values[profile]):
        fast = score_255(f, a, b, metrics=list(plain), profile=profile)
        assert set(fast) == set(plain)
        for name, expected in plain.items():
            rtol = QCB_RTOL if name == "Qcb" else RTOL
            assert fast[name] == pytest.approx(expected, rel=rtol), (profile, name)


def test_batch_equals_single_images(triples):
    stacks = [np.stack(x) for x in zip(*triples)]
    for profile in ("vifb", "tang"):
        batch = score_255_batch(*stacks, profile=profile)
        for i, (f, a, b) in enumerate(triples):
            single = score_255(f, a, b, profile=profile)
            for name, value in single.items():
                assert batch[name][i] == pytest.approx(value, rel=1e-12, abs=1e-12), (profile, name)


def test_identities_with_the_default_profile(triples):
    for f, a, b in triples:
        default = score_255(f, a, b, profile="default")
        vifb = score_255(f, a, b, profile="vifb")
        tang = score_255(f, a, b, profile="tang")
        m, n = f.shape
        for same in ("EN", "SF", "SD", "VIF", "CC", "SCD", "Qabf"):
            assert tang[same] == pytest.approx(default[same], rel=1e-12), same
        for same in ("EN", "SD"):
            assert vifb[same] == pytest.approx(default[same], rel=1e-12), same
        ag = default["AG"] * m * n / ((m - 1) * (n - 1))
        assert vifb["AG"] == pytest.approx(ag, rel=1e-12)
        assert tang["AG"] == pytest.approx(ag, rel=1e-12)
        # Square images: VIFB divides both difference sums by N^2 instead of N(N-1).
        assert vifb["SF"] == pytest.approx(default["SF"] * math.sqrt((n - 1) / n), rel=1e-12)
        # Tang's PSNR: [0, 1]-scale MSE with peak 255; the default uses max(F) on 0..255.
        shift = 20 * math.log10(255 * 255 / f.max())
        assert tang["PSNR"] == pytest.approx(default["PSNR"] + shift, rel=1e-12)
        # Tang's Nabf call puts A where the fused image belongs and F as second source.
        assert tang["Nabf"] == pytest.approx(
            score_255(a, b, f, metrics=["Nabf"], profile="default")["Nabf"], rel=1e-12)
        # VIFB's Qabf runs on 255 x the values; only the gX == gF quirk sees the scale.
        assert vifb["Qabf"] == pytest.approx(
            score_255(255 * f, 255 * a, 255 * b, metrics=["Qabf"])["Qabf"], rel=1e-12)


def test_tang_mi_is_default_mi_in_bits_below_255(triples):
    for f, a, b in triples:
        f, a, b = (np.minimum(x, 254) for x in (f, a, b))
        tang = score_255(f, a, b, metrics=["MI"], profile="tang")["MI"]
        default = score_255(f, a, b, metrics=["MI"])["MI"]
        assert tang == pytest.approx(default / math.log(2), rel=1e-12)


def test_tang_mi_merges_254_and_255():
    rng = np.random.default_rng(0)
    a = rng.integers(250, 256, (32, 32)).astype(float)
    b = rng.integers(0, 256, (32, 32)).astype(float)
    merged = score_255(a, b, a, metrics=["MI"], profile="tang")["MI"]
    assert merged == pytest.approx(score_255(np.minimum(a, 254), b, np.minimum(a, 254),
                                            metrics=["MI"], profile="tang")["MI"], rel=1e-12)


def test_inputs_are_read_as_uint8():
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 256, (48, 48)).astype(float) for _ in range(2))
    f = (a + b) / 2  # halves: uint8() rounds them away from zero
    for profile in ("vifb", "tang"):
        exact = score_255(np.floor(f + 0.5), a, b, profile=profile)
        assert score_255(f, a, b, profile=profile) == exact


def test_vifb_magnitudes_on_identical_images():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (64, 64)).astype(float)
    values = score_255(a, a, a, profile="vifb")
    assert values["SSIM"] == pytest.approx(2.0)
    assert values["RMSE"] == 0.0 and values["CE"] == 0.0 and values["Qcv"] == 0.0
    assert values["PSNR"] == math.inf
