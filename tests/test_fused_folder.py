"""Scoring a folder of fused images made elsewhere (``--fused NAME=DIR``), as a user runs it."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from metrics_reference import evaluate_plain
from PIL import Image

from mmif_bench.imageio import gray_of, read_image, write_png
from mmif_bench.runner import EXIT_PARTIAL, RunConfig, run


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmif_bench", *args], cwd=cwd,
                          env=dict(os.environ), capture_output=True, text=True)


def _scores(out: Path, method: str) -> dict[tuple[str, str, str], float]:
    with open(out / "scores.csv", newline="") as handle:
        return {(r["pair"], r["image"], r["metric"]): float(r["value"])
                for r in csv.DictReader(handle) if r["method"] == method}


def _sources(root: Path, pair: str, image: str) -> tuple[np.ndarray, np.ndarray]:
    second = pair.split("-")[1]
    return (gray_of(read_image(root / pair / "MRI" / f"{image}.png").pixels),
            gray_of(read_image(root / pair / second / f"{image}.png").pixels))


def test_fused_folder_gets_the_plain_reference_scores(small_harvard, tmp_path) -> None:
    """Max-fused gray PNGs made outside mmif-bench score as the field's evaluator scores them."""
    folder = tmp_path / "mine"
    names = {}
    for pair_dir in sorted(p for p in small_harvard.iterdir() if p.is_dir()):
        for image in (pair_dir / "test.txt").read_text().split():
            a, b = _sources(small_harvard, pair_dir.name, Path(image).stem)
            write_png(folder / pair_dir.name / image, np.maximum(a, b))
            names[(pair_dir.name, Path(image).stem)] = np.maximum(a, b)
    result = _cli(["run", "--dataset", "harvard", "--data-root", str(small_harvard), "--split",
                   "test", "--methods", "mean", "--fused", f"mine={folder}", "--out", "out",
                   "--no-report"], tmp_path)
    assert result.returncode == 0, result.stderr
    ours = _scores(tmp_path / "out", "mine")
    assert len(ours) == 6 * 13 and _scores(tmp_path / "out", "mean")
    for (pair, image), fused in names.items():
        a, b = _sources(small_harvard, pair, image)
        for metric, expected in evaluate_plain(*(x.astype(np.float64) for x in (fused, a, b))).items():
            assert ours[(pair, image, metric)] == pytest.approx(expected, rel=1e-9, abs=1e-12), \
                (pair, image, metric)
    provenance = json.loads((tmp_path / "out" / "run.json").read_text())["methods"]["mine"]
    assert provenance["provenance"]["files"] == 6 and provenance["provenance"]["extra_files"] == []
    assert str(tmp_path) not in json.dumps(provenance)  # no machine paths


@pytest.fixture()
def phantom_folder(tmp_path) -> Path:
    """A copy of the fused images of ``max`` on phantom, as another environment would give."""
    run(RunConfig(dataset="phantom", split="test", methods=["max"], metrics=["EN"],
                  out=tmp_path / "made", report=False))
    folder = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "made" / "fused" / "max", folder)
    return folder


@pytest.mark.slow
def test_folder_problems_are_named_and_jpeg_is_noted(phantom_folder, tmp_path) -> None:
    ct, pet, spect = (sorted((phantom_folder / p).glob("*.png")) for p in
                      ("MRI-CT", "MRI-PET", "MRI-SPECT"))
    ct[0].unlink()                                                     # missing
    Image.open(ct[1]).resize((128, 128)).save(ct[1])                   # wrong size
    Image.open(pet[0]).convert("RGB").save(pet[0].with_suffix(".jpg"), quality=90)
    pet[0].unlink()                                                    # lossy JPEG
    sixteen = (np.asarray(Image.open(spect[0])).astype(np.uint16) * 257)
    Image.fromarray(sixteen[..., 0] if sixteen.ndim == 3 else sixteen).save(spect[1])
    (phantom_folder / "README.txt").write_text("made with MATLAB")    # extra files
    write_png(phantom_folder / "MRI-CT" / "999.png", np.zeros((8, 8), np.uint8))
    out = tmp_path / "out"
    summary = run(RunConfig(dataset="phantom", split="test", methods=["mean"], metrics=["EN"],
                            fused={"mine": phantom_folder}, out=out))
    assert summary.exit_code == EXIT_PARTIAL
    messages = {f["image"]: f["message"] for f in summary.failures if f["method"] == "mine"}
    assert set(messages) == {ct[0].stem, ct[1].stem}
    assert "no fused image" in messages[ct[0].stem] and ct[0].name in messages[ct[0].stem]
    assert f"{ct[1].name} is 128x128 but the sources are 256x256" in messages[ct[1].stem]
    info = json.loads((out / "run.json").read_text())["methods"]["mine"]
    assert info["provenance"]["files"] == 7 and info["provenance"]["lossy_jpeg"] == 1
    assert info["provenance"]["extra_files"] == ["MRI-CT/999.png", "README.txt"]
    assert any("16-bit image mapped to 8 bit" in note for note in info["notes"])
    assert "1 of 4 images are lossy JPEG" in (out / "leaderboard.md").read_text()
    assert len(_scores(out, "mine")) == 4
    again = run(RunConfig(dataset="phantom", split="test", methods=["mean"], metrics=["EN"],
                          fused={"mine": phantom_folder}, out=out, report=False))
    assert (again.scored_now, again.scored_cached) == (0, 6 + 4)  # cached by content
    write_png(spect[0], np.zeros((256, 256), np.uint8))
    edited = run(RunConfig(dataset="phantom", split="test", methods=["mean"], metrics=["EN"],
                           fused={"mine": phantom_folder}, out=out, report=False))
    assert edited.scored_now == 1 and _scores(out, "mine")[("MRI-SPECT", spect[0].stem, "EN")] == 0


@pytest.mark.parametrize("fused, message", [
    (["mine=no/such/folder"], "folder not found"),
    (["mean={folder}"], "is also a method of the run"),
    (["mine"], "must look like NAME=DIR"),
    (["mine={out}/fused"], "never written into input folders"),
])
@pytest.mark.slow
def test_bad_fused_folders_exit_2_before_any_work(fused, message, phantom_folder, tmp_path) -> None:
    args = ["run", "--dataset", "phantom", "--methods", "mean", "--out", str(tmp_path / "o")]
    for item in fused:
        args += ["--fused", item.format(folder=phantom_folder, out=tmp_path / "o")]
    (tmp_path / "o" / "fused").mkdir(parents=True)
    result = _cli(args, tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "o" / "scores.csv").exists()


def test_readme_fused_command_scores_a_folder_like_the_method_that_made_it(
        repo_root, small_harvard, tmp_path) -> None:
    readme = (repo_root / "README.md").read_text()
    command = next(line for line in readme.splitlines()
                   if line.startswith("mmif-bench run") and "--fused" in line)
    made = _cli(["run", "--dataset", "harvard", "--data-root", str(small_harvard), "--methods",
                 "max", "--metrics", "EN", "--out", "made", "--no-report"], tmp_path)
    assert made.returncode == 0, made.stderr
    folder = command.split("--fused mine=", 1)[1].split()[0]
    shutil.copytree(tmp_path / "made" / "fused" / "max", tmp_path / folder)
    env = dict(os.environ, MMIF_BENCH_DATA=str(small_harvard))
    result = subprocess.run([sys.executable, "-m", "mmif_bench", *command.split()[1:]],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    mine, max_ = _scores(tmp_path / "results", "mine"), _scores(tmp_path / "results", "max")
    assert len(mine) == 6 * 13 and mine == max_
    assert "| mine |" in (tmp_path / "results" / "leaderboard.md").read_text()
