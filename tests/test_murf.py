"""MURF's F2M stage as a method plugin: its sampler, pooling and batch norm against plain
restatements of the authors' TF code, modalities, sizes, weights lookup. That it
reproduces the authors' fused images is checked in test_reference_outputs.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_torchnets import one_thread  # noqa: F401 (autouse fixture: one torch thread)

from mmif_bench import create_method
from mmif_bench.methods import murf
from mmif_bench.weights import MissingWeightsError

CHECKPOINT = "MURF-CT-MRI/0000.ckpt.index"


@pytest.fixture(scope="module")
def method(weights_dir):
    return create_method("murf", weights=str(weights_dir / CHECKPOINT))


def authors_sample(image: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """utils.grid_sample / bilinear_sampler of the authors, pixel by pixel (float64)."""
    height, width = image.shape
    out = np.zeros_like(gx)
    for i, j in np.ndindex(gx.shape):
        x, y = (gx[i, j] + 1) / 2 * (width - 1), (gy[i, j] + 1) / 2 * (height - 1)
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            continue
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        x0, x1 = min(max(x0, 0), width - 1), min(max(x0 + 1, 0), width - 1)
        y0, y1 = min(max(y0, 0), height - 1), min(max(y0 + 1, 0), height - 1)
        w = np.array([(x1 - x) * (y1 - y), (x1 - x) * (y - y0), (x - x0) * (y1 - y),
                      (x - x0) * (y - y0)]) / 0.05
        w = np.exp(w - w.max()) / np.exp(w - w.max()).sum()
        out[i, j] = w @ [image[y0, x0], image[y1, x0], image[y0, x1], image[y1, x1]]
    return out


def test_soft_sampler_is_the_authors():
    rng = np.random.default_rng(0)
    image = rng.random((9, 12), dtype=np.float32)
    offset = rng.normal(0, 0.15, (2, 9, 12)).astype(np.float32)
    gx = np.linspace(-1, 1, 12, dtype=np.float32)[None, :] + offset[0]
    gy = np.linspace(-1, 1, 9, dtype=np.float32)[:, None] + offset[1]
    sampled = murf.soft_sample(torch.from_numpy(image)[None, None], torch.from_numpy(offset)[None])
    expected = authors_sample(image.astype(np.float64), gx, gy)
    assert (expected == 0).any() and (expected != 0).any()  # some samples fall outside
    np.testing.assert_allclose(sampled[0, 0].numpy(), expected, atol=1e-4)


def test_soft_sampler_without_offset_keeps_the_image_inside():
    image = torch.rand(1, 1, 16, 24)
    sampled = murf.soft_sample(image, torch.zeros(1, 2, 16, 24))
    torch.testing.assert_close(sampled[..., :-1, :-1], image[..., :-1, :-1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [(8, 8), (6, 10), (256, 256)])
def test_max_pool_is_tf_same_padding(size):
    x = torch.rand(1, 2, *size)
    pooled = murf.max_pool_same(x)
    rows, cols = -(-size[0] // 2), -(-size[1] // 2)
    assert pooled.shape[2:] == (rows, cols)
    pad_h, pad_w = (rows - 1) * 2 + 4 - size[0], (cols - 1) * 2 + 4 - size[1]
    for i, j in [(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 2)]:
        top, left = 2 * i - pad_h // 2, 2 * j - pad_w // 2
        window = x[0, :, max(top, 0):top + 4, max(left, 0):left + 4]
        torch.testing.assert_close(pooled[0, :, i, j], window.amax(dim=(1, 2)))


def test_max_pool_refuses_odd_sizes():
    with pytest.raises(ValueError, match="even sizes only"):
        murf.max_pool_same(torch.rand(1, 2, 7, 8))


def test_batch_norm_uses_each_images_own_statistics():
    norm = murf.BatchNorm(3)
    x = torch.rand(2, 3, 5, 6) * torch.tensor([1.0, 10.0])[:, None, None, None]
    mean, var = x.mean(dim=(2, 3), keepdim=True), x.var(dim=(2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(norm(x), (x - mean) / torch.sqrt(var + 1e-3))


def test_batch_equals_single_and_the_ct_is_min_max_stretched(method):
    rng = np.random.default_rng(1)
    a = rng.random((2, 64, 48), dtype=np.float32)
    b = (np.rint(rng.random((2, 64, 48)) * 155 + 50) / 255).astype(np.float32)  # 50..205
    batch = method.fuse_batch(a, b, modality="CT")
    assert batch.shape == a.shape and batch.dtype == np.float32
    assert batch.min() == 0 and batch.max() == 1  # saved min-max stretched
    np.testing.assert_array_equal(method.fuse(a[1], b[1], modality="CT"), batch[1])
    stretched = murf.min_max_stretch(np.rint(b[0] * 255)) / np.float32(255)
    np.testing.assert_array_equal(method.fuse(a[0], stretched), batch[0])


def test_only_mri_ct_applies_and_sizes_must_be_multiples_of_8(method):
    assert method.applies_to("CT") and not method.applies_to("PET")
    assert not method.applies_to("SPECT")
    with pytest.raises(ValueError, match="murf: only its CT-MRI model.*MRI-PET pairs are not"):
        method.fuse(np.zeros((64, 64), np.float32), np.zeros((64, 64), np.float32),
                    modality="PET")
    with pytest.raises(ValueError, match="murf: H and W must be multiples of 8"):
        method.fuse(np.zeros((60, 64), np.float32), np.zeros((60, 64), np.float32))


def test_missing_weights_say_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingWeightsError) as error:
        create_method("murf")
    for part in (CHECKPOINT, "mmif-bench fetch weights murf", "murf:weights=PATH"):
        assert part in str(error.value)


def test_another_networks_checkpoint_is_refused_naming_the_file(weights_dir):
    other = weights_dir / "EMFusion-CT-MRI/3200.ckpt.index"
    with pytest.raises(ValueError, match="murf: .*3200.ckpt.index is not the published murf"):
        create_method("murf", weights=str(other))
