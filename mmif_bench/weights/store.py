"""Where a method's weight files are found, and their hashes (computed once per process).

A path option's file is, in order: the path the user gave (the option's value), the
declared file's store name under ``$MMIF_BENCH_WEIGHTS``, then under the fetched store
(``mmif-bench fetch weights``, :func:`store_dir`).
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..config import cache_root
from ..download import git_blob_id
from ..fsutil import file_sha256
from .declaration import WeightFile

WEIGHTS_ENV = "MMIF_BENCH_WEIGHTS"


class MissingWeightsError(FileNotFoundError):
    """A weight file a method needs is not where it was looked for."""


def weights_dir() -> Path | None:
    """The folder of published weight files that ``$MMIF_BENCH_WEIGHTS`` names, if set."""
    value = os.environ.get(WEIGHTS_ENV)
    return Path(value).expanduser() if value else None


def store_dir() -> Path:
    """The folder ``mmif-bench fetch weights`` writes to (inside the user cache)."""
    return cache_root() / "weights"


def find(given: str | Path | None, declared: WeightFile | None) -> Path | None:
    """The file of a path option: ``given`` when set, else ``declared`` under
    ``$MMIF_BENCH_WEIGHTS``, then in the fetched store; None when no file is there."""
    if given:
        path = Path(given).expanduser()
        return path if path.is_file() else None
    if declared is None:
        return None
    folders = [weights_dir(), store_dir()]
    return next((folder / declared.name for folder in folders
                 if folder is not None and (folder / declared.name).is_file()), None)


def fetch_command(method: str) -> str:
    """The command that fetches a method's declared weight files."""
    return f"mmif-bench fetch weights {method}"


def missing_message(method: str, option: str, given: str | Path | None,
                    declared: WeightFile | None) -> str:
    """One line: which file is missing, where its authors publish it, how to get it."""
    if declared is None:
        return f"{method}: option {option}: file {str(given)!r} not found"
    where = f"not found at {given}" if given else f"not found in ${WEIGHTS_ENV} or the fetched store"
    return (f"{method}: weights {declared.name} {where} (published in {declared.source}); "
            f"run '{fetch_command(method)}', set ${WEIGHTS_ENV} to a folder holding "
            f"{declared.name}, or pass the file as an option ('-o {method}:{option}=PATH')")


HASHES = {"sha256": file_sha256, "git blob": git_blob_id}


def hash_once(path: str | Path, kind: str = "sha256") -> str:
    """A file's ``sha256`` or ``git blob`` id, computed once per process while its size and
    modification time stay the same (a run's fingerprint, its record and a fetch's check
    all ask for it)."""
    stat = Path(path).stat()
    return _hash_of(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, kind)


@lru_cache(maxsize=256)
def _hash_of(path: str, size: int, mtime_ns: int, kind: str) -> str:
    return HASHES[kind](Path(path))
