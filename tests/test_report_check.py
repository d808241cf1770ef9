"""``check_results``: a deliberate regression fails naming its row; unchanged runs pass."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from _report_results import make_results

from mmif_bench.reporting.check import check_results


@pytest.fixture(scope="module")
def results_dir(harvard_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_results(harvard_root, tmp_path_factory.mktemp("check") / "run", per_pair=2)


@pytest.fixture
def baseline(results_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    assert check_results(results_dir, path, 1e-6, update=True) == 0
    return path


def _edit_scores(source: Path, target: Path, edit) -> Path:
    shutil.copytree(source, target)
    edit(pd.read_csv(target / "scores.csv", dtype=str)).to_csv(target / "scores.csv", index=False)
    return target


def _select(scores: pd.DataFrame, method: str, pair: str, metric: str) -> pd.Series:
    return (scores["method"] == method) & (scores["pair"] == pair) & (scores["metric"] == metric)


def test_update_writes_sorted_baseline_with_directions(baseline: Path) -> None:
    document = json.loads(baseline.read_text())
    keys = [(e["method"], e["pair"], e["metric"]) for e in document["entries"]]
    assert keys == sorted(keys) and len(keys) == 2 * 3 * 3
    directions = {e["metric"]: e["higher_is_better"] for e in document["entries"]}
    assert directions == {"EN": True, "SD": True, "ERR": False}
    assert document["dataset"]["hash"] == "d" * 64 and document["profile"] == "default"


def test_unchanged_run_passes(results_dir: Path, baseline: Path, capsys) -> None:
    assert check_results(results_dir, baseline, 1e-6, update=False) == 0
    assert "none worse" in capsys.readouterr().out


@pytest.mark.parametrize("metric,factor", [("SD", 0.95), ("ERR", 1.05)])
def test_regression_fails_and_names_the_row(results_dir: Path, baseline: Path, tmp_path: Path,
                                            capsys, metric: str, factor: float) -> None:
    def worsen(scores: pd.DataFrame) -> pd.DataFrame:
        rows = _select(scores, "max", "MRI-PET", metric)
        scores.loc[rows, "value"] = (scores.loc[rows, "value"].astype(float) * factor).map(repr)
        return scores

    worse = _edit_scores(results_dir, tmp_path / "worse", worsen)
    assert check_results(worse, baseline, 1e-6, update=False) == 1
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    failing = [line for line in lines if line and line[-1] == "worse"]
    assert [line[:3] for line in failing] == [["max", "MRI-PET", metric]]
    # within a 10% relative tolerance the same change passes
    assert check_results(worse, baseline, 0.1, update=False) == 0


def test_improvement_passes(results_dir: Path, baseline: Path, tmp_path: Path) -> None:
    def improve(scores: pd.DataFrame) -> pd.DataFrame:
        rows = _select(scores, "mean", "MRI-CT", "ERR")
        scores.loc[rows, "value"] = (scores.loc[rows, "value"].astype(float) / 2).map(repr)
        return scores

    assert check_results(_edit_scores(results_dir, tmp_path / "better", improve),
                         baseline, 1e-6, update=False) == 0


def test_missing_rows_fail_and_new_rows_are_listed(results_dir: Path, baseline: Path,
                                                   tmp_path: Path, capsys) -> None:
    def drop(scores: pd.DataFrame) -> pd.DataFrame:
        return scores[~_select(scores, "mean", "MRI-SPECT", "EN")]

    gone = _edit_scores(results_dir, tmp_path / "gone", drop)
    assert check_results(gone, baseline, 1e-6, update=False) == 1
    out = capsys.readouterr().out
    assert any(line.split()[:3] == ["mean", "MRI-SPECT", "EN"] and line.split()[-1] == "missing"
               for line in out.splitlines() if line.strip())

    assert check_results(results_dir, baseline, 1e-6, update=False, methods=["max", "nope"]) == 1
    assert "no baseline for method(s) nope" in capsys.readouterr().out

    partial = tmp_path / "partial.json"
    check_results(results_dir, partial, 1e-6, update=True, methods=["mean"])
    assert check_results(results_dir, partial, 1e-6, update=False) == 0
    assert "not in the baseline" in capsys.readouterr().out


def test_missing_baseline_file_is_an_error(results_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--update"):
        check_results(results_dir, tmp_path / "none.json", 1e-6, update=False)


def test_baseline_records_its_metrics_and_check_names_a_different_set(
        results_dir: Path, baseline: Path, tmp_path: Path, capsys) -> None:
    assert json.loads(baseline.read_text())["metrics"] == ["EN", "ERR", "SD"]
    fewer = _edit_scores(results_dir, tmp_path / "fewer",
                         lambda scores: scores[scores["metric"] != "ERR"])
    record = json.loads((fewer / "run.json").read_text())
    del record["metrics"]["ERR"]
    (fewer / "run.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert check_results(fewer, baseline, 1e-6, update=False) == 1
    out = capsys.readouterr().out
    assert "metric set differs from the baseline's (not in the results: ERR)" in out
    assert check_results(results_dir, baseline, 1e-6, update=False) == 0
    assert "metric set differs" not in capsys.readouterr().out
