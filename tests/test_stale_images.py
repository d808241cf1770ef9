"""A results folder describes the run that wrote it: an earlier run's fused images and
figures that this run did not write are removed when that run recorded them, other files
are named and kept, and input folders are never touched."""
from __future__ import annotations

import json
from pathlib import Path

from mmif_bench.cli import main
from mmif_bench.runner import EXIT_OK


def _run(out: Path, *args: str) -> None:
    code = main(["-q", "run", "--dataset", "phantom", "--metrics", "EN", "--out", str(out),
                 *args])
    assert code == EXIT_OK


def _images(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.png")}


def _recorded(out: Path) -> set[str]:
    """Every fused image run.json says its run wrote: method/pair type/image.png."""
    record = json.loads((out / "run.json").read_text())
    return {f"{m}/{p['pair_type']}/{p['image']}.png" for m in record["methods"]
            for p in record["pairs"]}


def test_fewer_methods_remove_the_earlier_methods_images(tmp_path, caplog) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean,max,pca")
    assert {p.name for p in (out / "fused").iterdir()} == {"mean", "max", "pca"}
    mine = out / "fused" / "notes" / "mine.png"  # not written by any run: never removed
    mine.parent.mkdir()
    mine.write_bytes(b"not ours")
    (out / "fused" / "README.txt").write_text("mine too")
    with caplog.at_level("INFO", logger="mmif_bench"):
        _run(out, "--methods", "mean")
    assert _images(out / "fused") == _recorded(out) | {"notes/mine.png"}
    assert not (out / "fused" / "max").exists() and not (out / "fused" / "pca").exists()
    assert mine.read_bytes() == b"not ours"
    assert (out / "fused" / "README.txt").read_text() == "mine too"
    assert "removed 12 fused images of an earlier run" in caplog.text
    assert "(max, pca)" in caplog.text
    assert "2 files in" in caplog.text and "fused/notes/mine.png" in caplog.text


def test_a_smaller_split_removes_the_other_pairs_images(tmp_path) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean", "--split", "all")
    assert len(_images(out / "fused")) == 18
    _run(out, "--methods", "mean", "--split", "test")
    assert _images(out / "fused") == _recorded(out) and len(_recorded(out)) == 6


def test_a_fused_input_folder_inside_out_is_never_removed(tmp_path) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean,max")
    before = _images(out / "fused" / "max")
    _run(out, "--methods", "mean", "--fused", f"mine={out / 'fused' / 'max'}")
    assert _images(out / "fused" / "max") == before and len(before) == 6
    assert _images(out / "fused" / "mine") == before


def test_without_a_readable_record_nothing_is_removed(tmp_path, caplog) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean,max")
    (out / "run.json").write_text("{not json")
    with caplog.at_level("INFO", logger="mmif_bench"):
        _run(out, "--methods", "mean")
    assert len(_images(out / "fused" / "max")) == 6
    assert "is not a run record this mmif-bench reads" in caplog.text
    assert "6 files in" in caplog.text and "left in place" in caplog.text


def test_figures_of_metrics_no_longer_scored_are_removed(tmp_path) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean,max", "--metrics", "EN,SSIM")
    figures = out / "figures"
    assert (figures / "bar_SSIM.png").is_file() and (figures / "box_SSIM.png").is_file()
    (figures / "my_plot.png").write_bytes(b"mine")
    _run(out, "--methods", "mean,max")
    names = {p.name for p in figures.iterdir()}
    assert "bar_SSIM.png" not in names and "box_SSIM.png" not in names
    assert {"bar_EN.png", "box_EN.png", "my_plot.png"} <= names


def test_a_run_without_report_says_the_leaderboard_is_an_earlier_runs(tmp_path, caplog) -> None:
    out = tmp_path / "T"
    _run(out, "--methods", "mean,max")
    with caplog.at_level("WARNING", logger="mmif_bench"):
        _run(out, "--methods", "mean", "--no-report")
    assert "leaderboard files in" in caplog.text and "an earlier run's" in caplog.text
    assert f"mmif-bench report --results {out}" in caplog.text
