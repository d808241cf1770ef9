"""The TF1 checkpoint reader: a small bundle written by TensorFlow (tests/data), the
published checkpoints of U2Fusion, EMFusion and SDNet, and malformed files."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mmif_bench.methods.tf_checkpoint import CheckpointError, load_checkpoint, masked_crc32c, read_index

TINY = Path(__file__).parent / "data" / "tf_checkpoint" / "tiny.ckpt"
# what tf.compat.v1.train.Saver (TensorFlow 2.21) was given to write TINY
TINY_VALUES = {
    "scope/kernel": np.arange(72, dtype=np.float32).reshape(3, 3, 2, 4) / 8,
    "scope/bias": np.array([-1.5, 0.0, 2.25, 1e-3], dtype=np.float32),
    "step": np.array(3200, dtype=np.int64),
    "counts": np.arange(-2, 3, dtype=np.int32),
    "wide": np.linspace(0, 1, 6).reshape(2, 3),
    "half": np.array([0.5, -2.0], dtype=np.float16),
    "flags": np.array([True, False, True]),
    "pixels": np.arange(250, 256, dtype=np.uint8),
}
# published checkpoints: prefix -> (variables, values, one variable and its shape)
PUBLISHED = {
    "U2Fusion/model.ckpt": (20, 659_217, "Generator_1/decoder/conv2_1/kernel", (3, 3, 264, 128)),
    "EMFusion-CT-MRI/3200.ckpt": (69, 816_072, "fnet/fuse/conv4/kernel", (3, 3, 96, 32)),
    "SDNet-Medical/Medical.model-29": (32, 67_091, "fusion_model/layer1_ir/w1_ir", (5, 5, 1, 16)),
}


def test_reads_every_dtype_shape_and_value_tensorflow_wrote() -> None:
    tensors = load_checkpoint(TINY)
    assert tensors.keys() == TINY_VALUES.keys()
    for name, expected in TINY_VALUES.items():
        assert tensors[name].dtype == expected.dtype, name
        np.testing.assert_array_equal(tensors[name], expected, err_msg=name)


def test_prefix_and_index_file_name_the_same_checkpoint() -> None:
    by_index = load_checkpoint(TINY.with_name("tiny.ckpt.index"))
    assert all(np.array_equal(by_index[k], v) for k, v in load_checkpoint(TINY).items())


def test_masked_crc32c_matches_leveldb() -> None:
    # CRC-32C check value of "123456789" is 0xE3069283; masked as LevelDB's crc32c::Mask
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@pytest.mark.parametrize("prefix", sorted(PUBLISHED))
def test_published_checkpoints(weights_dir: Path, prefix: str) -> None:
    count, values, name, shape = PUBLISHED[prefix]
    tensors = load_checkpoint(weights_dir / prefix)
    assert len(tensors) == count
    assert sum(t.size for t in tensors.values()) == values
    assert tensors[name].shape == shape
    kinds = {str(t.dtype) for t in tensors.values()}
    assert kinds == ({"float32", "int32"} if "EMFusion" in prefix else {"float32"})
    assert all(np.isfinite(t).all() for t in tensors.values())


def _copy(tmp_path: Path) -> Path:
    for file in TINY.parent.iterdir():
        shutil.copyfile(file, tmp_path / file.name)
    return tmp_path / TINY.name


def _corrupt(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def test_missing_index_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"model\.ckpt\.index: checkpoint index not found"):
        load_checkpoint(tmp_path / "model.ckpt")


def test_missing_data_shard_names_the_file(tmp_path: Path) -> None:
    prefix = _copy(tmp_path)
    Path(f"{prefix}.data-00000-of-00001").unlink()
    with pytest.raises(CheckpointError, match=r"tiny\.ckpt\.data-00000-of-00001: data shard"):
        load_checkpoint(prefix)


def test_corrupt_tensor_bytes_fail_the_crc(tmp_path: Path) -> None:
    prefix = _copy(tmp_path)
    _corrupt(Path(f"{prefix}.data-00000-of-00001"), 10)
    with pytest.raises(CheckpointError, match=r"data-00000-of-00001: bytes of variable .* CRC"):
        load_checkpoint(prefix)


def test_truncated_shard_is_reported(tmp_path: Path) -> None:
    prefix = _copy(tmp_path)
    shard = Path(f"{prefix}.data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="too short for variable"):
        load_checkpoint(prefix)


@pytest.mark.parametrize("damage", ["block", "magic", "truncate", "not a table"])
def test_malformed_index_names_the_file(tmp_path: Path, damage: str) -> None:
    prefix = _copy(tmp_path)
    index = Path(f"{prefix}.index")
    if damage == "block":
        _corrupt(index, 5)
    elif damage == "magic":
        _corrupt(index, len(index.read_bytes()) - 1)
    elif damage == "truncate":
        index.write_bytes(index.read_bytes()[:30])
    else:
        index.write_bytes(b"PK\x03\x04 this is a zip, not a checkpoint index" * 3)
    with pytest.raises(CheckpointError, match=r"tiny\.ckpt\.index: not a readable TensorFlow"):
        read_index(prefix)
