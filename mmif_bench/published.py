"""Fused images that papers' authors published, as leaderboard rows.

A *published set* is declared by data alone, in ``published_sets.json`` (one entry per
set: label, paper BibTeX, the repository and commit, the result folder in it, the layout
mapping the authors' sub-folders to pair types, whether the images are lossy, and every
file with its git blob id; ``tools/declare_published.py`` writes the file lists from a
registry). ``mmif-bench fetch results NAME`` downloads each file from the pinned commit (or
a mirror given with ``--from``: a URL or a folder laid out as the authors' result folder),
verifies it by its git blob id and installs the set, whole or not at all, in the user cache
in a run's fused-folder layout (``<pair type>/<image>.png``). ``mmif-bench run
--published NAME`` (and a default run, for every fetched set) scores it through the
``--fused`` path, labelled as the authors' published images.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from .config import cache_root
from .download import (
    FetchError,
    RemoteFileMissing,
    download,
    git_blob_id,
    install,
    is_url,
    scratch_folder,
)
from .provenance import PUBLISHED_IMAGES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedSet:
    """One declared set of published fused images (an entry of ``published_sets.json``)."""

    name: str
    label: str
    repository: str
    commit: str
    folder: str
    layout: dict[str, str]
    files: dict[str, str]
    bibtex: str = ""
    lossy: bool = False
    licence: str = ""

    @property
    def source(self) -> str:
        return f"{self.repository} @ {self.commit[:7]}, {self.folder}/"

    def url(self, relative: str) -> str:
        """The raw URL of a file of the set at the pinned commit."""
        return (f"https://github.com/{self.repository}/raw/{self.commit}/"
                f"{self.folder}/{relative}")

    def installed_name(self, relative: str) -> str:
        """A file's path in the installed set: its sub-folder mapped to a pair type."""
        parts = PurePosixPath(relative).parts
        return PurePosixPath(self.layout[parts[0]], *parts[1:]).as_posix()

    def provenance(self) -> dict[str, str]:
        lossiness = "lossy" if self.lossy else "lossless"
        return {"kind": PUBLISHED_IMAGES, "label": self.label,
                "detail": f"the authors' published fused images ({lossiness}), "
                          f"{self.source}", "repository": self.repository,
                "commit": self.commit}


@cache
def declared_sets() -> dict[str, PublishedSet]:
    """Every declared set, by name."""
    text = resources.files("mmif_bench").joinpath("published_sets.json").read_text("utf-8")
    sets: dict[str, Any] = json.loads(text)
    return {name: PublishedSet(name=name, **entry) for name, entry in sets.items()}


def published_set(name: str) -> PublishedSet:
    """The declared set ``name``; KeyError naming the declared ones."""
    sets = declared_sets()
    if name not in sets:
        raise KeyError(f"no published set {name!r}; declared: {', '.join(sorted(sets))}")
    return sets[name]


def results_store() -> Path:
    """The folder ``mmif-bench fetch results`` installs sets into (in the user cache)."""
    return cache_root() / "results"


def installed(name: str) -> Path | None:
    """The installed folder of set ``name`` (None: not fetched)."""
    folder = results_store() / name
    return folder if folder.is_dir() else None


def installed_sets() -> list[str]:
    """The declared sets that are fetched, in declaration order."""
    return [name for name in declared_sets() if installed(name) is not None]


def _obtain(entry: PublishedSet, relative: str, source: str | None, scratch: Path) -> Path:
    """The file ``relative`` of the set from the pinned commit or the mirror ``source``."""
    if source is not None and not is_url(source):
        path = Path(source).expanduser() / relative
        if not path.is_file():
            raise FetchError(f"--from {source} holds no {relative}: give the folder laid out "
                             f"as the authors' {entry.folder}/ ({', '.join(entry.layout)})")
        return path
    url = f"{source.rstrip('/')}/{relative}" if source else entry.url(relative)
    try:
        return download(url, scratch / "download", PurePosixPath(relative).name)
    except RemoteFileMissing:
        raise FetchError(f"{url}: not found (HTTP 404); the mirror must be laid out as the "
                         f"authors' {entry.folder}/") from None


def fetch_results(name: str, source: str | None = None) -> Path:
    """Download, verify (git blob id of every file) and install published set ``name``;
    :class:`FetchError` naming the file when one is missing or does not match (nothing is
    installed then). Returns the installed folder."""
    entry = published_set(name)
    with scratch_folder() as scratch:
        staged = scratch / "staged" / name
        (scratch / "download").mkdir()
        for relative, blob in entry.files.items():
            path = _obtain(entry, relative, source, scratch)
            found = git_blob_id(path)
            if found != blob:
                raise FetchError(f"{path if source else entry.url(relative)}: git blob "
                                 f"{found[:12]}... does not match the declared {blob[:12]}... "
                                 f"({entry.source}{relative}): refused, nothing was installed; "
                                 f"fetch again or from another mirror with --from")
            target = staged / entry.installed_name(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
        install(staged, results_store() / name)
    logger.info("installed %s: %d files of %s, each verified by its git blob id",
                name, len(entry.files), entry.source)
    return results_store() / name
