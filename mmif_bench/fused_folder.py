"""Scoring fused images made elsewhere (``mmif-bench run --fused NAME=DIR``).

``DIR`` is laid out as a run's ``OUT/fused/<method>/`` is: ``<pair>/<image>.<ext>`` (e.g.
``MRI-PET/25015.png``), with ``ext`` one of png, jpg/jpeg, tif/tiff, bmp. Images are read
by the stated rules of :mod:`mmif_bench.imageio` (16-bit, alpha, palette ... are converted
and noted) and scored exactly as a method's saved result: the luma of the 8-bit image. A
missing image, one of the wrong size or an unreadable one is a failure for its pair;
files that match no pair of the run are named; lossy JPEG inputs are noted. The folder's
content hash and file count are the method's provenance; scores are cached by content.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset import IMAGE_SUFFIXES, Pair
from .fsutil import atomic_write_bytes
from .imageio import ImageError, encode_png, not_regular, read_image
from .names import check_name
from .run_record import MethodRecord, empty_method_record
from .scores import fused_image_path

LOSSY_SUFFIXES = {".jpg", ".jpeg"}
SHOWN_EXTRAS = 5  # extra files named in the log; run.json lists them all


@dataclass
class FusedFolder:
    """A folder of fused images scored as method ``name``."""

    name: str
    root: Path
    refresh: bool = False
    record: MethodRecord = field(default_factory=lambda: empty_method_record())
    """Its entry in ``run.json``'s methods, once read (:func:`read_fused_folder`)."""

    def files(self) -> list[Path]:
        """Every file under the folder (hidden ones left out), relative to it, sorted."""
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [Path(folder, n).relative_to(self.root) for n in names
                      if not n.startswith(".")]
        return sorted(found)


def parse_fused(items: list[str]) -> dict[str, Path]:
    """``["mine=DIR", ...]`` to ``{"mine": Path("DIR")}``; errors name the item."""
    parsed: dict[str, Path] = {}
    for item in items:
        name, eq, folder = item.partition("=")
        if not (eq and name.strip() and folder.strip()):
            raise ValueError(f"--fused {item!r} must look like NAME=DIR")
        name = check_name("--fused", name.strip())
        if name in parsed:
            raise ValueError(f"--fused names {name!r} twice")
        parsed[name] = Path(folder.strip()).expanduser()
    return parsed


def check_fused_folder(name: str, root: Path, out: Path, methods: list[str]) -> None:
    """Raise ValueError when ``--fused name=root`` cannot be used with this run."""
    check_name("--fused", name)
    if name in methods:
        raise ValueError(f"--fused {name}={root}: {name!r} is also a method of the run; "
                         f"give the folder another name")
    if not root.is_dir():
        raise FileNotFoundError(f"--fused {name}={root}: folder not found; it should hold "
                                f"<pair>/<image>.png, as OUT/fused/<method>/ does")
    written, source = fused_image_path(out, name, "x", "x").parents[1].resolve(), root.resolve()
    if written == source or source in written.parents or written in source.parents:
        raise ValueError(f"--fused {name}={root}: the run writes {written}, inside or around "
                         f"that folder; results are never written into input folders: choose "
                         f"another --out or NAME")


def _content_hash(root: Path, files: list[Path]) -> str:
    """sha256 over the regular files' names and contents (others are never opened)."""
    digest = hashlib.sha256()
    for relative in files:
        if not_regular(root / relative):
            digest.update(f"{relative.as_posix()}\x1f-\x1e".encode())
            continue
        digest.update(f"{relative.as_posix()}\x1f".encode())
        digest.update(hashlib.sha256((root / relative).read_bytes()).digest())
    return digest.hexdigest()


def _pair_key(relative: Path) -> str | None:
    """``<pair>/<image>`` of an image file laid out as ``<pair>/<image>.<ext>``."""
    if len(relative.parts) != 2 or relative.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    return f"{relative.parts[0]}/{relative.stem}"


def _read_one(folder: FusedFolder, pair: Pair, found: list[Path],
              shape: tuple[int, int]) -> tuple[np.ndarray | str, list[str]]:
    """The pair's image (uint8 pixels) and its conversion notes, or a failure message."""
    if len(found) != 1:
        if found:
            return f"{len(found)} fused images for one pair: {', '.join(map(str, found))}; " \
                   f"keep one", []
        return (f"no fused image {folder.root / pair.pair_type / pair.name}.png (or .jpg, "
                f".tif, .bmp) in --fused {folder.name}"), []
    path = folder.root / found[0]
    try:
        image = read_image(path)
    except ImageError as error:
        return str(error), []
    height, width = image.pixels.shape[:2]
    if (height, width) != shape:
        return (f"{path} is {width}x{height} but the sources are {shape[1]}x{shape[0]}; "
                f"save the fused image at the sources' size"), []
    return image.pixels, [f"{pair.pair_type}/{note}" for note in image.notes]


def read_fused_folder(folder: FusedFolder, pairs: list[Pair], shapes: dict[str, tuple[int, int]],
                      out: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The folder's images as saved-PNG bytes per pair key, and failures per pair key.

    Each image is also written to ``OUT/fused/<name>/`` (for the reports); ``folder.record``
    gets the provenance (file count, content hash, lossy inputs, extra files) and notes.
    """
    files = folder.files()
    by_pair: dict[str, list[Path]] = {}
    for relative in files:
        key = _pair_key(relative)
        if key:
            by_pair.setdefault(key, []).append(relative)
    wanted = {pair.key for pair in pairs}
    images: dict[str, bytes] = {}
    failures: dict[str, str] = {}
    notes: list[str] = []
    for pair in pairs:
        found = by_pair.get(pair.key, [])
        pixels, image_notes = _read_one(folder, pair, found, shapes[pair.key])
        if isinstance(pixels, str):
            failures[pair.key] = pixels
            continue
        notes += image_notes
        images[pair.key] = png = encode_png(pixels)
        target = fused_image_path(out, folder.name, pair.pair_type, pair.name)
        if not target.is_file() or target.read_bytes() != png:
            atomic_write_bytes(target, png)
    irregular = [f"{r.as_posix()} ({reason})" for r in files
                 if (reason := not_regular(folder.root / r)) and _pair_key(r) not in wanted]
    if irregular:
        notes.append(f"{len(irregular)} entries are not regular files and were not read: "
                     f"{', '.join(irregular[:SHOWN_EXTRAS])}")
    lossy = sum(by_pair[key][0].suffix.lower() in LOSSY_SUFFIXES for key in images)
    if lossy:
        notes.insert(0, f"{lossy} of {len(images)} images are lossy JPEG: their scores include "
                        f"its compression artefacts")
    digest = _content_hash(folder.root, files)
    folder.record = {
        "options": {}, "weights": {}, "fingerprint": digest, "deterministic": True,
        "bibtex": "", "notes": notes, "provenance": {
            "kind": "fused folder", "folder": folder.root.resolve().name,
            "files": len(files), "content_sha256": digest, "lossy_jpeg": lossy,
            "extra_files": [str(r) for r in files if _pair_key(r) not in wanted]}}
    return images, failures
