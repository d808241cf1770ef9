"""``mmif-bench fetch weights``: a method's declared weight files, verified, into the
fetched store (:func:`~mmif_bench.weights.store.store_dir`).

Each published file (one download; several declarations share one when their files are
members of a zip archive) comes from its declared URL, or from a mirror (``--from``: a URL
or folder holding the files under their store names or their published file names). A
plain file with a known sha256 is downloaded by pooch with that ``known_hash``; otherwise
the file is checked by its git blob id, the id git itself gives the published file (so
files too large to download where they were declared are still verified); an archive's
members are extracted after the archive is verified, each checked by its sha256 where
known. Nothing unverified is installed.
"""
from __future__ import annotations

import logging
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path

from ..download import FetchError, RemoteFileMissing, download, install, is_url, scratch_folder
from .declaration import WeightFile
from .store import hash_once, store_dir

log = logging.getLogger(__name__)

Declared = Mapping[str, Mapping[str, WeightFile]]
"""Method name -> its ``weight_files`` (path option -> declared file)."""


def published_files(declared: Declared) -> list[tuple[str, list[WeightFile]]]:
    """(method, files) per published file (one download), in declaration order."""
    groups: dict[tuple[str, str], list[WeightFile]] = {}
    for method, files in declared.items():
        for file in dict.fromkeys(f for top in files.values() for f in top.with_companions()):
            groups.setdefault((method, file.download_url), []).append(file)
    return [(method, files) for (method, _), files in groups.items()]


def _verify(path: Path, file: WeightFile, whole_file: bool, where: str) -> str:
    """Check ``path`` against the declaration; returns how. ``whole_file``: ``path`` is the
    published file itself (its git blob id applies), not an extracted member."""
    checks = ["sha256"] if file.sha256 and not (file.member and whole_file) else []
    if whole_file and file.git_blob:
        checks.append("git blob")
    if not checks:
        raise FetchError(f"{where}: no hash of it is declared, so it cannot be verified; "
                         f"fetch the published file {file.source} instead")
    kind = checks[0]
    expected = file.sha256 if kind == "sha256" else file.git_blob
    found = hash_once(path, kind)
    if found != expected:
        raise FetchError(f"{where}: {kind} {found[:16]}... does not match the declared "
                         f"{expected[:16]}... ({file.source}): refused, nothing was installed; "
                         f"fetch again or from another mirror with --from")
    return kind


def _download(url: str, scratch: Path, name: str, file: WeightFile, whole_file: bool) -> Path:
    """``url`` downloaded, with pooch checking the sha256 of a plain file that has one."""
    plain = whole_file and not file.member
    known = f"sha256:{file.sha256}" if file.sha256 and plain else None
    try:  # a plain file stops at its declared size (a mirror cannot stream more)
        return download(url, scratch, name, known_hash=known,
                        max_bytes=file.size if plain else None)
    except ValueError:  # pooch's hash mismatch: the file was not kept
        raise FetchError(f"{url}: sha256 does not match the declared {file.sha256[:16]}... "
                         f"({file.source}): refused, nothing was installed; fetch again or "
                         f"from another mirror with --from") from None


def _obtain(names: list[str], source: str | None, file: WeightFile, whole_file: bool,
            scratch: Path) -> tuple[Path, str] | None:
    """The first of ``names`` found at the mirror ``source`` (the declared URL without a
    mirror), as a local path and where it came from; None when the mirror holds none."""
    if source is None:
        url = file.download_url
        return _download(url, scratch, Path(file.published_name).name, file, whole_file), url
    for name in names:
        if is_url(source):
            address = f"{source.rstrip('/')}/{name}"
            try:
                return _download(address, scratch, Path(name).name, file, whole_file), address
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
    found = exact or named
    return found[0] if found else None


def _stage_archive(path: Path, where: str, files: list[WeightFile],
                   scratch: Path) -> dict[str, Path]:
    """Verify a published zip by its git blob id and extract the declared members, each
    checked by its sha256 where known."""
    if files[0].git_blob:
        _verify(path, files[0], True, where)
    if not zipfile.is_zipfile(path):
        raise FetchError(f"{where} is not a zip archive (a truncated download?); nothing was "
                         f"installed")
    staged = {}
    with zipfile.ZipFile(path) as archive:
        for file in files:
            info = _member(archive, file.member)
            if info is None:
                raise FetchError(f"{where} holds no {file.member}: not the published archive; "
                                 f"nothing was installed")
            if file.size is not None and info.file_size != file.size:
                raise FetchError(f"{where}:{info.filename} declares {info.file_size} bytes, not "
                                 f"the declared {file.size}: not the published archive; not "
                                 f"decompressed, nothing was installed")
            target = scratch / "staged" / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            if file.sha256:
                _verify(target, file, False, f"{where}:{info.filename}")
            elif not file.git_blob:
                raise FetchError(f"{where}:{info.filename}: no hash of it is declared; nothing "
                                 f"was installed")
            staged[file.name] = target
    return staged


def _stage(files: list[WeightFile], source: str | None, scratch: Path) -> dict[str, Path]:
    """Store name -> verified local file of every declaration of one published file."""
    first = files[0]
    published = list(dict.fromkeys([Path(first.published_name).name, first.published_name]))
    if not first.member:
        found = _obtain(list(dict.fromkeys([first.name, *published])), source, first, True,
                        scratch)
        if found is None:
            raise FetchError(f"--from {source} holds neither {first.name} nor {published[0]}")
        _verify(found[0], first, True, found[1])
        return {first.name: found[0]}
    found = _obtain(published, source, first, True, scratch)
    if found is not None:
        return _stage_archive(found[0], found[1], files, scratch)
    staged = {}  # a mirror of extracted files, each verified by its own sha256
    for file in files:
        member = _obtain([file.name], source, file, False, scratch)
        if member is None:
            raise FetchError(f"--from {source} holds neither {published[0]} nor {file.name}")
        _verify(member[0], file, False, member[1])
        staged[file.name] = member[0]
    return staged


def _in_store(files: list[WeightFile]) -> bool:
    """Whether every file of the group is in the store and verifies."""
    def verified(file: WeightFile) -> bool:
        path = store_dir() / file.name
        try:
            _verify(path, file, not file.member, str(path))
        except (FetchError, OSError):
            return False
        return True
    return all(verified(file) for file in files)


def _install(staged: dict[str, Path], scratch: Path) -> None:
    for name, path in staged.items():
        if scratch not in path.parents:  # a mirror folder's file: copy, then move
            copy = scratch / "copies" / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            path = Path(shutil.copyfile(path, copy))
        install(path, store_dir() / name)


def fetch(declared: Declared, source: str | None = None) -> list[str]:
    """Fetch the declared files of methods into the store, each published file whole or
    not at all; returns one line per published file that could not be fetched."""
    errors = []
    for method, files in published_files(declared):
        names = ", ".join(file.name for file in files)
        if _in_store(files):
            log.info("%s: %s already in %s", method, names, store_dir())
            continue
        try:
            with scratch_folder() as scratch:
                _install(_stage(files, source, scratch), scratch)
        except FetchError as error:
            errors.append(f"{method}: {error}")
            log.error("error: %s", errors[-1])
            continue
        log.info("%s: %s verified and installed in %s", method, names, store_dir())
    return errors
