"""CDDFuse (issue 16): files in the layout of the released ``CDDFuse_MIF.pth`` load, and
the method reproduces what the authors' ``test_MIF.py`` writes for them (the shared
``authors_format`` fixtures: a generator of objects laid out like the released file, and
the authors' outputs for the seed-0 object on six Harvard pairs)."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
import torch
from test_dmfnet import one_thread  # noqa: F401 (autouse fixture)
from test_dmfnet_authors import read_pair

from mmif_bench import create_method
from mmif_bench.methods.cddfuse import GROUPS, CDDFuseFusion, CDDFuseMIF, imageio_uint8
from mmif_bench.weights import MissingWeightsError

PAIRS = ["MRI-CT_2004", "MRI-CT_2010", "MRI-PET_25015", "MRI-PET_25022",
         "MRI-SPECT_3015", "MRI-SPECT_4010"]
FLOAT_TOLERANCE = 7e-4
"""max |ours - ref| / max |ref| (measured: 2.0e-4 to 4.7e-4). The reference carries float32
rounding of its own that no float32 port can repeat: the authors' own code rerun here
(torch 2.13, CPU) is 3.1e-4 to 6.1e-4 away from it, the network in float64 3.2e-4 to
3.8e-4 (two pairs checked); ours is within 7e-6 of float64. With ``F.normalize`` in the
attention (float32 sequential norms) ours would be 1.3e-3 away."""
PNG_DIFFERENT_AT_MOST = 0.015
"""Fraction of pixels allowed 1 grey level off, rounding-boundary flips (measured: 0.47 %
to 1.11 %; the authors' code rerun here: 0.53 % to 1.52 %)."""


def released_layout(seed: int = 0) -> dict[str, OrderedDict]:
    """A randomly initialised network saved as the authors save it (four DataParallel
    state dicts; generated here, without the fixtures)."""
    torch.manual_seed(seed)
    net = CDDFuseMIF()
    return {group: OrderedDict((f"module.{key}", value) for key, value in
                               getattr(net, attribute).state_dict().items())
            for group, attribute in GROUPS.items()}


@pytest.fixture(scope="module")
def seed0_file(authors_ckpt: ModuleType, fixtures_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cddfuse") / "CDDFuse_MIF.pth"
    torch.save(authors_ckpt.make("cddfuse", str(fixtures_dir / "cddfuse" / "keys.json"), 0), path)
    return path


@pytest.fixture(scope="module")
def fixture_run(seed0_file: Path, fixtures_dir: Path,
                harvard_root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Our float (0..255) and 8-bit outputs for the six fixture pairs, in one batch."""
    method = create_method("cddfuse", weights=str(seed0_file))
    mri, other = (np.stack(images).astype(np.float32) / 255 for images in
                  zip(*(read_pair(fixtures_dir, harvard_root, key) for key in PAIRS)))
    fused = method.fuse_batch_float(mri, other)
    return fused, np.stack([imageio_uint8(image) for image in fused])


def test_generated_file_loads_as_released(seed0_file: Path) -> None:
    checkpoint = torch.load(seed0_file, weights_only=True)
    method = create_method("cddfuse", weights=str(seed0_file))
    loaded = {f"{group}/module.{key}": value for group, attribute in GROUPS.items()
              for key, value in getattr(method.net, attribute).state_dict().items()}
    in_file = {f"{group}/{key}": value for group, state in checkpoint.items()
               for key, value in state.items()}
    assert list(checkpoint) == list(GROUPS) and len(in_file) == 158
    assert loaded.keys() == in_file.keys()
    for key, value in in_file.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_float_output_equals_the_authors(fixture_run, fixtures_dir: Path, index: int) -> None:
    ref = np.load(fixtures_dir / "cddfuse" / "npy" / f"{PAIRS[index]}.npy")
    fused = fixture_run[0][index]
    assert fused.min() == 0 and fused.max() == 255  # min-max normalised, x 255
    assert np.abs(fused - ref).max() / np.abs(ref).max() < FLOAT_TOLERANCE


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_pngs_within_one_grey_level(fixture_run, fixtures_dir: Path, index: int) -> None:
    ref = cv2.imread(str(fixtures_dir / "cddfuse" / "out" / f"{PAIRS[index]}.png"),
                     cv2.IMREAD_UNCHANGED)
    difference = np.abs(fixture_run[1][index].astype(int) - ref)
    assert difference.max() <= 1
    assert np.mean(difference > 0) < PNG_DIFFERENT_AT_MOST


def test_writer_rounds_half_up_except_exact_halves() -> None:
    levels = np.array([0.0, 0.4999, 0.5, 0.5001, 1.5, 254.5, 255.0], dtype=np.float32)
    assert imageio_uint8(levels).tolist() == [0, 0, 0, 1, 1, 254, 255]


def test_fuse_returns_the_8bit_image_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "CDDFuse_MIF.pth"
    torch.save(released_layout(), path)
    method = create_method("cddfuse", weights=str(path))
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 2, 33, 47), dtype=np.float32)
    batch = method.fuse_batch(a, b)
    assert batch.shape == a.shape and batch.dtype == np.float32
    np.testing.assert_array_equal(batch * 255, np.round(batch * 255))
    assert batch.min() == 0 and batch.max() == 1
    for index in range(2):
        np.testing.assert_array_equal(method.fuse(a[index], b[index]), batch[index])
    with pytest.raises(ValueError, match="at least 2 x 2"):
        method.fuse(a[0, :1], b[0, :1])


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["DIDF_Decoder"].pop("module.output.2.weight"),
     "DIDF_Decoder .*missing key module.output.2.weight"),
    (lambda c: c["BaseFuseLayer"].__setitem__("module.attn.qkv2.weight", torch.zeros(192, 64, 3, 3)),
     r"BaseFuseLayer .*module.attn.qkv2.weight has shape \[192, 64, 3, 3\], expected \[192, 192, 3, 3\]"),
    (lambda c: c["DIDF_Encoder"].__setitem__("module.extra.weight", torch.zeros(1)),
     "DIDF_Encoder .*unexpected key module.extra.weight"),
    (lambda c: c.pop("DetailFuseLayer"), "expected a dict with entries DIDF_Encoder"),
])
def test_a_file_that_does_not_fit_names_the_first_mismatch(tmp_path: Path, edit,
                                                           message: str) -> None:
    checkpoint = released_layout()
    edit(checkpoint)
    path = tmp_path / "bad.pth"
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=message) as error:
        create_method("cddfuse", weights=str(path))
    assert str(path) in str(error.value)


def test_missing_weights_say_where_to_get_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))  # an empty fetched store
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    assert CDDFuseFusion.missing_weights()
    with pytest.raises(MissingWeightsError) as error:
        create_method("cddfuse")
    for hint in ("Zhaozixiang1228/MMIF-CDDFuse", "models/CDDFuse_MIF.pth",
                 "mmif-bench fetch weights cddfuse", "cddfuse:weights=PATH"):
        assert hint in str(error.value)
