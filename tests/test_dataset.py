"""Dataset layout, validation messages naming the file, and conversion rules."""
from __future__ import annotations

import numpy as np
import pytest
from bad_inputs import GOOD, build_bad_dataset
from PIL import Image

import mmif_bench
from mmif_bench.dataset import FolderDataset
from mmif_bench.imageio import ImageError, read_image


def test_harvard_splits(harvard_root) -> None:
    dataset = mmif_bench.create_dataset("harvard", harvard_root)
    test = dataset.list_pairs("test")
    train = dataset.list_pairs("train")
    assert len(test.pairs) == 72 and not test.problems
    assert len(train.pairs) == 160 + 245 + 333
    assert not {p.key for p in test.pairs} & {p.key for p in train.pairs}
    assert {p.pair_type for p in test.pairs} == {"MRI-CT", "MRI-PET", "MRI-SPECT"}
    assert len(dataset.list_pairs("all").pairs) == 810


def test_harvard_needs_a_root(monkeypatch) -> None:
    monkeypatch.delenv("MMIF_BENCH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="MMIF_BENCH_DATA"):
        mmif_bench.create_dataset("harvard")


def test_phantom_is_built_in() -> None:
    listing = mmif_bench.create_dataset("phantom").list_pairs("test")
    assert len(listing.pairs) == 6 and not listing.problems
    a, b = listing.pairs[-1].load()
    assert a.pixels.ndim == 2 and b.pixels.ndim == 3  # MRI gray, SPECT pseudo-colour


def test_listing_reports_partner_and_stray_files(harvard_root, tmp_path) -> None:
    build_bad_dataset(harvard_root, tmp_path)
    listing = FolderDataset(tmp_path).list_pairs("all")
    names = {p.name for p in listing.pairs}
    assert set(GOOD) <= names and "no_partner" not in names
    (problem,) = [p for p in listing.problems if "no_partner" in p.where]
    assert "CT/no_partner.png is missing" in problem.message
    assert any("notes.txt" in n for n in listing.notes)


@pytest.mark.parametrize("stem, message", [
    ("size_mismatch", "64x64 but its partner"),
    ("zero_byte", "zero-byte file"),
    ("truncated", "not a readable image"),
    ("not_image", "not a readable image"),
])
def test_load_errors_name_the_file(harvard_root, tmp_path, stem, message) -> None:
    build_bad_dataset(harvard_root, tmp_path)
    (pair,) = [p for p in FolderDataset(tmp_path).list_pairs("all").pairs if p.name == stem]
    with pytest.raises(ImageError, match=message) as info:
        pair.load()
    assert f"{stem}.png" in str(info.value)


def test_conversion_rules(tmp_path) -> None:
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "a.png")
    loaded = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(loaded.pixels, gray)
    assert "16-bit" in loaded.notes[0]
    Image.fromarray(np.dstack([gray] * 3 + [gray])).save(tmp_path / "b.png")
    loaded = read_image(tmp_path / "b.png")
    assert loaded.pixels.ndim == 2 and "alpha channel dropped" in loaded.notes[0]
    Image.fromarray(gray.astype(np.float32) / 255.0, mode="F").save(tmp_path / "c.tiff")
    np.testing.assert_array_equal(read_image(tmp_path / "c.tiff").pixels, gray)
    Image.fromarray(np.full((4, 4), np.nan, np.float32), mode="F").save(tmp_path / "d.tiff")
    with pytest.raises(ImageError, match="NaN"):
        read_image(tmp_path / "d.tiff")


def test_empty_dataset_is_a_problem(tmp_path) -> None:
    (tmp_path / "MRI-CT" / "MRI").mkdir(parents=True)
    (tmp_path / "MRI-CT" / "CT").mkdir()
    listing = FolderDataset(tmp_path).list_pairs("test")
    assert not listing.pairs and "no image pairs found" in listing.problems[0].message


def test_missing_folder_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FolderDataset(tmp_path / "nope").list_pairs("test")
