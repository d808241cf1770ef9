"""The run record, ``run.json``: what a run did and with what, as one typed schema.

:class:`RunRecord` is the document itself (a :class:`~typing.TypedDict`, so a record read
back is the same object a run returns); :func:`write_run_record` and
:func:`read_run_record` are the only code that writes and reads the file. A record is
checked against the schema when read: a missing or mistyped field fails naming the file
and the field. Records of schema 1 (written before ``schema_version`` existed) are read
too, their fields renamed to the current vocabulary.

Vocabulary: a *pair type* is a modality pair such as ``MRI-CT``; an *image pair* is one
registered pair of source images, named by its pair type and its *image* name
(``MRI-CT/2004``).
"""
from __future__ import annotations

import copy
import json
import types
from pathlib import Path
from typing import Any, TypedDict, Union, cast, get_args, get_origin, get_type_hints

from .fsutil import atomic_write_bytes

SCHEMA_VERSION = 2
"""The version of the schema below; bumped on any change to it."""


class Software(TypedDict):
    name: str
    version: str


class DatasetRecord(TypedDict):
    """A dataset is named, never located: name, split and the hash of its loaded pairs."""

    name: str
    split: str
    hash: str


class MethodRecord(TypedDict):
    """A method's options (paths by file name only), weight files, fingerprint and
    BibTeX; a ``--fused`` folder also has its provenance and notes."""

    options: dict[str, Any]
    weights: dict[str, dict[str, str]]
    fingerprint: str
    deterministic: bool
    bibtex: str
    provenance: dict[str, Any]
    notes: list[str]


class MetricRecord(TypedDict):
    """A metric's metadata as its plugin declared it when the run scored it."""

    higher_is_better: bool
    needs_sources: bool
    reference: str
    description: str
    unit: str
    bibtex: str


class ImagePairRecord(TypedDict):
    """One image pair of the run: its source files relative to the dataset folder."""

    pair_type: str
    image: str
    file_a: str
    file_b: str
    hash: str


class SkippedRecord(TypedDict):
    where: str
    message: str


class FailureRecord(TypedDict):
    """A (method, image pair) that gave no score, and why."""

    method: str
    pair_type: str
    image: str
    message: str


class RunRecord(TypedDict):
    """``run.json``."""

    schema_version: int
    software: Software
    profile: str
    dataset: DatasetRecord
    methods: dict[str, MethodRecord]
    not_run: dict[str, list[str]]  # methods a default run left out: why, per weight file
    not_applicable: dict[str, list[str]]  # method -> pair types it has no model for
    metrics: dict[str, MetricRecord]
    pairs: list[ImagePairRecord]
    notes: list[str]
    skipped: list[SkippedRecord]
    failures: list[FailureRecord]
    plugin_errors: dict[str, str]


_DEFAULTS: dict[type, dict[str, Any]] = {
    MethodRecord: {"weights": {}, "bibtex": "", "provenance": {}, "notes": []},
    MetricRecord: {"description": "", "unit": "", "bibtex": ""},
}
"""Fields a record may leave out (schema 1 had no BibTeX; folders no weights)."""

def empty_method_record() -> MethodRecord:
    """A method record with every field at its default (fingerprint "")."""
    return cast(MethodRecord, {"options": {}, "fingerprint": "", "deterministic": True,
                               **copy.deepcopy(_DEFAULTS[MethodRecord])})


_RENAMED_IN_2 = {"pair": "pair_type"}


def _upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 document in the current schema (``pair`` -> ``pair_type``)."""
    document = {"not_run": {}, "not_applicable": {}, "notes": [], "skipped": [],
                "failures": [], "plugin_errors": {}, **document,
                "schema_version": SCHEMA_VERSION}
    for key in ("pairs", "failures"):
        document[key] = [{_RENAMED_IN_2.get(k, k): v for k, v in entry.items()}
                         for entry in document.get(key, [])]
    return document


def _checked(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the type ``hint`` (TypedDicts get their defaults)."""
    origin = get_origin(hint)
    if hint is Any:
        return value
    if isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__annotations__"):
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object")
        fields = get_type_hints(hint)
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ValueError(f"{where} has unknown fields {', '.join(unknown)}")
        filled = {**_DEFAULTS.get(hint, {}), **value}
        missing = [key for key in fields if key not in filled]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}")
        return {key: _checked(filled[key], fields[key], f"{where}.{key}") for key in fields}
    if origin in (Union, types.UnionType):
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list")
        (item,) = get_args(hint)
        return [_checked(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object")
        _, item = get_args(hint)
        return {k: _checked(v, item, f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int):
        return value
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ValueError(f"{where} must be of type {hint.__name__}, got {value!r}")
    return value


def parse_run_record(document: Any, source: str = "run.json") -> RunRecord:
    """A :class:`RunRecord` from ``run.json``'s parsed JSON; ValueError naming ``source``
    and the field when it does not fit the schema."""
    if not isinstance(document, dict):
        raise ValueError(f"{source}: not a run record (a JSON object expected)")
    version = document.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"{source}: run record schema {version!r} is newer than this "
                         f"mmif-bench reads ({SCHEMA_VERSION}); upgrade mmif-bench")
    if version < SCHEMA_VERSION:
        document = _upgrade(document)
    try:
        return cast(RunRecord, _checked(document, RunRecord, "run"))
    except ValueError as error:
        raise ValueError(f"{source}: {error}; re-run mmif-bench run to rewrite it") from None


def dump_run_record(record: RunRecord) -> bytes:
    """The bytes of ``run.json``: checked, indented, in schema order, a final newline."""
    checked = parse_run_record(record, "the run record")
    return (json.dumps(checked, indent=2, sort_keys=False) + "\n").encode()


def write_run_record(path: Path, record: RunRecord) -> None:
    """Write ``run.json`` atomically."""
    atomic_write_bytes(path, dump_run_record(record))


def read_run_record(path: Path) -> RunRecord:
    """Read ``run.json`` (any schema this version knows) as a :class:`RunRecord`."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); re-run mmif-bench run") from None
    return parse_run_record(document, str(path))
