"""A content-addressed, checksummed on-disk cache for fused images and scores.

Each entry is one file ``ROOT/<key[:2]>/<key>`` holding a one-line JSON header (kind,
payload length, payload sha256) followed by the payload bytes. Entries are written
atomically (temporary file + rename), so a killed run never leaves a half-written entry
that looks valid; an entry whose checksum does not match is deleted and recomputed.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from .imageio import atomic_write_bytes


_UNHASHABLE_CODE = uuid.uuid4().hex  # this process only: code without source is never reused


def make_key(*parts: str) -> str:
    """A cache key from ordered string parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def code_digest(*objects: Any) -> str:
    """sha256 of the code the objects come from, so that editing it invalidates results.

    Hashes every ``.py`` file in the folder of each object's module (a helper module
    beside it counts too). An object whose module has no file (a notebook cell) counts
    by its own source; one without any source (``python -c``) gets a value unique to this
    process, so its results are recomputed in every new process rather than reused stale.
    """
    digest = hashlib.sha256()
    folders = set()
    for obj in objects:
        module = inspect.getmodule(obj)
        if module is not None and getattr(module, "__file__", None):
            folders.add(Path(module.__file__).resolve().parent)
            continue
        try:
            digest.update(inspect.getsource(obj).encode())
        except (OSError, TypeError):
            digest.update(_UNHASHABLE_CODE.encode())
    for path in sorted(p for folder in folders for p in folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _remove(path: Path) -> None:
    """Remove a bad cache entry (a file or a folder in its place); leave it if that fails
    (the recomputed value replaces it atomically where the folder is writable)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


class Cache:
    """The result cache of one output folder (``OUT/.cache`` unless ``--cache-dir``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.corrupt: list[str] = []

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def put(self, key: str, payload: bytes, kind: str) -> None:
        header = json.dumps({"kind": kind, "size": len(payload),
                             "sha256": hashlib.sha256(payload).hexdigest()}, sort_keys=True)
        atomic_write_bytes(self._path(key), header.encode() + b"\n" + payload)

    def get(self, key: str, kind: str) -> bytes | None:
        """The payload, or None when absent, unreadable or corrupt (a corrupt or unreadable
        entry is removed where it can be, and recomputed)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:  # no permission, a folder in its place, an I/O error
            self.corrupt.append(str(path))
            _remove(path)
            return None
        head, sep, payload = data.partition(b"\n")
        try:
            header = json.loads(head) if sep else {}
        except ValueError:
            header = {}
        if (header.get("kind") != kind or header.get("size") != len(payload)
                or header.get("sha256") != hashlib.sha256(payload).hexdigest()):
            self.corrupt.append(str(path))
            _remove(path)
            return None
        return payload

    def put_json(self, key: str, value: object, kind: str) -> None:
        self.put(key, json.dumps(value, sort_keys=True).encode(), kind)

    def get_json(self, key: str, kind: str) -> object | None:
        payload = self.get(key, kind)
        return None if payload is None else json.loads(payload)
