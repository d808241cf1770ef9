"""Properties each baseline fusion method's definition implies."""
from __future__ import annotations

import numpy as np
import pytest

from mmif_bench import create_method
from mmif_bench.dataset import FolderDataset
from mmif_bench.methods.gff import gff_weights
from mmif_bench.methods.pca import pca_weights

CLASSICAL = ["mean", "max", "pca", "dwt", "laplacian", "gff"]
SHAPES = [(64, 64), (33, 47), (47, 33), (5, 7), (1, 9), (1, 1)]


def _images(shape: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth image with an edge and a noisy one, both in [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    a = (0.5 + 0.4 * np.sin(rows / 3.0) * np.cos(cols / 5.0)) * (cols < shape[1] // 2 + 1)
    b = rng.random(shape)
    return a.astype(np.float32), b.astype(np.float32)


@pytest.fixture(scope="module")
def ifcnn(weights_dir):
    return create_method("ifcnn", weights=str(weights_dir / "IFCNN-MAX.pth"))


@pytest.fixture(scope="module")
def harvard_pair(harvard_root) -> tuple[np.ndarray, np.ndarray]:
    from mmif_bench.fusion import prepare

    pairs = FolderDataset(harvard_root).list_pairs("test").pairs
    pair = next(p for p in pairs if p.pair_type == "MRI-PET")
    prepared = prepare(*(image.pixels for image in pair.load()))
    return prepared.a, prepared.b


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("shape", SHAPES)
def test_any_shape_gives_float32_in_unit_range(name, shape):
    a, b = _images(shape)
    fused = create_method(name).fuse(a, b)
    assert fused.shape == shape and fused.dtype == np.float32
    assert 0.0 <= fused.min() and fused.max() <= 1.0
    np.testing.assert_array_equal(fused, create_method(name).fuse(a, b))


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("shape", [(64, 64), (33, 47), (5, 7)])
def test_fusing_an_image_with_itself_returns_it(name, shape):
    a, _ = _images(shape)
    assert np.abs(create_method(name).fuse(a, a) - a).max() <= 1 / 255


@pytest.mark.parametrize("name", CLASSICAL)
def test_fuse_batch_matches_fuse(name):
    a, b = _images((33, 47))
    c, d = _images((33, 47), seed=1)
    method = create_method(name)
    batch = method.fuse_batch(np.stack([a, c]), np.stack([b, d]))
    np.testing.assert_allclose(batch, np.stack([method.fuse(a, b), method.fuse(c, d)]), atol=1e-6)


def test_mean_and_max_are_pixelwise():
    a, b = _images((33, 47))
    np.testing.assert_allclose(create_method("mean").fuse(a, b), (a + b) / 2, atol=1e-7)
    np.testing.assert_array_equal(create_method("max").fuse(a, b), np.maximum(a, b))
    np.testing.assert_array_equal(create_method("max").fuse(a, a), a)


def test_pca_weights_are_convex_and_favour_the_higher_variance_source():
    a, _ = _images((64, 64))
    b = 0.5 + (a - 0.5) * 0.2  # same structure, a fifth of the contrast
    w = pca_weights(a[None], b[None])[0]
    assert w.sum() == pytest.approx(1.0) and w[0] > w[1] > 0
    flat = pca_weights(np.zeros((1, 4, 4)), np.ones((1, 4, 4)))
    np.testing.assert_array_equal(flat, [[0.5, 0.5]])


def test_dwt_keeps_the_stronger_detail():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    edge = flat.copy()
    edge[:, 32:] = 0.9
    fused = create_method("dwt").fuse(flat, edge)
    assert fused[:, 40].mean() - fused[:, 24].mean() > 0.15  # the step survives, halved at most


def test_laplacian_keeps_the_stronger_detail():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    dots = flat.copy()
    dots[::8, ::8] = 1.0
    fused = create_method("laplacian").fuse(flat, dots)
    assert fused[::8, ::8].mean() > 0.9


@pytest.mark.parametrize("shape", [(64, 64), (33, 47), (1, 1)])
def test_gff_weights_sum_to_one(shape):
    a, b = _images(shape)
    base, detail = gff_weights(np.dstack([a, b, 1 - a]))
    for weights in (base, detail):
        assert weights.shape == shape + (3,)
        assert weights.min() >= 0.0
        np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-12)


def test_gff_detail_weights_follow_saliency():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    _, noisy = _images((64, 64))
    _, detail = gff_weights(np.dstack([flat, noisy]))
    assert detail[..., 1].mean() > 0.95


def test_options_are_declared_at_the_papers_defaults():
    assert create_method("gff").config == {"r1": 45, "eps1": 0.3, "r2": 7, "eps2": 1e-6}
    assert create_method("dwt").config == {"wavelet": "db2", "levels": 3, "mode": "symmetric"}
    assert create_method("laplacian", levels=2).config == {"levels": 2}


@pytest.mark.parametrize("option", [{"wavelet": "nope"}, {"mode": "nope"}])
def test_dwt_rejects_unknown_wavelet_or_mode_at_start(option):
    with pytest.raises(ValueError):
        create_method("dwt", **option)


def test_ifcnn_is_deterministic_on_a_harvard_pair(weights_dir, harvard_pair):
    a, b = harvard_pair
    first = create_method("ifcnn", weights=str(weights_dir / "IFCNN-MAX.pth")).fuse(a, b)
    second = create_method("ifcnn", weights=str(weights_dir / "IFCNN-MAX.pth")).fuse(a, b)
    np.testing.assert_array_equal(first, second)
    assert first.shape == a.shape and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0
    # 8-bit gray of the truncated 8-bit RGB output, as the authors save it
    np.testing.assert_array_equal(first * 255, np.round(first * 255))
    # the MAX rule keeps structure of both sources
    for source in (a, b):
        assert np.corrcoef(first.ravel(), source.ravel())[0, 1] > 0.5


@pytest.mark.parametrize("shape", [(33, 47), (5, 7), (1, 1)])
def test_ifcnn_any_shape_and_batch(ifcnn, shape):
    a, b = _images(shape)
    fused = ifcnn.fuse(a, b)
    assert fused.shape == shape and fused.dtype == np.float32
    assert 0.0 <= fused.min() and fused.max() <= 1.0
    batch = ifcnn.fuse_batch(np.stack([a, b]), np.stack([b, a]))
    np.testing.assert_array_equal(batch[0], fused)


def test_ifcnn_default_weights_come_from_the_environment(weights_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(weights_dir))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path))  # an empty fetched store
    method = create_method("ifcnn")
    assert method.weight_path("weights") == weights_dir / "IFCNN-MAX.pth"
    assert method.config["weights"] == ""  # results record no machine path
    assert "weights" in method.weights_hashes()  # the weights enter the cache key


@pytest.mark.parametrize("env", [None, "folder"])
def test_ifcnn_missing_weights_says_where_to_get_them(tmp_path, monkeypatch, env):
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))  # an empty fetched store
    if env:
        monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    else:
        monkeypatch.delenv("MMIF_BENCH_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError) as error:
        create_method("ifcnn")
    message = str(error.value)
    for hint in ("uzeful/IFCNN", "Code/snapshots/IFCNN-MAX.pth", "MMIF_BENCH_WEIGHTS",
                 "mmif-bench fetch weights ifcnn", "ifcnn:weights=PATH"):
        assert hint in message


def test_ifcnn_rejects_a_wrong_state_dict(tmp_path):
    import torch

    path = tmp_path / "other.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, path)
    with pytest.raises(ValueError, match="not an IFCNN state dict"):
        create_method("ifcnn", weights=str(path))
