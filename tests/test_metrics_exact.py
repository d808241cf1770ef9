"""Exactness of the default-profile metrics against the plain references, hand cases."""
from __future__ import annotations

import numpy as np
import pytest
from metrics_reference import FUSIONS, REFERENCES, harvard_triples

from mmif_bench.evaluation import score_255, score_255_batch
from mmif_bench.registry import get_metric, list_metrics

DEFAULT = ["EN", "SD", "SF", "AG", "MI", "SCD", "CC", "PSNR", "VIF", "Qabf", "SSIM", "Nabf",
           "MS_SSIM"]


def test_default_profile_registers_all_metrics_with_metadata() -> None:
    assert sorted(list_metrics("default")) == sorted(DEFAULT)
    for name in DEFAULT:
        metric = get_metric(name)
        assert metric.name == name and metric.reference and metric.description
        assert metric.higher_is_better == (name != "Nabf")
        assert metric.needs_sources == (name not in {"EN", "SD", "SF", "AG"})
    assert get_metric("MI").unit == "nats"


@pytest.mark.parametrize("fusion", sorted(FUSIONS))
def test_batched_suite_equals_plain_reference_on_harvard(harvard_root, fusion: str) -> None:
    """One pair each of MRI-CT, MRI-PET, MRI-SPECT; integer and non-integer fused images."""
    F, A, B = harvard_triples(harvard_root, 1, fusion)
    ours = score_255_batch(F, A, B)
    for i in range(len(F)):
        for name, reference in REFERENCES.items():
            expected = reference(F[i], A[i], B[i])
            assert ours[name][i] == pytest.approx(expected, rel=1e-6, abs=1e-12), (name, i)


def _image(seed: int, shape: tuple[int, int] = (64, 64)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.float64)


def test_uniform_histogram_has_entropy_8() -> None:
    image = np.arange(256 * 16, dtype=np.float64).reshape(64, 64) % 256
    assert score_255(image, image, image, metrics=["EN"])["EN"] == pytest.approx(8.0, rel=1e-12)


def test_identical_images_give_the_best_structural_scores() -> None:
    image = _image(1)
    values = score_255(image, image, image, metrics=["SSIM", "CC", "PSNR", "Nabf", "VIF"])
    assert values["SSIM"] == pytest.approx(2.0, rel=1e-12)
    assert values["CC"] == pytest.approx(1.0, rel=1e-12)
    assert values["PSNR"] == np.inf
    assert values["Nabf"] == 0.0
    assert values["VIF"] == pytest.approx(2.0, rel=1e-9)  # g = s12 / (s1 + 1e-10)
    big = _image(2, (176, 176))
    assert score_255(big, big, big, metrics=["MS_SSIM"])["MS_SSIM"] == pytest.approx(2.0, rel=1e-12)


def test_mutual_information_of_independent_images_is_near_zero_and_of_copies_is_entropy() -> None:
    rng = np.random.default_rng(3)
    F = rng.integers(0, 4, (512, 512)).astype(np.float64)
    A = rng.integers(0, 4, (512, 512)).astype(np.float64)
    assert score_255(F, A, A, metrics=["MI"])["MI"] == pytest.approx(0.0, abs=1e-4)
    counts = np.bincount(F.astype(int).ravel()) / F.size
    entropy_nats = -np.sum(counts * np.log(counts))
    assert score_255(F, F, F, metrics=["MI"])["MI"] == pytest.approx(2 * entropy_nats, rel=1e-12)


def test_hand_computed_pixel_statistics() -> None:
    F = np.array([[0.0, 2.0], [4.0, 6.0]])
    A = np.zeros((2, 2))
    B = np.full((2, 2), 6.0)
    values = score_255(F, A, B, metrics=["SD", "SF", "AG", "PSNR"])
    assert values["SD"] == pytest.approx(np.sqrt(5.0))
    assert values["SF"] == pytest.approx(np.sqrt(4.0 + 16.0))        # row diffs 2, column diffs 4
    assert values["AG"] == pytest.approx(np.sqrt((4.0 + 16.0) / 2))  # one-sided on 2x2
    mse = (np.mean(F ** 2) + np.mean((F - 6.0) ** 2)) / 2
    assert values["PSNR"] == pytest.approx(10 * np.log10(36.0 / mse))


def test_scd_and_cc_of_mean_fusion() -> None:
    A, B = _image(4), _image(5)
    F = (A + B) / 2
    values = score_255(F, A, B, metrics=["SCD", "CC"])
    va, vb, cab = A.var(), B.var(), np.mean((A - A.mean()) * (B - B.mean()))
    # F - B = (A - B) / 2 and F - A = (B - A) / 2; F = (A + B) / 2
    spread = np.sqrt(va + vb - 2 * cab)
    scd = (va - cab) / (np.sqrt(va) * spread) + (vb - cab) / (np.sqrt(vb) * spread)
    total = np.sqrt(va + vb + 2 * cab)
    cc = ((va + cab) / (np.sqrt(va) * total) + (vb + cab) / (np.sqrt(vb) * total)) / 2
    assert values["SCD"] == pytest.approx(scd, rel=1e-9)
    assert values["CC"] == pytest.approx(cc, rel=1e-9)


def test_qabf_keeps_the_reference_ratio_quirk() -> None:
    """Where gA == gF (> 0), G = gF (not 1): identical images score Q = Tg Ta-ish < 1."""
    image = _image(6)
    value = score_255(image, image, image, metrics=["Qabf"])["Qabf"]
    assert value == pytest.approx(0.9994 * 0.9879 / (1 + np.exp(-22 * 0.2)), rel=1e-3)


def test_nabf_counts_only_edges_stronger_than_in_both_sources() -> None:
    A = np.zeros((32, 32))
    B = np.zeros((32, 32))
    F = np.zeros((32, 32))
    F[:, 16:] = 200.0  # an edge in F (2 of 32 columns) that neither source has
    # flat sources: every weight is 0.001, Q_XF ~ 0 on the edge -> Nabf ~ 2 / 32
    assert score_255(F, A, B, metrics=["Nabf"])["Nabf"] == pytest.approx(2 / 32, rel=1e-3)
    assert score_255(A, F, F, metrics=["Nabf"])["Nabf"] == 0.0
