"""A content-addressed, checksummed on-disk cache for fused images and scores.

Each entry is one file ``ROOT/<key[:2]>/<key>`` holding a one-line JSON header (kind,
payload length, payload sha256) followed by the payload bytes. Entries are written
atomically (temporary file + rename), so a killed run never leaves a half-written entry
that looks valid; an entry whose checksum does not match is deleted and recomputed.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from .fsutil import atomic_write_bytes

_UNHASHABLE_CODE = uuid.uuid4().hex  # this process only: code without source is never reused


def make_key(*parts: str) -> str:
    """A cache key from ordered string parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def code_digest(*objects: Any) -> str:
    """sha256 of the code the objects come from, so that editing it invalidates results.

    Hashes the source of each object's module and of the modules of its own package that
    it imports, transitively (:func:`module_sources`): editing ``methods/gff.py`` changes
    the digest of gff only, editing a helper module the digests of its importers only. An
    object whose module has no file (a notebook cell) counts by its own source; one
    without any source (``python -c``) gets a value unique to this process, so its results
    are recomputed in every new process rather than reused stale.
    """
    digest = hashlib.sha256()
    sources: dict[str, Path] = {}
    for obj in objects:
        module = inspect.getmodule(obj)
        if module is not None and getattr(module, "__file__", None):
            sources.update(module_sources(module.__name__))
            continue
        try:
            digest.update(inspect.getsource(obj).encode())
        except (OSError, TypeError):
            digest.update(_UNHASHABLE_CODE.encode())
    for name in sorted(sources):
        digest.update(name.encode())
        digest.update(sources[name].read_bytes())
    return digest.hexdigest()


def module_sources(name: str) -> dict[str, Path]:
    """Module name -> source file of module ``name`` and of every module of the same
    top-level package that it imports (``import``/``from`` statements, relative ones
    resolved), transitively; an imported package counts by its ``__init__``."""
    top = name.partition(".")[0]
    found: dict[str, Path] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        path = _source_file(current)
        if current in found or path is None:
            continue
        found[current] = path
        package = current if path.name == "__init__.py" else current.rpartition(".")[0]
        todo.extend(imported for imported in _imports(str(path), path.stat().st_mtime_ns, package)
                    if imported.partition(".")[0] == top)
    return found


def _source_file(name: str) -> Path | None:
    """The ``.py`` file of an importable module, None for a namespace or compiled one."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


@functools.lru_cache(maxsize=1024)
def _imports(path: str, mtime_ns: int, package: str) -> tuple[str, ...]:
    """Absolute names of the modules a source file imports (``from m import x``: ``m``
    and, where ``m.x`` is a module, ``m.x``)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(Path(path).read_bytes(), filename=path)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names
                         if _source_file(f"{base}.{alias.name}") is not None)
    return tuple(names)
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
