"""U2Fusion, EMFusion and SDNet (ported from their authors' TF1 code) as method plugins:
weights lookup, wrong files, batching, modalities, luma. That they reproduce the
authors' fused images is checked in test_reference_outputs.py."""
from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest
from test_torchnets import one_thread  # noqa: F401 (autouse fixture: one torch thread)

from mmif_bench import create_method
from mmif_bench.allocator import keep_freed_memory
from mmif_bench.registry import get
from mmif_bench.weights import MissingWeightsError

WEIGHTS = {"u2fusion": "U2Fusion/model.ckpt.index",
           "emfusion": "EMFusion-CT-MRI/3200.ckpt.index",
           "sdnet": "SDNet-Medical/Medical.model-29.index"}


@pytest.fixture(scope="module")
def methods(weights_dir: Path) -> dict:
    return {name: create_method(name, weights=str(weights_dir / file))
            for name, file in WEIGHTS.items()}


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
    assert method.modalities == ("CT", "PET") and not method.applies_to("SPECT")


def test_a_run_fuses_the_pair_types_whose_models_were_given(weights_dir, small_harvard,
                                                             tmp_path) -> None:
    from mmif_bench.runner import RunConfig, run

    ct = str(weights_dir / WEIGHTS["emfusion"])
    summary = run(RunConfig(dataset=str(small_harvard), methods=["emfusion"],
                            method_options={"emfusion": {"weights": ct, "weights_pet": ct}},
                            metrics=["EN"], out=tmp_path / "out", report=False))
    assert summary.not_applicable == {"emfusion": ["MRI-SPECT"]}
    fused = sorted(p.parent.name for p in (tmp_path / "out" / "fused" / "emfusion").rglob("*.png"))
    assert fused == ["MRI-CT", "MRI-CT", "MRI-PET", "MRI-PET"]


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


def test_forward_passes_reuse_freed_memory(methods) -> None:
    """After keep_freed_memory (glibc), a repeated forward pass does not page-fault its
    working set again (about 13,000 faults per SDNet pass without it)."""
    if not keep_freed_memory():
        pytest.skip("the C library has no mallopt (not glibc)")
    a, b = np.random.default_rng(3).random((2, 256, 256), dtype=np.float32)
    for _ in range(2):
        methods["sdnet"].fuse(a, b)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    methods["sdnet"].fuse(a, b)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 3000
