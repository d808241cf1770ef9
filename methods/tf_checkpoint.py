"""Read TensorFlow 1 checkpoints ("V2" tensor bundles) without TensorFlow.

A bundle ``PREFIX`` is the file ``PREFIX.index`` plus the shards
``PREFIX.data-0000k-of-0000N``. The index is a LevelDB-format sorted table (SSTable):
data blocks of prefix-compressed key/value entries, an index block pointing to them and
a 48-byte footer ending in a magic number; every block carries a masked CRC-32C. Its
keys are the variable names; the empty key holds a ``BundleHeaderProto`` (number of
shards, endianness, format version) and every other value is a ``BundleEntryProto``
(dtype, shape, shard, byte offset and size in that shard, masked CRC-32C of the bytes).
The shards hold the raw tensor bytes. Every block and every tensor is checked against
its CRC; anything malformed raises :class:`CheckpointError` naming the file. Inputs are
bounded: a varint has at most 10 bytes, an index at most :data:`MAX_INDEX_BYTES`, and a
tensor is read from its shard by its offset and size (never the whole shard at once).

References
----------
TensorFlow, ``tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc}`` and
``tensor_bundle.proto``; ``tensorflow/core/lib/io/format.{h,cc}`` and
``block.cc`` (the table format, from LevelDB: ``doc/table_format.md``);
``tensorflow/core/lib/hash/crc32c.h`` (the CRC mask).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from pathlib import Path

import google_crc32c
import numpy as np

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48  # two block handles padded to 40 bytes, then the 8-byte magic
BLOCK_TRAILER_BYTES = 5  # compression type (1 byte) + masked CRC-32C (4 bytes)
CRC_MASK_DELTA = 0xA282EAD8
BUNDLE_VERSION = 1  # tensor_bundle.h: kTensorBundleVersion
MAX_VARINT_BYTES = 10  # a 64-bit value in base 128
MAX_INDEX_BYTES = 64 << 20
"""An index holds one short entry per variable (U2Fusion's: 1.4 KB for 20 variables), so
64 MiB is room for about a million variables; a larger file is refused unread."""

# tensorflow/core/framework/types.proto: DataType -> numpy dtype (little-endian)
DTYPES = {
    1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?",
    17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8",
}


class CheckpointError(ValueError):
    """A file that should be part of a TF checkpoint bundle is missing or malformed."""


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable's bytes are (a decoded ``BundleEntryProto``)."""

    dtype: np.dtype
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int  # masked


def masked_crc32c(data: bytes) -> int:
    """CRC-32C of ``data``, masked as LevelDB/TensorFlow store it."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + CRC_MASK_DELTA) & 0xFFFFFFFF


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos`` (at most 10 bytes); return (value, position
    after it)."""
    value = 0
    for shift in range(0, 7 * MAX_VARINT_BYTES, 7):
        byte = buf[pos]  # IndexError on truncation, turned into CheckpointError by callers
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
    raise ValueError(f"varint longer than {MAX_VARINT_BYTES} bytes at byte {pos}")


def _typed(fields: dict[int, int | bytes], number: int, kind: type, default: int | bytes,
           message: str) -> int | bytes:
    """Field ``number`` of a decoded message, which must be of ``kind`` (int for varint and
    fixed-width fields, bytes for length-delimited ones); ValueError naming it otherwise."""
    value = fields.get(number, default)
    if not isinstance(value, kind):
        raise ValueError(f"{message} (field {number}) has the wrong protobuf wire type")
    return value


def _proto_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of a serialised protobuf message; varints
    and fixed-width numbers as ints, length-delimited fields as bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = int.from_bytes(buf[pos:pos + width], "little"), pos + width
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated protobuf message")
        yield field, value


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Key/value pairs of one table block (keys stored as shared prefix + rest)."""
    restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 * (restarts + 1)
    if end < 0:
        raise ValueError("bad block restart count")
    key, pos = b"", 0
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        length, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + length]
        pos += length


def _block(table: bytes, handle: bytes) -> bytes:
    """The contents of the block a ``BlockHandle`` (varint offset, varint size) points
    to, after checking its trailer (uncompressed, CRC-32C)."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    end = offset + size
    if end + BLOCK_TRAILER_BYTES > len(table):
        raise ValueError("block runs past the end of the file")
    if table[end] != 0:
        raise ValueError(f"compressed block (type {table[end]}); TF bundles are uncompressed")
    if masked_crc32c(table[offset:end + 1]) != int.from_bytes(table[end + 1:end + 5], "little"):
        raise ValueError(f"block at byte {offset} fails its CRC-32C check")
    return table[offset:end]


def _table_entries(table: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every key/value pair of an SSTable, in key order."""
    if len(table) < FOOTER_BYTES or int.from_bytes(table[-8:], "little") != TABLE_MAGIC:
        raise ValueError("no table magic number at the end of the file")
    footer = table[-FOOTER_BYTES:]
    _, pos = _varint(footer, 0)  # metaindex handle (empty in TF bundles): skip
    _, pos = _varint(footer, pos)
    for _, handle in _block_entries(_block(table, footer[pos:])):
        yield from _block_entries(_block(table, handle))


def _shape(buf: bytes) -> tuple[int, ...]:
    """Dimensions of a ``TensorShapeProto`` (field 2: Dim{1: size})."""
    dims = []
    for field, value in _proto_fields(buf):
        if field == 2:
            if not isinstance(value, bytes):
                raise ValueError("a shape dimension has the wrong protobuf wire type")
            sizes = [size for number, size in _proto_fields(value) if number == 1]
            if not all(isinstance(size, int) for size in sizes):
                raise ValueError("a dimension size has the wrong protobuf wire type")
            dims += sizes
        elif field == 3 and value:
            raise ValueError("tensor of unknown rank")
    return tuple(dims)


def _entry(buf: bytes) -> TensorEntry:
    """Decode a ``BundleEntryProto``."""
    fields: dict[int, int | bytes] = {}
    for field, value in _proto_fields(buf):
        if field == 7:
            raise ValueError("partitioned (sliced) variables are not supported")
        fields[field] = value
    dtype_code = _typed(fields, 1, int, 0, "the dtype")
    if dtype_code not in DTYPES:
        raise ValueError(f"unsupported dtype code {dtype_code} (types.proto)")
    shape = _shape(_typed(fields, 2, bytes, b"", "the shape"))  # type: ignore[arg-type]
    numbers = [_typed(fields, n, int, 0, what) for n, what in
               ((3, "the shard"), (4, "the offset"), (5, "the size"), (6, "the CRC"))]
    entry = TensorEntry(np.dtype(DTYPES[dtype_code]), shape, *numbers)  # type: ignore[arg-type]
    if entry.size != prod(entry.shape) * entry.dtype.itemsize:
        raise ValueError(f"size {entry.size} B does not match shape {entry.shape}")
    return entry


def _header(buf: bytes) -> int:
    """Check a ``BundleHeaderProto``; return the number of shards."""
    fields = dict(_proto_fields(buf))
    if _typed(fields, 2, int, 0, "the endianness") != 0:
        raise ValueError("big-endian bundle; only little-endian bundles are supported")
    version = dict(_proto_fields(_typed(fields, 3, bytes, b"", "the version")))  # type: ignore[arg-type]
    if _typed(version, 2, int, 0, "the version's reader field") > BUNDLE_VERSION:  # type: ignore[operator]
        raise ValueError(f"bundle format needs reader version {version[2]} "
                         f"(this reader: {BUNDLE_VERSION})")
    shards = _typed(fields, 1, int, 1, "the number of shards")
    if not 1 <= shards <= 99999:  # type: ignore[operator]
        raise ValueError(f"{shards} shards; a bundle has 1 to 99999")
    return int(shards)


def index_path(checkpoint: str | Path) -> Path:
    """The ``.index`` file of a checkpoint given as its prefix or its ``.index`` file."""
    path = Path(checkpoint).expanduser()
    return path if path.suffix == ".index" else path.with_name(path.name + ".index")


def read_index(checkpoint: str | Path) -> tuple[int, dict[str, TensorEntry]]:
    """Number of shards and the entry of every variable of a checkpoint's index."""
    path = index_path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint index not found (expected the .index "
                              "file of a TensorFlow checkpoint, next to its .data shards)")
    size = path.stat().st_size
    if size > MAX_INDEX_BYTES:
        raise CheckpointError(f"{path}: {size} bytes, more than an index of a TensorFlow "
                              f"checkpoint holds (at most {MAX_INDEX_BYTES}); refused unread")
    try:
        shards, entries = None, {}
        for key, value in _table_entries(path.read_bytes()):
            if key == b"":
                shards = _header(value)
            else:
                entries[key.decode()] = _entry(value)
    except (ValueError, IndexError, UnicodeDecodeError, TypeError, OverflowError) as error:
        raise CheckpointError(f"{path}: not a readable TensorFlow V2 checkpoint index: "
                              f"{error or 'truncated data'}") from error
    if shards is None:
        raise CheckpointError(f"{path}: checkpoint index has no bundle header")
    return shards, entries


def load_checkpoint(checkpoint: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a TF1 V2 checkpoint, by name, as numpy arrays (TF layout:
    convolution kernels are HWIO). ``checkpoint`` is the prefix or the ``.index`` file.

    Raises
    ------
    CheckpointError
        A missing shard, a malformed index, or bytes that fail their CRC-32C.
    """
    index = index_path(checkpoint)
    shards, entries = read_index(index)
    prefix = str(index)[: -len(".index")]
    tensors = {}
    for name, entry in entries.items():
        if entry.shard >= shards:
            raise CheckpointError(f"{index}: variable {name!r} is in shard {entry.shard} of "
                                  f"{shards}: not a readable TensorFlow V2 checkpoint index")
        shard = Path(f"{prefix}.data-{entry.shard:05d}-of-{shards:05d}")
        if not shard.is_file():
            raise CheckpointError(f"{shard}: data shard of checkpoint {index} not found")
        data = b""
        if entry.offset + entry.size <= shard.stat().st_size:
            with open(shard, "rb") as handle:
                handle.seek(entry.offset)
                data = handle.read(entry.size)
        if len(data) != entry.size:
            raise CheckpointError(f"{shard}: too short for variable {name!r} "
                                  f"(needs bytes {entry.offset}..{entry.offset + entry.size})")
        if masked_crc32c(data) != entry.crc32c:
            raise CheckpointError(f"{shard}: bytes of variable {name!r} fail their CRC-32C "
                                  "check (corrupt or mismatched shard)")
        tensors[name] = np.frombuffer(data, dtype=entry.dtype).reshape(entry.shape).copy()
    return tensors
