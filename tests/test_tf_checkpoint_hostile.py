"""The TF1 checkpoint reader on hostile indexes built here (issue 26): a 1 MB varint, an
index larger than any checkpoint's, protobuf fields of the wrong wire type, an entry
pointing at a shard that does not exist. Each is a CheckpointError naming the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmif_bench.methods.tf_checkpoint import (
    MAX_INDEX_BYTES,
    TABLE_MAGIC,
    CheckpointError,
    load_checkpoint,
    masked_crc32c,
    read_index,
)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + (0).to_bytes(4, "little") + (1).to_bytes(4, "little")  # one restart at 0


def _with_trailer(block: bytes) -> bytes:
    return block + b"\x00" + masked_crc32c(block + b"\x00").to_bytes(4, "little")


def _table(entries: list[tuple[bytes, bytes]] | None = None, raw_index: bytes | None = None) -> bytes:
    """An SSTable of one data block holding ``entries`` (or ``raw_index`` as the index block)."""
    data = _with_trailer(_block(entries or []))
    if raw_index is None:
        handle = _varint(0) + _varint(len(data) - 5)
        raw_index = _block([(entries[-1][0] if entries else b"", handle)])
    offset = len(data)
    table = data + _with_trailer(raw_index)
    footer = (_varint(0) + _varint(0) + _varint(offset) + _varint(len(raw_index))).ljust(40, b"\0")
    return table + footer + TABLE_MAGIC.to_bytes(8, "little")


HEADER = (b"", b"\x08\x01")  # BundleHeaderProto: one shard


def _write(tmp_path: Path, table: bytes) -> Path:
    path = tmp_path / "model.ckpt.index"
    path.write_bytes(table)
    return path


@pytest.mark.timeout(60)
def test_a_megabyte_varint_is_refused_at_ten_bytes(tmp_path) -> None:
    index = _write(tmp_path, _table(raw_index=b"\x80" * (1 << 20) + bytes(4)))
    with pytest.raises(CheckpointError, match=r"model\.ckpt\.index: .*varint longer than 10"):
        read_index(index)


def test_an_index_above_the_limit_is_refused_unread(tmp_path) -> None:
    index = tmp_path / "big.ckpt.index"
    with open(index, "wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_INDEX_BYTES + 1)
    with pytest.raises(CheckpointError, match="refused unread"):
        read_index(index)


@pytest.mark.parametrize("entry", [
    b"\x08\x01\x10\x05",          # shape (field 2) as a varint
    b"\x08\x01\x12\x02\x10\x05",  # a dimension (field 2 of the shape) as a varint
    b"\x0a\x01\x01",              # dtype (field 1) as bytes
    b"\x08\x01\x1a\x01\x00",      # shard (field 3) as bytes
    b"\x08\x01\x2b",              # wire type 3 (groups)
], ids=["shape-varint", "dim-varint", "dtype-bytes", "shard-bytes", "group"])
def test_fields_of_the_wrong_wire_type_are_named_errors(tmp_path, entry) -> None:
    index = _write(tmp_path, _table([HEADER, (b"w", entry)]))
    with pytest.raises(CheckpointError, match=r"model\.ckpt\.index: not a readable"):
        read_index(index)


@pytest.mark.parametrize("header", [b"\x12\x00", b"\x08\x00", b"\x0a\x01\x01"],
                         ids=["no-shards-field", "zero-shards", "shards-bytes"])
def test_header_fields_are_checked(tmp_path, header) -> None:
    index = _write(tmp_path, _table([(b"", header)]))
    try:
        read_index(index)
    except CheckpointError as error:
        assert "model.ckpt.index" in str(error)
    else:
        assert header == b"\x12\x00"  # an absent field means one shard


def test_an_entry_in_a_shard_beyond_the_header_is_refused(tmp_path) -> None:
    entry = b"\x08\x01\x12\x04\x12\x02\x08\x01\x18\x07\x28\x04"  # float32 [1], shard 7, 4 bytes
    _write(tmp_path, _table([HEADER, (b"w", entry)]))
    (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(bytes(4))
    with pytest.raises(CheckpointError, match="shard 7 of 1"):
        load_checkpoint(tmp_path / "model.ckpt")
