"""A small built-in synthetic dataset so that mmif-bench runs on a machine with no data.

MRI-, CT-, PET- and SPECT-like renderings of scikit-image's Shepp-Logan phantom: MRI shows
soft-tissue contrast with texture, CT a bright skull and flat tissue, PET/SPECT smooth
"uptake" blobs rendered through a pseudo-colour map. Images are 256x256 (large enough for
every metric window), generated
deterministically and written once to ``phantom-v2`` in the user cache
(:func:`mmif_bench.config.cache_root`). Numbers on it say nothing about real fusion quality.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from scipy import ndimage
from skimage.data import shepp_logan_phantom
from skimage.transform import resize, rotate

from mmif_bench.config import cache_root
from mmif_bench.dataset import FolderDataset
from mmif_bench.imageio import write_png

SIZE = 256
PAIRS_PER_TYPE = 6  # names 0..5; 0-3 train, 4-5 test
VERSION = "phantom-v2"




def _base(index: int) -> np.ndarray:
    image = resize(shepp_logan_phantom(), (SIZE, SIZE), order=1, anti_aliasing=True)
    return rotate(image, angle=7.0 * index - 17.0, order=1, mode="constant")


def _mri(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    texture = ndimage.gaussian_filter(rng.standard_normal(base.shape), 1.5)
    image = base ** 0.7 + 0.06 * texture * (base > 0.05)
    return np.clip(image, 0, 1)


def _ct(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    skull = (base > 0.9).astype(float)
    tissue = 0.25 * (base > 0.05)
    return np.clip(ndimage.gaussian_filter(skull + tissue, 0.6)
                   + 0.01 * rng.standard_normal(base.shape), 0, 1)


def _functional(base: np.ndarray, rng: np.random.Generator, cmap: str) -> np.ndarray:
    uptake = np.zeros_like(base)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    for _ in range(3):
        cy, cx = rng.uniform(0.3, 0.7, size=2) * SIZE
        uptake += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (SIZE / 10) ** 2))
    uptake = ndimage.gaussian_filter(uptake * (base > 0.05), 2.0)
    uptake /= uptake.max() or 1.0
    return colormaps[cmap](uptake)[..., :3]


def _write(root: Path) -> None:
    rng = np.random.default_rng(20250607)
    for pair_type, other in (("MRI-CT", "CT"), ("MRI-PET", "PET"), ("MRI-SPECT", "SPECT")):
        folder = root / pair_type
        for index in range(PAIRS_PER_TYPE):
            base = _base(index)
            a = _mri(base, rng)
            if other == "CT":
                b = _ct(base, rng)
            else:
                b = _functional(base, rng, "hot" if other == "PET" else "jet")
            write_png(folder / "MRI" / f"{index}.png", np.round(a * 255).astype(np.uint8))
            write_png(folder / other / f"{index}.png", np.round(b * 255).astype(np.uint8))
        (folder / "train.txt").write_text("".join(f"{i}.png\n" for i in range(4)))
        (folder / "test.txt").write_text("".join(f"{i}.png\n" for i in range(4, PAIRS_PER_TYPE)))
    (root / "COMPLETE").write_text("ok\n")


def phantom(data_root: str | Path | None = None) -> FolderDataset:
    """Synthetic Shepp-Logan phantom pairs, built in (the fallback; ``data_root`` is
    ignored)."""
    root = cache_root() / VERSION
    if not (root / "COMPLETE").is_file():
        _write(root)
    return FolderDataset(root, name="phantom",
                         description="synthetic Shepp-Logan phantom pairs (no real data)")


phantom.fallback = True  # type: ignore[attr-defined]  # a run's dataset when the default has no data
