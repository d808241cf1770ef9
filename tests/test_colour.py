"""Colour handling: the method sees Y; the fused Y is recombined with the source's Cb/Cr."""
from __future__ import annotations

import numpy as np
import pytest

from mmif_bench.colour import merge_fused, rgb_to_ycbcr, split_source, ycbcr_to_rgb
from mmif_bench.fusion import prepare
from mmif_bench.imageio import read_image
from mmif_bench.method import Method


def test_ycbcr_matches_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    ours = rgb_to_ycbcr(rgb / 255.0) * 255.0
    ycrcb = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2YCrCb) * 255.0
    np.testing.assert_allclose(ours[..., 0], ycrcb[..., 0], atol=1e-4)
    np.testing.assert_allclose(ours[..., 1], ycrcb[..., 2], atol=1e-4)  # Cb
    np.testing.assert_allclose(ours[..., 2], ycrcb[..., 1], atol=1e-4)  # Cr


def test_round_trip_is_exact() -> None:
    rgb = np.random.default_rng(1).random((8, 9, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-12)


def test_fused_y_is_used_and_chroma_kept_exactly() -> None:
    rng = np.random.default_rng(2)
    ycbcr = np.stack([rng.uniform(0.3, 0.7, (12, 12)), rng.uniform(0.45, 0.55, (12, 12)),
                      rng.uniform(0.45, 0.55, (12, 12))], axis=-1)
    pet = np.round(ycbcr_to_rgb(ycbcr) * 255).astype(np.uint8)
    y, cbcr = split_source(pet)
    fused_y = np.clip(y + 0.1, 0, 1)
    rgb = ycbcr_to_rgb(np.concatenate([fused_y[..., None].astype(np.float64), cbcr], axis=-1))
    back = rgb_to_ycbcr(rgb)
    np.testing.assert_allclose(back[..., 0], fused_y, atol=1e-6)  # Y is the fused one
    np.testing.assert_array_equal(back[..., 1:].round(12), cbcr.round(12))  # Cb/Cr untouched
    saved = merge_fused(fused_y, cbcr)  # the 8-bit file keeps them up to rounding
    np.testing.assert_allclose(rgb_to_ycbcr(saved / 255.0)[..., 1:], cbcr, atol=1.0 / 255)


def test_gray_sources_give_gray_output() -> None:
    a = np.full((5, 5), 100, np.uint8)
    prepared = prepare(a, a)
    assert prepared.cbcr is None
    assert merge_fused(prepared.a, prepared.cbcr).ndim == 2


def test_method_gets_luma_of_harvard_pet(harvard_root) -> None:
    pet = read_image(harvard_root / "MRI-PET" / "PET" / "25015.png").pixels
    mri = read_image(harvard_root / "MRI-PET" / "MRI" / "25015.png").pixels
    prepared = prepare(mri, pet)
    assert prepared.a.dtype == np.float32 and prepared.b.dtype == np.float32
    expected = (0.299 * pet[..., 0] + 0.587 * pet[..., 1] + 0.114 * pet[..., 2]) / 255.0
    np.testing.assert_allclose(prepared.b, expected, atol=1e-6)
    identity = merge_fused(prepared.b, prepared.cbcr)
    assert np.abs(identity.astype(int) - pet.astype(int)).max() <= 1


def test_a_colour_input_method_gets_the_colour_image_others_its_luma() -> None:
    class ColourMethod(Method):
        colour_input = True

    mri = np.full((4, 6), 80, np.uint8)
    pet = np.random.default_rng(0).integers(0, 256, (4, 6, 3)).astype(np.uint8)
    prepared = prepare(mri, pet, "PET")
    a, b = prepared.inputs(ColourMethod())
    np.testing.assert_array_equal(a, prepared.a)
    assert b.dtype == np.float32 and b.shape == (4, 6, 3)
    np.testing.assert_array_equal(np.rint(b * 255), pet)
    assert prepared.inputs(Method())[1] is prepared.b  # the luma for everyone else
    gray = prepare(mri, mri, "CT")
    assert gray.inputs(ColourMethod())[1] is gray.b  # a gray image is its own luma
