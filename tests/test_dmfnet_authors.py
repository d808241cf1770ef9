"""DM-FNet (issue 14): files in the authors' released formats load through ``unet=`` and
``head=`` and reproduce what the authors' own inference writes (the shared
``authors_format`` fixtures: a generator of checkpoint objects laid out exactly like
``I630000_E14000_gen.pth`` and ``MIF.pth``, scaled to width 32, and the authors' outputs
for the seed-0 objects on six Harvard pairs with the feature noise term off)."""
from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
import torch
from test_dmfnet import one_thread  # noqa: F401 (autouse fixture)

from mmif_bench.evaluation import as_uint8_image
from mmif_bench.methods.dmfnet.checkpoints import build_head, read_authors_unet, read_state
from mmif_bench.methods.dmfnet.features import extract_features
from mmif_bench.methods.dmfnet.plugin import DMFNetFusion

# Of the six fixture pairs, one pair per modality (each 256x256 pair costs seconds).
FLOAT_PAIRS = ["MRI-PET_25015"]
PNG_PAIRS = ["MRI-CT_2004", "MRI-SPECT_4010"]
FLOAT_TOLERANCE = 2e-5
"""max |ours - ref| / max |ref|. The reference is float32 arithmetic too: recomputed in
float64, the same network is 1.06e-5 away from it (ours in float32: 1.3e-5)."""


def write_files(authors_ckpt: ModuleType, fixtures: Path, folder: Path,
                seed: int) -> dict[str, Path]:
    """The Stage I and head files of ``seed`` as the authors save them."""
    keys = fixtures / "dmfnet" / "keys.json"
    paths = {"unet": folder / "I630000_E14000_gen.pth", "head": folder / "MIF.pth"}
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(authors_ckpt.make("dmfnet_unet", str(keys), seed), paths["unet"])
    torch.save(authors_ckpt.make("dmfnet_head", str(keys), seed), paths["head"])
    return paths


@pytest.fixture(scope="module")
def seed0_files(authors_ckpt: ModuleType, fixtures_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_files(authors_ckpt, fixtures_dir, tmp_path_factory.mktemp("seed0"), 0)


def read_pair(fixtures: Path, harvard: Path, key: str) -> tuple[np.ndarray, np.ndarray]:
    """The authors' 8-bit inputs of a fixture pair: MRI and CT, or the PET/SPECT Y."""
    pair, name = key.split("_")
    second = pair.split("-")[1]
    mri = cv2.imread(str(harvard / pair / "MRI" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    other = (harvard / pair / "CT" / f"{name}.png" if second == "CT"
             else fixtures / "inputs" / f"{key}_{second}_Y.png")
    return mri, cv2.imread(str(other), cv2.IMREAD_GRAYSCALE)


def test_features_and_head_reproduce_the_float_outputs(
        seed0_files: dict[str, Path], fixtures_dir: Path, harvard_root: Path) -> None:
    unet = read_authors_unet(seed0_files["unet"]).eval()
    head, steps = build_head(read_state(seed0_files["head"]), "MIF.pth")
    assert unet.config.width == 32 and unet.config.res_blocks == 2 and steps == 3
    gammas = json.loads((fixtures_dir / "dmfnet" / "gammas.json").read_text())
    gammas = torch.tensor(gammas["gamma_float32"], dtype=torch.float32).reshape(3, 2, 1)
    for key in FLOAT_PAIRS:
        mri, other = read_pair(fixtures_dir, harvard_root, key)
        a, b = (torch.from_numpy(x.astype(np.float32) / 255 * 2 - 1)[None, None]
                for x in (mri, other))
        with torch.no_grad():
            fused = head.eval()(*extract_features(unet, a, b, gammas, None))[0, 0].numpy()
        ref = np.load(fixtures_dir / "dmfnet" / "npy" / f"{key}.npy")
        assert np.abs(fused - ref).max() / np.abs(ref).max() < FLOAT_TOLERANCE, key


def test_plugin_with_authors_files_matches_their_pngs(
        seed0_files: dict[str, Path], fixtures_dir: Path, harvard_root: Path) -> None:
    method = DMFNetFusion(unet=str(seed0_files["unet"]), head=str(seed0_files["head"]),
                          noise=False)
    inputs = [read_pair(fixtures_dir, harvard_root, key) for key in PNG_PAIRS]
    a, b = (np.stack([pair[i] for pair in inputs]).astype(np.float32) / 255 for i in (0, 1))
    fused = method.fuse_batch(a, b)
    for key, image in zip(PNG_PAIRS, fused):
        ours = as_uint8_image(image, "dmfnet").astype(int)
        ref = cv2.imread(str(fixtures_dir / "dmfnet" / "out" / f"{key}.png"),
                         cv2.IMREAD_GRAYSCALE).astype(int)
        diff = np.abs(ours - ref)
        assert (diff > 2).mean() <= 1e-3 and diff.mean() <= 0.5, key
    assert set(method.weights_hashes()) == {"unet", "head"}


def test_files_of_another_seed_load_and_differ(
        authors_ckpt: ModuleType, fixtures_dir: Path, seed0_files: dict[str, Path],
        tmp_path: Path) -> None:
    other = write_files(authors_ckpt, fixtures_dir, tmp_path, 3)
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 32, 48), dtype=np.float32)
    first = DMFNetFusion(unet=str(seed0_files["unet"]), head=str(seed0_files["head"])).fuse(a, b)
    second = DMFNetFusion(unet=str(other["unet"]), head=str(other["head"])).fuse(a, b)
    assert first.shape == second.shape == (32, 48) and not np.allclose(first, second)


def test_a_file_that_does_not_fit_names_its_first_bad_key(
        authors_ckpt: ModuleType, fixtures_dir: Path, seed0_files: dict[str, Path],
        tmp_path: Path) -> None:
    state = read_state(seed0_files["head"])
    key = "decoder.3.att.pa.pa2.weight"
    state[key] = state[key][:, :1]
    torch.save(state, tmp_path / "MIF.pth")
    with pytest.raises(ValueError, match=rf"MIF.pth: key '{key}' has shape"):
        DMFNetFusion(unet=str(seed0_files["unet"]), head=str(tmp_path / "MIF.pth"))
    unet = read_state(seed0_files["unet"])
    del unet["denoise_fn.mid.0.attn.qkv.weight"]
    torch.save(unet, tmp_path / "gen.pth")
    with pytest.raises(ValueError, match="key 'mid.0.attn.qkv.weight' is missing"):
        read_authors_unet(tmp_path / "gen.pth")


def test_weights_authors_names_the_fetch_command(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    missing = DMFNetFusion.missing_weights(weights="authors")
    assert len(missing) == 2 and all("fetch weights dmfnet" in m for m in missing)
    assert DMFNetFusion.missing_weights() == []
    with pytest.raises(FileNotFoundError, match="DM-FNet/I630000_E14000_gen.pth"):
        DMFNetFusion(weights="authors")


def test_weights_authors_uses_the_store_files(
        seed0_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "DM-FNet"
    store.mkdir()
    for key, name in (("unet", "I630000_E14000_gen.pth"), ("head", "MIF.pth")):
        (store / name).write_bytes(seed0_files[key].read_bytes())
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    method = DMFNetFusion(weights="authors")
    assert method.missing_weights(weights="authors") == []
    assert method.unet.config.width == 32 and method.timesteps == (5, 10, 20)
    assert set(method.weights_hashes()) == {"unet", "head"}


def test_files_in_the_authors_format_that_are_not_their_release_say_so(
        seed0_files: dict[str, Path]) -> None:
    """Files laid out like the authors' but not the released ones (git blob ids differ) are
    a user's model; the row must not claim to be the authors'."""
    source = DMFNetFusion(unet=str(seed0_files["unet"]), head=str(seed0_files["head"]),
                          groups=8).provenance()
    assert source["kind"] == "user weights"
    assert "authors' weights" not in source["label"]
    assert seed0_files["unet"].name in source["label"]
