"""SwinFusion with checkpoints in the authors' released format: they load as released, and
the forward pass and 8-bit conversion equal what the authors' own inference wrote for them
(``../shared/fixtures/authors_format``: generator and reference outputs; skipped without)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmif_bench.methods import swinfusion
from mmif_bench.methods.swinfusion import SwinFusion, first_mismatch, fuse_float, to_8bit
from mmif_bench.registry import create_method, missing_weights
from mmif_bench.weights import MissingWeightsError

# the fixtures' six Harvard pairs: (pair folder, image name)
PAIRS = [("MRI-CT", "2004"), ("MRI-CT", "2010"), ("MRI-PET", "25015"), ("MRI-PET", "25022"),
         ("MRI-SPECT", "3015"), ("MRI-SPECT", "4010")]
KEYS = {"weights_ct": "keys_CT-MRI.json", "weights_pet": "keys_PET-MRI.json"}


@pytest.fixture(scope="session")
def generated_weights(authors_ckpt, fixtures_dir, tmp_path_factory) -> dict[str, str]:
    """Both 10000_E.pth files as the generator writes them (seed 0, the reference seed)."""
    paths = {}
    for option, keys in KEYS.items():
        path = tmp_path_factory.mktemp(option) / "10000_E.pth"
        torch.save(authors_ckpt.make("swinfusion", fixtures_dir / "swinfusion" / keys, 0), path)
        paths[option] = str(path)
    return paths


@pytest.fixture(scope="session")
def method(generated_weights):
    return create_method("swinfusion", device="cpu", **generated_weights)


def read_gray(path: Path) -> np.ndarray:
    """An 8-bit image as the authors' script reads it (cv2 grayscale), scaled to [0, 1]."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, f"cannot read {path}"
    return (image / 255.0).astype(np.float32)


@pytest.fixture(scope="session")
def fused_pairs(method, harvard_root, fixtures_dir) -> dict[tuple[str, str], np.ndarray]:
    """Our unclamped float output for each fixture pair (its modality's model)."""
    out = {}
    for pair, name in PAIRS:
        modality = pair.split("-")[1]
        a = read_gray(harvard_root / pair / "MRI" / f"{name}.png")
        b = read_gray(harvard_root / pair / "CT" / f"{name}.png" if modality == "CT"
                      else fixtures_dir / "inputs" / f"{pair}_{name}_{modality}_Y.png")
        tensors = [torch.from_numpy(x)[None, None] for x in (a, b)]
        out[pair, name] = fuse_float(method.model_for(modality), *tensors)[0, 0].numpy()
    return out


@pytest.mark.parametrize("pair, name", PAIRS)
def test_float_output_equals_the_authors(fused_pairs, fixtures_dir, pair, name) -> None:
    reference = np.load(fixtures_dir / "swinfusion" / "npy" / f"{pair}_{name}.npy")
    ours = fused_pairs[pair, name]
    assert ours.shape == reference.shape == (256, 256)
    assert np.abs(ours - reference).max() <= 1e-5 * np.abs(reference).max()


@pytest.mark.parametrize("pair, name", PAIRS)
def test_png_within_one_grey_level_of_the_authors(fused_pairs, fixtures_dir, pair, name) -> None:
    reference = cv2.imread(str(fixtures_dir / "swinfusion" / "out" / f"{pair}_{name}.png"),
                           cv2.IMREAD_UNCHANGED).astype(int)
    ours = to_8bit(torch.from_numpy(fused_pairs[pair, name])).numpy().astype(int)
    difference = np.abs(ours - reference)
    assert difference.max() <= 1 and np.mean(difference > 0) < 1e-3


def small_pair(shape: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two random 8-bit images / 255 (what the method reads)."""
    rng = np.random.default_rng(seed)
    return tuple(np.float32(rng.integers(0, 256, shape) / 255.0) for _ in range(2))


@pytest.mark.parametrize("modality, option", [("CT", "weights_ct"), ("PET", "weights_pet"),
                                              ("SPECT", "weights_pet"), (None, "weights_ct")])
def test_fuse_uses_the_modalitys_model_and_the_authors_8bit_output(method, modality, option):
    a, b = small_pair((21, 30))  # mirror-padded to 24 x 32
    fused = method.fuse(a, b, modality=modality)
    tensors = [torch.from_numpy(x)[None, None] for x in (a, b)]
    expected = to_8bit(fuse_float(method.models[option], *tensors))[0, 0].numpy() / 255.0
    assert fused.dtype == np.float32 and fused.shape == a.shape
    np.testing.assert_array_equal(fused, expected.astype(np.float32))


def test_a_batch_equals_its_pairs_one_by_one(method) -> None:
    pairs = [small_pair((16, 40), seed) for seed in (1, 2)]
    a, b = (torch.from_numpy(np.stack(side))[:, None] for side in zip(*pairs))
    model = method.model_for("PET")
    batch = fuse_float(model, a, b)
    for i in range(2):
        single = fuse_float(model, a[i:i + 1], b[i:i + 1])
        torch.testing.assert_close(batch[i:i + 1], single, rtol=0, atol=1e-5)  # float rounding


def explicit_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       bias: torch.Tensor) -> torch.Tensor:
    """The authors' attention: (q d^-1/2) k^T + bias, softmax, times v."""
    return ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1) + bias).softmax(-1) @ v


def test_fused_attention_equals_the_authors_explicit_attention(method, monkeypatch) -> None:
    a, b = (torch.from_numpy(x)[None, None] for x in small_pair((40, 40), seed=3))
    fused = fuse_float(method.model_for("CT"), a, b)
    monkeypatch.setattr(swinfusion, "attention", explicit_attention)
    explicit = fuse_float(method.model_for("CT"), a, b)
    assert (fused - explicit).abs().max() <= 1e-5 * explicit.abs().max()


def test_a_file_that_does_not_fit_names_the_first_mismatching_key(authors_ckpt, fixtures_dir,
                                                                  tmp_path) -> None:
    state = authors_ckpt.make("swinfusion", fixtures_dir / "swinfusion" / KEYS["weights_ct"], 0)
    model = SwinFusion()
    assert first_mismatch(state, model) is None
    mask_key = "layers_Ex_A.0.residual_group.blocks.1.attn_mask"
    index_key = "layers_Re.0.residual_group.blocks.2.attn.relative_position_index"
    for key, change, message in [
        (mask_key, lambda t: t.flip(0), f"key {mask_key!r} differs from the recomputed buffer"),
        (index_key, lambda t: t.T, f"key {index_key!r} differs from the recomputed buffer"),
        ("norm_Re.bias", lambda t: t[:30], "key 'norm_Re.bias' is torch.float32 [30], "
                                          "expected torch.float32 [60]"),
    ]:
        changed = {**state, key: change(state[key])}
        assert first_mismatch(changed, model) == message
    prefixed = {f"module.{key}": value for key, value in state.items()}
    assert first_mismatch(prefixed, model) == "unexpected key 'module.conv_first1_A.weight'"
    assert first_mismatch({k: v for k, v in state.items() if k != "conv_last3.bias"},
                          model) == "missing key 'conv_last3.bias'"

    wrong = tmp_path / "10000_E.pth"
    torch.save({"conv_first1_A.weight": torch.zeros(30, 3, 3, 3)}, wrong)
    with pytest.raises(ValueError, match=r"10000_E\.pth: not the authors' SwinFusion medical "
                                         r"model .*'conv_first1_A\.weight' is torch\.float32 "
                                         r"\[30, 3, 3, 3\], expected torch\.float32 \[30, 1, 3, 3\]"):
        create_method("swinfusion", weights_ct=str(wrong), weights_pet=str(wrong))
    wrong.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"10000_E\.pth: not a readable torch file .*"
                                         "mmif-bench fetch weights swinfusion"):
        create_method("swinfusion", weights_ct=str(wrong), weights_pet=str(wrong))


def test_both_files_are_needed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    ct, pet = missing_weights("swinfusion")  # one line per file, naming it and its option
    assert "SwinFusion-CT-MRI/10000_E.pth" in ct and "-o swinfusion:weights_ct=PATH" in ct
    assert "SwinFusion-PET-MRI/10000_E.pth" in pet and "-o swinfusion:weights_pet=PATH" in pet
    ct_only = tmp_path / "10000_E.pth"
    ct_only.write_bytes(b"")  # only looked for: the PET-MRI file is found missing first
    [missing] = missing_weights("swinfusion", weights_ct=str(ct_only))
    assert "SwinFusion-PET-MRI/10000_E.pth" in missing
    with pytest.raises(MissingWeightsError, match=r"SwinFusion-PET-MRI/10000_E\.pth.*"
                                                  "mmif-bench fetch weights swinfusion"):
        create_method("swinfusion", weights_ct=str(ct_only))


def test_an_unknown_device_is_refused_before_any_file_is_read() -> None:
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, auto, got 'tpu'"):
        create_method("swinfusion", device="tpu")


def test_bad_inputs_get_clear_errors(method) -> None:
    with pytest.raises(ValueError, match="at least 4 x 4 pixels, got 3 x 9"):
        method.fuse(*small_pair((3, 9)), modality="CT")
    with pytest.raises(ValueError, match="not for modality 'US'"):
        method.fuse(*small_pair((8, 8)), modality="US")


@pytest.fixture(scope="session")
def harvard_ct_pair(harvard_root) -> tuple[np.ndarray, np.ndarray]:
    pair, name = PAIRS[0]
    return (read_gray(harvard_root / pair / "MRI" / f"{name}.png"),
            read_gray(harvard_root / pair / "CT" / f"{name}.png"))


@pytest.mark.benchmark(group="swinfusion-256")
def test_speed_fused_attention(benchmark, method, harvard_ct_pair) -> None:
    """One 256 x 256 pair, attention in torch's fused kernel (what the method runs)."""
    fused = benchmark.pedantic(method.fuse, harvard_ct_pair, {"modality": "CT"}, rounds=1)
    assert fused.shape == (256, 256)


@pytest.mark.benchmark(group="swinfusion-256")
def test_speed_explicit_attention(benchmark, method, harvard_ct_pair, monkeypatch) -> None:
    """The same pair with the authors' explicit attention, for comparison."""
    monkeypatch.setattr(swinfusion, "attention", explicit_attention)
    fused = benchmark.pedantic(method.fuse, harvard_ct_pair, {"modality": "CT"}, rounds=1)
    assert fused.shape == (256, 256)
