"""The Harvard Whole Brain Atlas (AANLIB) pairs used by most medical fusion papers.

810 registered 256x256 pairs (MRI-CT 184, MRI-PET 269, MRI-SPECT 357) with train/test
splits of 24 test pairs per pair type. The root comes from ``--data-root``,
``$MMIF_BENCH_DATA`` or the copy ``mmif-bench fetch harvard`` installed, in that order.

:func:`fetch` installs the pairs from the public repository
xianming-gu/Havard-Medical-Image-Fusion-Datasets at a pinned commit (its archive holds
``CT-MRI/{CT,MRI}``, ``PET-MRI/{MRI,PET}``, ``SPECT-MRI/{MRI,SPECT}``), checks every image
against the shipped manifest (``harvard_manifest.csv``: file, split, size, sha256) and
writes the split lists from it.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from mmif_bench.config import fetched_dataset
from mmif_bench.dataset import FolderDataset
from mmif_bench.download import FetchError, disk_error, download, install, is_url, scratch_folder

logger = logging.getLogger(__name__)

REPOSITORY = "xianming-gu/Havard-Medical-Image-Fusion-Datasets"
COMMIT = "984d169e8abd01baa130db3c5b9be3ba80191c1f"
ARCHIVE_URL = f"https://github.com/{REPOSITORY}/archive/{COMMIT}.zip"


DATA_ENV = "MMIF_BENCH_DATA"


def configured_root(explicit: str | Path | None = None) -> Path | None:
    """The Harvard data root, in order: ``--data-root``, ``$MMIF_BENCH_DATA``, the copy
    ``mmif-bench fetch harvard`` installed; None when there is none."""
    value = explicit or os.environ.get(DATA_ENV)
    if value:
        return Path(value).expanduser()
    fetched = fetched_dataset("harvard")
    return fetched if fetched.is_dir() else None


def harvard(data_root: str | Path | None = None) -> FolderDataset:
    """Harvard AANLIB registered brain pairs, MRI-CT/PET/SPECT (the default when found).

    The root is ``data_root``, else :func:`configured_root`; FileNotFoundError naming how
    to get the pairs when there is none."""
    root = configured_root(data_root)
    if root is None:
        raise FileNotFoundError(
            f"the harvard dataset is not here: run 'mmif-bench fetch harvard', or pass "
            f"--data-root DIR or set {DATA_ENV} to a folder holding MRI-CT/, MRI-PET/ and MRI-SPECT/"
        )
    return FolderDataset(root, name="harvard",
                         description="Harvard AANLIB registered brain pairs (MRI-CT/PET/SPECT)")


@dataclass(frozen=True)
class Image:
    """One manifest row: ``file`` in our layout (``MRI-CT/CT/2004.png``)."""

    file: str
    split: str
    bytes: int
    sha256: str

    @property
    def published_as(self) -> str:
        """The file's path in the authors' repository (``CT-MRI/CT/2004.png``)."""
        pair, rest = self.file.split("/", 1)
        first, second = pair.split("-", 1)
        return f"{second}-{first}/{rest}"


def manifest() -> list[Image]:
    """Every image of the dataset, from the shipped ``harvard_manifest.csv``."""
    text = resources.files(__package__).joinpath("harvard_manifest.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [Image(r["file"], r["split"], int(r["bytes"]), r["sha256"]) for r in rows]


Reader = Callable[[Image], bytes]


@contextmanager
def open_source(source: str, scratch: Path) -> Iterator[Reader]:
    """A reader of manifest images from ``source``: a URL or a local file of a zip archive
    (the repository's, or a zip of either layout), or a folder of either layout."""
    if is_url(source):
        source = str(download(source, scratch, "harvard.zip"))
    path = Path(source).expanduser()
    if path.is_dir():
        def read_file(image: Image) -> bytes:
            for name in (image.published_as, image.file):
                if (path / name).is_file():
                    _check_size(f"{path}: {name}", (path / name).stat().st_size, image)
                    return (path / name).read_bytes()
            raise FetchError(f"{path}: {image.published_as} (or {image.file}) is missing: not "
                             f"a copy of {REPOSITORY}; nothing was installed")
        yield read_file
        return
    if not path.is_file():
        raise FetchError(f"--from {source}: no such file or folder")
    if not zipfile.is_zipfile(path):
        raise FetchError(f"{source} is not a zip archive (a truncated download?); nothing "
                         f"was installed: fetch again")
    with zipfile.ZipFile(path) as archive:
        members = {}
        for info in archive.infolist():
            members[info.filename] = info
            members.setdefault(info.filename.split("/", 1)[-1], info)  # without the top folder

        def read_member(image: Image) -> bytes:
            info = members.get(image.published_as) or members.get(image.file)
            if info is None:
                raise FetchError(f"{source}: {image.published_as} is not in the archive: not "
                                 f"{REPOSITORY} @ {COMMIT[:7]}; nothing was installed")
            _check_size(f"{source}: {info.filename}", info.file_size, image)
            try:  # zipfile stops at the size checked above, whatever the data holds
                return archive.read(info)
            except (zipfile.BadZipFile, EOFError) as error:
                raise FetchError(f"{source}: {info.filename} cannot be read ({error}): the archive "
                                 f"is damaged; nothing was installed: fetch again") from None
        yield read_member


def _check_size(where: str, size: int, image: Image) -> None:
    """A FetchError, before anything is read or decompressed, when a file or archive member
    is not the size the manifest gives its image."""
    if size != image.bytes:
        raise FetchError(f"{where} is {size} bytes, the manifest's {image.published_as} is "
                         f"{image.bytes}: refused unread, nothing was installed; fetch again or "
                         f"from another mirror with --from")


def stage(read: Reader, images: list[Image], folder: Path, source: str) -> None:
    """Write every image, checked against its sha256, and the split lists into ``folder``."""
    try:
        for image in tqdm(images, desc="verifying", unit="image", disable=None):
            data = read(image)
            digest = hashlib.sha256(data).hexdigest()
            if digest != image.sha256:
                raise FetchError(f"{source}: {image.published_as} does not match the manifest "
                                 f"(sha256 {digest[:16]}..., expected {image.sha256[:16]}...): "
                                 f"refused, nothing was installed; fetch again or from another "
                                 f"mirror with --from")
            target = folder / image.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for pair in sorted({image.file.split("/")[0] for image in images}):
            for split in ("train", "test"):
                names = sorted(Path(i.file).name for i in images
                               if i.file.startswith(f"{pair}/{pair.split('-')[0]}/") and i.split == split)
                (folder / pair / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))
    except OSError as error:
        raise disk_error(error, folder) from None


def fetch(source: str | None = None, force: bool = False,
          images: list[Image] | None = None) -> Path:
    """Install the Harvard pairs into the user cache (:func:`mmif_bench.config.fetched_dataset`)
    from ``source`` (default: the repository's archive on GitHub); returns the folder.

    All or nothing: the images are verified in a scratch folder that replaces the
    installed copy in one rename. ``images`` (default: the shipped manifest) is what the
    source must hold."""
    target = fetched_dataset("harvard")
    if target.is_dir() and not force:
        logger.info("harvard is already fetched: %s (--force fetches it again)", target)
        return target
    images = manifest() if images is None else images
    source = source or ARCHIVE_URL
    with scratch_folder() as scratch:
        staged = scratch / "harvard"
        with open_source(source, scratch) as read:
            stage(read, images, staged, source)
        install(staged, target)
    logger.info("harvard: %d images (%.1f MB) verified and installed in %s", len(images),
                sum(i.bytes for i in images) / 1e6, target)
    return target


harvard.fetch = fetch  # type: ignore[attr-defined]  # what 'mmif-bench fetch harvard' calls
harvard.default = True  # type: ignore[attr-defined]  # what a run uses when its data is here
