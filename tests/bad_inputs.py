"""Builds a dataset folder holding every kind of bad input next to good pairs."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

GOOD = ("16009", "16010")  # MRI-CT test pairs of the Harvard data


def _save(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def build_bad_dataset(harvard_root: Path, root: Path) -> dict[str, str]:
    """Write the folder; returns {case: file name stem} for the bad cases."""
    ct = root / "MRI-CT"
    for name in GOOD:
        for modality in ("MRI", "CT"):
            (ct / modality).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(harvard_root / "MRI-CT" / modality / f"{name}.png",
                            ct / modality / f"{name}.png")
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    cases = {}

    def pair(stem: str, a: np.ndarray | None, b: np.ndarray | None) -> None:
        if a is not None:
            _save(ct / "MRI" / f"{stem}.png", a)
        if b is not None:
            _save(ct / "CT" / f"{stem}.png", b)

    pair("size_mismatch", gray, gray[:32])
    cases["size"] = "size_mismatch"
    pair("no_partner", gray, None)
    cases["partner"] = "no_partner"
    pair("zero_byte", None, gray)
    (ct / "MRI" / "zero_byte.png").write_bytes(b"")
    cases["zero"] = "zero_byte"
    data = (ct / "MRI" / f"{GOOD[0]}.png").read_bytes()
    pair("truncated", None, gray)
    (ct / "MRI" / "truncated.png").write_bytes(data[: len(data) // 3])
    cases["truncated"] = "truncated"
    pair("not_image", None, gray)
    (ct / "MRI" / "not_image.png").write_text("hello, I am text\n")
    cases["not_image"] = "not_image"
    pair("tiny", gray[:4, :4], gray[:4, :4])
    cases["tiny"] = "tiny"
    # convertible inputs: they run, with a stated conversion rule
    sixteen = (gray.astype(np.uint16) * 257)
    _save(ct / "MRI" / "sixteen_bit.png", sixteen)
    _save(ct / "CT" / "sixteen_bit.png", gray)
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    _save(ct / "MRI" / "rgba.png", rgba, "RGBA")
    _save(ct / "CT" / "rgba.png", gray)
    palette = Image.fromarray(gray).convert("P")
    palette.save(ct / "MRI" / "palette.png")
    _save(ct / "CT" / "palette.png", gray)
    (ct / "CT" / ".DS_Store").write_bytes(b"\0\1")
    (ct / "MRI" / "notes.txt").write_text("stray file\n")
    return cases
