"""Where published weight files are found, and the registry of where they come from.

A method names each weight file it needs by its *store name* (``ALMFNet.pt``,
``U2Fusion/model.ckpt.index``): the path relative to a weights folder. :func:`locate`
looks for it, in order, at the path the user gave (a method option), under
``$MMIF_BENCH_WEIGHTS``, then in the fetched store (``mmif-bench fetch weights``). The
registry (``weights_registry.csv``, shipped in the package) records for every store name
the authors' repository, commit and path, the size, sha256 and git blob id.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from .config import WEIGHTS_ENV, cache_root, weights_dir


class MissingWeightsError(FileNotFoundError):
    """A weight file a method needs is not where it was looked for."""


@dataclass(frozen=True)
class WeightFile:
    """One published weight file (a row of the registry)."""

    method: str
    file: str  # store name: path relative to a weights folder
    repository: str
    commit: str
    path: str  # path in the authors' repository (an archive for zipped files)
    member: str  # path inside that archive, "" for plain files
    bytes: int | None
    git_blob: str
    sha256: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository}/raw/{self.commit}/{self.path}"


@lru_cache(maxsize=1)
def registry() -> tuple[WeightFile, ...]:
    """Every registered weight file, in registry order."""
    text = resources.files("mmif_bench").joinpath("weights_registry.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        WeightFile(**{**row, "bytes": int(row["bytes"]) if row["bytes"] else None})
        for row in rows
    )


def registry_entry(file: str) -> WeightFile | None:
    """The registry row of a store name, or None for an unregistered file."""
    return next((entry for entry in registry() if entry.file == file), None)


def store_dir() -> Path:
    """The folder ``mmif-bench fetch weights`` writes to (inside the user cache)."""
    return cache_root() / "weights"


def candidates(file: str, explicit: str | Path | None = None) -> list[Path]:
    """Where :func:`locate` looks for a store name, in order."""
    if explicit:
        return [Path(explicit).expanduser()]
    places = [weights_dir(), store_dir()]
    return [folder / file for folder in places if folder is not None]


def fetch_command(method: str, files: Iterable[str] = ()) -> str:
    """The ``mmif-bench fetch weights`` command that gets ``files`` (registry names)."""
    names = sorted({entry.method for file in files if (entry := registry_entry(file))})
    return f"mmif-bench fetch weights {' '.join(names or [method])}"


def missing_message(method: str, file: str, explicit: str | Path | None = None,
                    option: str = "weights") -> str:
    """One line: which file is missing, where its authors publish it, how to fetch it
    (``option``: the method option that takes the file)."""
    entry = registry_entry(file)
    where = f"not found at {explicit}" if explicit else (
        f"not found in ${WEIGHTS_ENV} or the fetched store")
    source = f" (published in {entry.repository} @ {entry.commit[:7]}: {entry.path})" if entry else ""
    return (f"{method}: weights {file} {where}{source}; run '{fetch_command(method, [file])}', "
            f"set ${WEIGHTS_ENV} to a folder holding "
            f"{file}, or pass the file as an option ('-o {method}:{option}=PATH')")


def locate(file: str, *, method: str, explicit: str | Path | None = None,
           option: str = "weights") -> Path:
    """The path of a weight file; raise :class:`MissingWeightsError` naming the fix."""
    for path in candidates(file, explicit):
        if path.is_file():
            return path
    raise MissingWeightsError(missing_message(method, file, explicit, option))
