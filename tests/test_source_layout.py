"""Honest datasets: the Harvard source repository's layout (``CT-MRI/{CT,MRI}``) is read
with the MRI first, and a dataset without split files is named as what it is."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import mmif_bench
from mmif_bench.runner import EXIT_OK, RunConfig, run


def _source_layout(root: Path, target: Path) -> Path:
    """A copy of a dataset in the source repository's layout: ``<X>-MRI/{<X>,MRI}``, no
    split files (as in its GitHub archive)."""
    for pair_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        mri, other = pair_dir.name.split("-", 1)
        for modality in (mri, other):
            shutil.copytree(pair_dir / modality, target / f"{other}-{mri}" / modality)
    return target


def test_source_layout_is_read_mri_first(harvard_root, tmp_path) -> None:
    copy = _source_layout(harvard_root, tmp_path / "Havard-Medical-Image-Fusion-Datasets")
    listing = mmif_bench.create_dataset("harvard", copy).list_pairs("test")
    assert len(listing.pairs) == 810 and not listing.problems
    assert {p.pair_type for p in listing.pairs} == {"MRI-CT", "MRI-PET", "MRI-SPECT"}
    assert all(p.path_a.parent.name == "MRI" for p in listing.pairs)
    assert all(p.path_b.parent.name == p.pair_type.split("-")[1] for p in listing.pairs)
    assert listing.split == "all 810 pairs (no split files)"
    assert any("CT-MRI: read as pair type MRI-CT" in note for note in listing.notes)


def test_run_without_split_files_never_says_split_test(tmp_path, caplog) -> None:
    copy = _source_layout(mmif_bench.create_dataset("phantom").root, tmp_path / "src")
    out = tmp_path / "T"
    with caplog.at_level("INFO", logger="mmif_bench"):
        result = run(RunConfig(dataset=str(copy), methods=["mean"], metrics=["EN"], out=out))
    assert result.exit_code == EXIT_OK
    label = "all 18 pairs (no split files)"
    assert json.loads((out / "run.json").read_text())["dataset"]["split"] == label
    assert {p["pair_type"] for p in result.record["pairs"]} == {"MRI-CT", "MRI-PET",
                                                                "MRI-SPECT"}
    assert all(p["file_a"].split("/")[1] == "MRI" for p in result.record["pairs"])
    assert label in caplog.text and "split test" not in caplog.text
    for report in ("leaderboard.md", "leaderboard.html", "leaderboard.tex"):
        text = (out / report).read_text()
        assert label in text and "split `test`" not in text and "test split" not in text
