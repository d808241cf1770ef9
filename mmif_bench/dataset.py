"""Datasets of registered image pairs, and the folder layout every dataset shares.

Layout (that of the Harvard AANLIB collection)::

    ROOT/<A>-<B>/<A>/<name>.png      e.g. ROOT/MRI-CT/MRI/2004.png
    ROOT/<A>-<B>/<B>/<name>.png           ROOT/MRI-CT/CT/2004.png
    ROOT/<A>-<B>/train.txt, test.txt      file names, one per line (optional)

A pair is the two files with the same name in the two modality folders. Problems found
while listing (a missing partner, a split entry without files) are returned, not raised,
so that good pairs still run; problems found when loading raise :class:`ImageError`.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .imageio import ImageError, LoadedImage, not_regular, read_image
from .names import is_component

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
SPLITS = ("train", "test", "all")


@dataclass(frozen=True)
class Problem:
    """A pair or file that was skipped, with the reason and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Pair:
    """One registered image pair; ``a`` is the MRI, ``b`` the other modality."""

    dataset: str
    pair_type: str
    name: str
    path_a: Path
    path_b: Path

    @property
    def modalities(self) -> tuple[str, str]:
        first, _, second = self.pair_type.partition("-")
        return first, second

    @property
    def key(self) -> str:
        return f"{self.pair_type}/{self.name}"

    def load(self) -> tuple[LoadedImage, LoadedImage]:
        """Read both images and check they can be fused (same height and width)."""
        a, b = read_image(self.path_a), read_image(self.path_b)
        check_pair_images(a.pixels, b.pixels, str(self.path_a), str(self.path_b))
        return a, b


def check_pair_images(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise :class:`ImageError` when two images of a pair cannot be fused."""
    if a.shape[:2] != b.shape[:2]:
        raise ImageError(
            f"{name_a} is {a.shape[1]}x{a.shape[0]} but its partner {name_b} is "
            f"{b.shape[1]}x{b.shape[0]}; register/resample the pair to one size"
        )


def content_hash(*arrays: np.ndarray) -> str:
    """sha256 over shapes, dtypes and bytes of the arrays (the cache's input key)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.shape}|{array.dtype}|".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@dataclass
class Listing:
    """The pairs of a dataset split and the problems found while listing them."""

    pairs: list[Pair] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Dataset:
    """A named collection of pairs. Subclasses implement :meth:`list_pairs`."""

    name: str = ""
    description: str = ""

    def list_pairs(self, split: str = "test") -> Listing:
        raise NotImplementedError


def _split_names(pair_dir: Path, split: str, listing: Listing) -> set[str] | None:
    """Names listed for ``split`` in ``pair_dir``, or None meaning 'every file'."""
    if split == "all":
        return None
    split_file = pair_dir / f"{split}.txt"
    if not split_file.is_file():
        if not any((pair_dir / f"{s}.txt").is_file() for s in ("train", "test")):
            listing.notes.append(f"{pair_dir.name}: no train.txt/test.txt, using every pair")
            return None
        listing.problems.append(
            Problem(str(split_file), "split file missing; add it or run with --split all")
        )
        return set()
    return {line.strip() for line in split_file.read_text().splitlines() if line.strip()}


_BAD_NAME = "the name holds control characters (a line break, a tab ...); not read: rename it"


def _regular_files(folder: Path, listing: Listing) -> set[str]:
    """Names of the regular files in ``folder`` (hidden ones left out); anything else that
    is not a folder (a FIFO, a device, a symlink to one, a broken symlink) is a problem,
    never opened."""
    names = set()
    for path in folder.iterdir():
        if path.name.startswith(".") or path.is_dir():
            continue
        if not is_component(path.stem):
            listing.problems.append(Problem(str(path), _BAD_NAME))
            continue
        reason = not_regular(path)
        if reason:
            listing.problems.append(Problem(str(path), f"{reason}; not read: remove it or "
                                                       f"replace it with the image file"))
        else:
            names.add(path.name)
    return names


def _colliding(pair_dir: Path, names: set[str], listing: Listing) -> set[str]:
    """File names whose stem another file of the pair type shares (``a.png``, ``a.tif``):
    a pair is keyed by its stem, so all of them are skipped, each named."""
    by_stem: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_stem[Path(name).stem].append(name)
    clashes = {stem: sorted(group) for stem, group in by_stem.items() if len(group) > 1}
    for stem, group in sorted(clashes.items()):
        listing.problems.append(Problem(str(pair_dir / stem), (
            f"{' and '.join(group)} share the image name {stem!r} (pairs are named without "
            f"the extension); all are skipped: rename or remove all but one")))
    return {name for group in clashes.values() for name in group}


class FolderDataset(Dataset):
    """Any folder laid out as described in this module's docstring."""

    def __init__(self, root: str | Path, name: str | None = None, description: str = "") -> None:
        self.root = Path(root).expanduser()
        self.name = name or self.root.name
        self.description = description or f"image pairs under {self.root}"

    def _pair_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"dataset folder {self.root} does not exist; pass --data-root/--dataset "
                f"with a folder laid out as <A>-<B>/<A>/*.png, <A>-<B>/<B>/*.png"
            )
        return sorted(p for p in self.root.iterdir() if p.is_dir() and "-" in p.name
                      and not p.name.startswith("."))

    def list_pairs(self, split: str = "test") -> Listing:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        listing = Listing()
        for pair_dir in self._pair_dirs():
            if not is_component(pair_dir.name):
                listing.problems.append(Problem(str(pair_dir), _BAD_NAME))
                continue
            first, _, second = pair_dir.name.partition("-")
            dir_a, dir_b = pair_dir / first, pair_dir / second
            if not (dir_a.is_dir() and dir_b.is_dir()):
                listing.problems.append(Problem(
                    str(pair_dir), f"expected sub-folders {first}/ and {second}/; rename them "
                                   f"after the pair folder's name"))
                continue
            wanted = _split_names(pair_dir, split, listing)
            files_a, files_b = _regular_files(dir_a, listing), _regular_files(dir_b, listing)
            for stray in sorted(n for n in files_a | files_b if Path(n).suffix.lower() not in IMAGE_SUFFIXES):
                listing.notes.append(f"{pair_dir.name}: ignored non-image file {stray}")
            names = {n for n in files_a | files_b if Path(n).suffix.lower() in IMAGE_SUFFIXES}
            if wanted is not None:
                for missing in sorted(wanted - names):
                    listing.problems.append(Problem(
                        str(pair_dir / missing), f"listed in {split}.txt but present in neither "
                                                 f"{first}/ nor {second}/; fix the split file"))
                names &= wanted
            names -= _colliding(pair_dir, names, listing)
            for file_name in sorted(names):
                if file_name not in files_a:
                    listing.problems.append(Problem(
                        str(dir_b / file_name), f"partner {dir_a / file_name} is missing; add it "
                                                f"or remove the file"))
                elif file_name not in files_b:
                    listing.problems.append(Problem(
                        str(dir_a / file_name), f"partner {dir_b / file_name} is missing; add it "
                                                f"or remove the file"))
                else:
                    listing.pairs.append(Pair(self.name, pair_dir.name, Path(file_name).stem,
                                              dir_a / file_name, dir_b / file_name))
        if not listing.pairs and not listing.problems:
            listing.problems.append(Problem(
                str(self.root), f"no image pairs found for split {split!r}; expected "
                                f"<A>-<B>/<A>/*.png and <A>-<B>/<B>/*.png"))
        return listing
