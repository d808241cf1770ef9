"""``mmif_bench.evaluate`` means what the benchmark means: for images as users hold them it
returns the runner's numbers (same quantisation, same luma)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mmif_bench
from mmif_bench.colour import split_source
from mmif_bench.evaluation import score_255
from mmif_bench.imageio import read_image

SECOND = {"MRI-CT": "CT", "MRI-PET": "PET", "MRI-SPECT": "SPECT"}


def _cli_scores(small_harvard: Path, tmp_path: Path, method: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "mmif_bench", "run", "--dataset", "harvard",
                             "--data-root", str(small_harvard), "--methods", method, "--out",
                             "out", "--no-report"], cwd=tmp_path, env=dict(os.environ),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    scores: dict = {}
    with open(tmp_path / "out" / "scores.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            scores.setdefault((row["pair"], row["image"]), {})[row["metric"]] = float(row["value"])
    return scores


def test_evaluate_equals_the_cli_on_harvard_pairs_of_all_three_types(small_harvard, tmp_path) -> None:
    """dwt gives non-integer fused luma; PET/SPECT results get their chroma back."""
    cli = _cli_scores(small_harvard, tmp_path, "dwt")
    assert {pair for pair, _ in cli} == set(SECOND)
    method = mmif_bench.create_method("dwt")
    for (pair, image), expected in cli.items():
        a = read_image(small_harvard / pair / "MRI" / f"{image}.png").pixels
        b = read_image(small_harvard / pair / SECOND[pair] / f"{image}.png").pixels
        assert (b.ndim == 3) == (pair != "MRI-CT")
        fused = method.fuse(split_source(a)[0], split_source(b)[0])  # the method's output
        saved = read_image(tmp_path / "out" / "fused" / "dwt" / pair / f"{image}.png").pixels
        as_held = {"float luma, uint8 sources": mmif_bench.evaluate(fused, a, b),
                   "float luma, float sources": mmif_bench.evaluate(fused, a / 255, b / 255),
                   "saved 8-bit image": mmif_bench.evaluate(saved, a, b)}
        for form, ours in as_held.items():
            assert ours == expected, (pair, image, form)  # bit for bit


def test_evaluate_rounds_like_the_saved_image_and_score_255_does_not() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((64, 64)), rng.random((64, 64))
    fused = (0.3 * a + 0.7 * b).astype(np.float32)
    a8, b8 = np.round(a * 255).astype(np.uint8), np.round(b * 255).astype(np.uint8)
    saved = np.round(fused.astype(np.float64) * 255)
    ours = mmif_bench.evaluate(fused, a8, b8, metrics=["MI", "EN"])
    assert ours == score_255(saved, a8, b8, metrics=["MI", "EN"])
    assert ours["MI"] < score_255(fused * 255.0, a8, b8, metrics=["MI"])["MI"] - 1


@pytest.mark.parametrize("fused, message", [
    (np.full((8, 8), 2.0), "outside \\[0, 1\\]"),
    (np.zeros((8, 9)), "expected \\(8, 8\\)"),
    (np.zeros((8, 8), np.int32), "pass uint8 or float in \\[0, 1\\]"),
])
def test_evaluate_names_what_is_wrong(fused, message) -> None:
    a = np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match=message):
        mmif_bench.evaluate(fused, a, a, metrics=["EN"])
    with pytest.raises(ValueError, match="float outside"):
        mmif_bench.evaluate(np.zeros((8, 8)), a * 1.0 + 3, a, metrics=["EN"])


def test_evaluate_names_nan_sources() -> None:
    a = np.zeros((8, 8))
    a[3, 3] = np.nan
    with pytest.raises(ValueError, match="^a holds NaN or Inf; pass uint8 or float"):
        mmif_bench.evaluate(np.zeros((8, 8)), a, np.zeros((8, 8)), metrics=["EN"])


def test_the_readme_python_example_runs_as_written(repo_root, harvard_root, monkeypatch) -> None:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = text.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    fusing = block.split("result = ", 1)[0]  # up to the full run
    monkeypatch.setenv("MMIF_BENCH_DATA", str(harvard_root))
    monkeypatch.chdir(harvard_root.parent)  # the example names its files from the dataset
    namespace: dict = {}
    exec(compile(fusing, "README.md", "exec"), namespace)
    assert set(namespace["scores"]) == {mmif_bench.get_metric(k).name
                                        for k in mmif_bench.registry.default_metrics()}
