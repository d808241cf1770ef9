"""U2Fusion, EMFusion and SDNet (ported from their authors' TF1 code): they reproduce
the fused images the authors' scripts write (../shared/weights/reference_outputs), and
behave as method plugins (weights lookup, wrong files, batching, modalities)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mmif_bench import create_method
from mmif_bench.dataset import FolderDataset
from mmif_bench.fusion import prepare
from mmif_bench.imageio import read_image
from mmif_bench.registry import get
from mmif_bench.weights import MissingWeightsError

WEIGHTS = {"u2fusion": "U2Fusion/model.ckpt.index",
           "emfusion": "EMFusion-CT-MRI/3200.ckpt.index",
           "sdnet": "SDNet-Medical/Medical.model-29.index"}
# tolerance of the issue: at most 0.1 % of pixels more than 2 grey levels off, mean <= 0.5
MAX_SHARE_OVER_2 = 0.001
MAX_MEAN_DIFF = 0.5


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def methods(weights_dir: Path) -> dict:
    return {name: create_method(name, weights=str(weights_dir / file))
            for name, file in WEIGHTS.items()}


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_reproduces_the_authors_outputs(methods, weights_dir, harvard_root, name) -> None:
    references = sorted((weights_dir / "reference_outputs" / name).glob("*.png"))
    if not references:
        pytest.skip(f"no reference outputs for {name} under {weights_dir}")
    pairs = {f"{p.pair_type}_{p.name}": p for p in FolderDataset(harvard_root).list_pairs("test").pairs}
    for reference in references:
        pair = pairs[reference.stem]
        prepared = prepare(*(image.pixels for image in pair.load()), pair.modalities[1])
        fused = methods[name].fuse(prepared.a, prepared.b, modality=prepared.modality)
        ours = np.round(fused * 255).astype(int)
        diff = np.abs(ours - read_image(reference).pixels.astype(int))
        assert (diff > 2).mean() <= MAX_SHARE_OVER_2, reference.name
        assert diff.mean() <= MAX_MEAN_DIFF, reference.name


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_fuse_batch_equals_fuse_on_odd_sizes(methods, name) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random((2, 2, 19, 30), dtype=np.float32)
    batch = methods[name].fuse_batch(a, b, modality="CT")
    assert batch.shape == (2, 19, 30) and batch.dtype == np.float32
    for k in range(2):
        np.testing.assert_allclose(batch[k], methods[name].fuse(a[k], b[k], modality="CT"),
                                   atol=1 / 255 + 1e-6)
    assert 0 <= batch.min() and batch.max() == 1  # all three save with their maximum at 255


def test_sdnet_reads_pet_and_spect_luma_in_studio_range(methods) -> None:
    y = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    mri = np.full((8, 8), 0.5, dtype=np.float32)
    studio = methods["sdnet"].fuse(mri, y, modality="PET")
    assert not np.array_equal(studio, methods["sdnet"].fuse(mri, y, modality="CT"))
    np.testing.assert_array_equal(studio, methods["sdnet"].fuse(mri, y, modality="SPECT"))


def test_emfusion_has_only_its_ct_model(methods) -> None:
    emfusion = methods["emfusion"]
    assert emfusion.modalities == ("CT",)
    assert emfusion.applies_to("CT") and not emfusion.applies_to("PET")
    a = np.zeros((8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="no PET-MRI model loaded.*emfusion:weights_pet=PATH"):
        emfusion.fuse(a, a, modality="PET")


def test_emfusion_loads_a_pet_model_given_as_an_option(weights_dir) -> None:
    # the CT-MRI checkpoint stands in for the PET-MRI one (same variables)
    ct = str(weights_dir / WEIGHTS["emfusion"])
    method = create_method("emfusion", weights=ct, weights_pet=ct)
    a, b = np.random.default_rng(2).random((2, 16, 16), dtype=np.float32)
    np.testing.assert_array_equal(method.fuse(a, b, modality="PET"),
                                  method.fuse(a, b, modality="CT"))


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_default_weights_come_from_the_environment(weights_dir, monkeypatch, name) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(weights_dir))
    method = create_method(name)
    assert "weights" in method.weights_hashes()
    assert str(weights_dir) not in str(method.resolved_options())


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_missing_weights_say_where_to_get_them(tmp_path, monkeypatch, name) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingWeightsError) as error:
        create_method(name)
    for part in (WEIGHTS[name], f"mmif-bench fetch weights {name}", f"{name}:weights=PATH"):
        assert part in str(error.value)


@pytest.mark.parametrize("name, other", [("u2fusion", "sdnet"), ("sdnet", "emfusion"),
                                         ("emfusion", "u2fusion")])
def test_another_networks_checkpoint_is_refused_naming_the_file(weights_dir, name, other) -> None:
    with pytest.raises(ValueError, match=f"{name}: .*{Path(WEIGHTS[other]).name} is not the "
                                         f"published {name} checkpoint"):
        create_method(name, weights=str(weights_dir / WEIGHTS[other]))


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_bibtex_and_device_option(name) -> None:
    method_class = get("methods", name)
    assert method_class.bibtex.startswith("@article{") and "year" in method_class.bibtex
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, auto"):
        method_class(device="tpu")
