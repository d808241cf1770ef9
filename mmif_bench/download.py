"""Downloads and installs of published files: verified, atomic, with one-line errors.

Files are downloaded with pooch (the data fetcher SciPy and scikit-image use) into a
scratch folder of the user cache and moved into place only when complete and verified, so
that an interrupted or corrupt download never leaves a half-installed dataset or weight
file that later runs would use. Every error is a :class:`FetchError` whose message names
the cause and the fix.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from .config import CACHE_ENV, cache_root

logger = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """A download or install that could not be completed (nothing was installed)."""


class RemoteFileMissing(FetchError):
    """The server answered 404: it does not hold the file."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "ftp://"))


def git_blob_id(path: Path) -> str:
    """The id git gives the file's content: sha1 of ``b"blob <size>\\0"`` + the bytes."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def disk_error(error: OSError, where: Path) -> FetchError:
    """A one-line FetchError for a failed write under ``where``."""
    if error.errno == errno.ENOSPC:
        return FetchError(f"no space left on the disk holding {where}: free some space or point "
                          f"${CACHE_ENV} at a larger disk, then fetch again")
    return FetchError(f"cannot write under {where}: {error.strerror or error}; check its "
                      f"permissions or point ${CACHE_ENV} elsewhere")


class _CappedFile:
    """A download's output that refuses to grow past ``limit`` bytes."""

    def __init__(self, handle: BinaryIO, limit: int, url: str) -> None:
        self.handle, self.limit, self.url, self.written = handle, limit, url, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise FetchError(f"{self.url} sent more than the declared {self.limit} bytes: "
                             f"not the published file; stopped, nothing was installed")
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def _capped_downloader(limit: int) -> Callable[..., Any]:
    """A pooch downloader (HTTP(S), with its progress bar) that stops past ``limit`` bytes."""
    import pooch

    http = pooch.HTTPDownloader(progressbar=True)

    def downloader(url: str, output_file: str, pooch_: Any, check_only: bool = False) -> Any:
        if check_only:
            return http(url, output_file, pooch_, check_only=True)
        with open(output_file, "w+b") as handle:
            return http(url, _CappedFile(handle, limit, url), pooch_)
    return downloader


def download(url: str, folder: Path, name: str, known_hash: str | None = None,
             max_bytes: int | None = None) -> Path:
    """Download ``url`` as ``name`` into a new sub-folder of ``folder``, with a progress bar;
    :class:`FetchError` on a failure (unreachable host, HTTP error, interrupted transfer,
    disk, more than ``max_bytes`` sent), :class:`RemoteFileMissing` on HTTP 404; pooch's
    ValueError when ``known_hash`` (``sha256:HEX``) does not match (the file is not kept)."""
    import pooch
    import requests

    pooch.get_logger().setLevel("WARNING")  # our own lines say what is fetched
    logger.info("downloading %s", url)
    capped = ({"downloader": _capped_downloader(max_bytes)}
              if max_bytes is not None and url.startswith(("http://", "https://")) else {})
    try:
        return Path(pooch.retrieve(url, known_hash=known_hash, fname=name,
                                   path=tempfile.mkdtemp(dir=folder), progressbar=True,
                                   **capped))
    except requests.ConnectionError as error:
        raise FetchError(f"cannot download {url}: the host cannot be reached ({_reason(error)}); "
                         f"check the network, or fetch from a mirror, archive or folder with "
                         f"--from") from None
    except requests.HTTPError as error:
        status = None if error.response is None else error.response.status_code
        if status == 404:
            raise RemoteFileMissing(f"{url}: not found (HTTP 404)") from None
        raise FetchError(f"cannot download {url}: HTTP {status}; check the "
                         f"address, or fetch from another mirror with --from") from None
    except requests.RequestException as error:
        raise FetchError(f"the download of {url} was interrupted ({_reason(error)}); nothing "
                         f"was installed: run the fetch again") from None
    except OSError as error:
        raise disk_error(error, folder) from None


def _reason(error: Exception) -> str:
    """The innermost cause of a requests error, in a few words."""
    while error.__context__ is not None and not isinstance(error, (ConnectionRefusedError,
                                                                     TimeoutError)):
        error = error.__context__  # type: ignore[assignment]
    return str(error).split("\n")[0][:160] or type(error).__name__


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """An empty folder in the user cache for one fetch, removed afterwards (also on errors);
    what killed fetches left there over a day ago is removed first."""
    parent = cache_root() / ".partial"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.iterdir():
            if stale.stat().st_mtime < time.time() - 24 * 3600:  # a killed fetch's
                shutil.rmtree(stale, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=parent))
    except OSError as error:
        raise disk_error(error, parent) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def install(staged: Path, target: Path) -> None:
    """Move the complete, verified ``staged`` file or folder to ``target`` in one rename
    (same file system), replacing what was there."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and staged.is_dir():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staged, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, target)
    except OSError as error:
        raise disk_error(error, target.parent) from None
