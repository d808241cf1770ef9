"""``mmif-bench fetch weights``: the published weight files of the registry, verified, into
the fetched store (:func:`mmif_bench.weights.store_dir`).

Each published file (a registry ``path``; several rows share one when their files are
members of a zip archive) comes from the authors' repository at the pinned commit, or from a
mirror (``--from``: a URL or folder holding the files under their store names or their
published file names). A file is verified by its sha256 where the registry knows it, else
by its git blob id, the id git itself gives the published file (so files too large to
download where the registry was made are still verified); an archive's members are
extracted after the archive is verified. Nothing unverified is installed.
"""
from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from .download import (FetchError, RemoteFileMissing, download, file_sha256, git_blob_id,
                       install, is_url, scratch_folder)
from .weights import WeightFile, registry, store_dir

Log = Callable[[str], None]


def select(names: list[str]) -> list[WeightFile]:
    """Registry rows of the named methods (``all`` or none: every row); unknown names raise
    ValueError listing the known ones."""
    known = list(dict.fromkeys(entry.method for entry in registry()))
    if not names or names == ["all"]:
        return list(registry())
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"no published weights registered for {', '.join(unknown)}; "
                         f"known: {', '.join(known)} (or all)")
    return [entry for entry in registry() if entry.method in names]


def published_files(entries: list[WeightFile]) -> list[list[WeightFile]]:
    """Rows grouped by the published file they come from, in registry order."""
    groups: dict[tuple[str, str, str], list[WeightFile]] = {}
    for entry in entries:
        groups.setdefault((entry.repository, entry.commit, entry.path), []).append(entry)
    return list(groups.values())


def _verify(path: Path, entry: WeightFile, whole_file: bool, where: str) -> str:
    """Check ``path`` against the registry; returns how. ``whole_file``: ``path`` is the
    published file itself (its git blob id applies), not an extracted member."""
    checks = [("sha256", entry.sha256, file_sha256)] if entry.sha256 and not (
        entry.member and whole_file) else []
    if whole_file and entry.git_blob:
        checks.append(("git blob", entry.git_blob, git_blob_id))
    if not checks:
        raise FetchError(f"{where}: the registry knows no hash for it, so it cannot be verified; "
                         f"fetch the published file {entry.repository}:{entry.path} instead")
    kind, expected, compute = checks[0]
    found = compute(path)
    if found != expected:
        raise FetchError(f"{where}: {kind} {found[:16]}... does not match the registry's "
                         f"{expected[:16]}... ({entry.repository} @ {entry.commit[:7]}: "
                         f"{entry.path}): refused, nothing was installed; fetch again or from "
                         f"another mirror with --from")
    return kind


def _obtain(names: list[str], source: str | None, url: str, scratch: Path) -> tuple[Path, str] | None:
    """The first of ``names`` found at the mirror ``source`` (or ``url`` without a mirror),
    as a local path and where it came from; None when the mirror holds none of them."""
    if source is None:
        return download(url, scratch, Path(url).name), url
    for name in names:
        if is_url(source):
            address = f"{source.rstrip('/')}/{name}"
            try:
                return download(address, scratch, Path(name).name), address
            except RemoteFileMissing:
                continue
        elif (Path(source).expanduser() / name).is_file():
            return Path(source).expanduser() / name, str(Path(source) / name)
    return None


def _member(archive: zipfile.ZipFile, member: str) -> zipfile.ZipInfo | None:
    """The archive entry ``member``, else the one whose file name is ``member``'s."""
    infos = archive.infolist()
    exact = [i for i in infos if i.filename == member]
    named = [i for i in infos if Path(i.filename).name == Path(member).name and not i.is_dir()]
    return (exact or named or [None])[0]


def _stage_archive(path: Path, where: str, entries: list[WeightFile], scratch: Path) -> dict[str, Path]:
    """Verify a published zip by its git blob id and extract the rows' members, each
    checked by its sha256 where known (at least one of the two checks is required)."""
    unverifiable = [e.file for e in entries if not (e.sha256 or e.git_blob)]
    if unverifiable:
        raise FetchError(f"{where}: the registry knows no hash for {', '.join(unverifiable)}, "
                         f"so they cannot be verified; nothing was installed")
    if entries[0].git_blob:
        _verify(path, entries[0], True, where)
    if not zipfile.is_zipfile(path):
        raise FetchError(f"{where} is not a zip archive (a truncated download?); nothing was installed")
    staged = {}
    with zipfile.ZipFile(path) as archive:
        for entry in entries:
            info = _member(archive, entry.member)
            if info is None:
                raise FetchError(f"{where} holds no {entry.member}: not the published archive; "
                                 f"nothing was installed")
            target = scratch / "staged" / entry.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            if entry.sha256:
                _verify(target, entry, False, f"{where}:{info.filename}")
            staged[entry.file] = target
    return staged


def _stage(group: list[WeightFile], source: str | None, scratch: Path) -> dict[str, Path]:
    """Store name -> verified local file of every row of one published file."""
    first = group[0]
    published = [Path(first.path).name, first.path]
    if not first.member:
        found = _obtain(list(dict.fromkeys([first.file, *published])), source, first.url, scratch)
        if found is None:
            raise FetchError(f"--from {source} holds neither {first.file} nor {published[0]}")
        _verify(found[0], first, True, found[1])
        return {first.file: found[0]}
    found = _obtain(list(dict.fromkeys(published)), source, first.url, scratch)
    if found is not None:
        return _stage_archive(found[0], found[1], group, scratch)
    staged = {}  # a mirror of extracted files, each verified by its own sha256
    for entry in group:
        member = _obtain([entry.file], source, "", scratch)
        if member is None:
            raise FetchError(f"--from {source} holds neither {published[0]} nor {entry.file}")
        _verify(member[0], entry, False, member[1])
        staged[entry.file] = member[0]
    return staged


def _in_store(group: list[WeightFile]) -> bool:
    """Whether every file of the group is in the store and verifies (sha256, or the git
    blob id of a whole published file)."""
    def verified(entry: WeightFile) -> bool:
        path = store_dir() / entry.file
        try:
            _verify(path, entry, not entry.member, str(path))
        except (FetchError, OSError):
            return False
        return True
    return all(verified(entry) for entry in group)


def fetch_weights(names: list[str], source: str | None = None, log: Log = print) -> list[str]:
    """Fetch the weight files of the named methods (``all``: every one) into the store;
    returns the one-line errors of the published files that could not be fetched."""
    return fetch_files(select(names), source, log)


def fetch_files(entries: list[WeightFile], source: str | None = None, log: Log = print) -> list[str]:
    """Fetch registry rows into the store, each published file whole or not at all;
    returns one line per published file that could not be fetched."""
    errors = []
    for group in published_files(entries):
        files = ", ".join(entry.file for entry in group)
        if _in_store(group):
            log(f"{group[0].method}: {files} already in {store_dir()}")
            continue
        try:
            with scratch_folder() as scratch:
                for file, path in _stage(group, source, scratch).items():
                    if scratch not in path.parents:  # a mirror folder's file: copy, then move
                        copy = scratch / "copies" / file
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        path = Path(shutil.copyfile(path, copy))
                    install(path, store_dir() / file)
        except FetchError as error:
            errors.append(f"{group[0].method}: {error}")
            log(f"error: {errors[-1]}")
            continue
        log(f"{group[0].method}: {files} verified and installed in {store_dir()}")
    return errors
