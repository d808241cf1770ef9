"""Leaderboard tables and statistics on a small fabricated results folder."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _report_results import make_results

from mmif_bench.reporting import write_report
from mmif_bench.reporting.results import load_results
from mmif_bench.reporting.stats import bootstrap_ci, holm, paired_wilcoxon, summarize


@pytest.fixture(scope="module")
def results_dir(harvard_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = make_results(harvard_root, tmp_path_factory.mktemp("results") / "run", per_pair=6)
    write_report(out)
    return out


def test_holm_matches_hand_computation() -> None:
    adjusted = holm(np.array([0.01, 0.04, np.nan, 0.03]))
    assert np.allclose(adjusted[[0, 1, 3]], [0.03, 0.06, 0.06])
    assert math.isnan(adjusted[2])


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = np.arange(20, dtype=float)
    low, high = bootstrap_ci(values)
    assert (low, high) == bootstrap_ci(values)
    assert low < values.mean() < high


def test_wilcoxon_of_identical_samples_is_one() -> None:
    x = np.array([1.0, 2.0, 3.0])
    assert paired_wilcoxon(x, x) == 1.0


def test_summary_respects_metric_direction(results_dir: Path) -> None:
    summary = summarize(load_results(results_dir))
    for (pair, metric), cell in summary.groupby(["pair", "metric"]):
        best = cell.loc[cell["best"], "mean"].iloc[0]
        expected = cell["mean"].min() if metric == "ERR" else cell["mean"].max()
        assert best == expected, (pair, metric)
        assert cell["n"].eq(6).all()
        assert (cell["ci_low"] <= cell["mean"]).all() and (cell["mean"] <= cell["ci_high"]).all()


def test_markdown_marks_best_and_names_the_run(results_dir: Path) -> None:
    text = (results_dir / "leaderboard.md").read_text()
    assert "metric profile **default**" in text and "split `test`" in text
    assert "| Method | EN ↑ | SD ↑ | ERR ↓ | Mean rank ↓ | Failures |" in text
    for pair in ("MRI-CT", "MRI-PET", "MRI-SPECT"):
        assert f"## {pair} (6 images)" in text
    assert text.count("**") >= 2 * 3 * 4 and "<u>" in text
    assert "`MRI-CT/9999.png`: missing partner" in text


def test_csv_is_long_form_with_provenance(results_dir: Path) -> None:
    frame = pd.read_csv(results_dir / "leaderboard.csv")
    assert len(frame) == 3 * 2 * 3
    assert {"mean", "ci_low", "ci_high", "p_holm", "mean_rank", "failures",
            "dataset_hash", "profile", "software_version", "fingerprint"} <= set(frame.columns)


def test_failures_are_counted_per_pair(results_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(results_dir, copy)
    run = load_results(copy).run
    run["failures"] = [{"method": "max", "pair": "MRI-PET", "image": "x", "message": "boom"}]
    (copy / "run.json").write_text(json.dumps(run))
    write_report(copy)
    text = (copy / "leaderboard.md").read_text()
    assert "- max on MRI-PET/x: boom" in text
    frame = pd.read_csv(copy / "leaderboard.csv")
    assert frame.set_index(["method", "pair"])["failures"].groupby(level=[0, 1]).first().to_dict() == {
        ("max", "MRI-CT"): 0, ("max", "MRI-PET"): 1, ("max", "MRI-SPECT"): 0,
        ("mean", "MRI-CT"): 0, ("mean", "MRI-PET"): 0, ("mean", "MRI-SPECT"): 0}


def test_report_is_byte_identical_across_runs(results_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in write_report(results_dir)}
    after = {p.name: p.read_bytes() for p in write_report(results_dir)}
    assert before == after
