"""``mmif-bench check`` never passes on nothing: a baseline or tolerance that cannot guard
anything exits 2 with one line naming the problem; exit 1 means only "worse" (issue 26)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _report_results import make_wide_results

from mmif_bench.cli import main


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wide_results(tmp_path_factory.mktemp("check-hostile") / "run", images=2)


@pytest.fixture(scope="module")
def good_baseline(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    assert main(["check", "--results", str(results_dir), "--baseline", str(path),
                 "--update"]) == 0
    return json.loads(path.read_text())


def _check(results_dir: Path, baseline: Path, *extra: str) -> int:
    return main(["check", "--results", str(results_dir), "--baseline", str(baseline), *extra])


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mmif-bench: error:"), err
    return err[0]


@pytest.mark.parametrize("entries", [None, [], {}], ids=["null", "list", "object"])
def test_baseline_without_entries_is_a_usage_error(results_dir, good_baseline, tmp_path,
                                                   capsys, entries) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({**good_baseline, "entries": entries}))
    assert _check(results_dir, path) == 2
    assert "no entries" in _one_error_line(capsys)


def test_non_finite_means_are_a_usage_error(results_dir, good_baseline, tmp_path,
                                            capsys) -> None:
    entries = [{**e, "mean": math.nan} for e in good_baseline["entries"]]
    path = tmp_path / "nan.json"
    path.write_text(json.dumps({**good_baseline, "entries": entries}))  # writes NaN
    assert _check(results_dir, path) == 2
    assert "entry 0 mean nan is not a finite number" in _one_error_line(capsys)


@pytest.mark.parametrize("mean", ["7.5", None, True, "Infinity"])
def test_a_mean_that_is_not_a_number_is_a_usage_error(results_dir, good_baseline, tmp_path,
                                                      capsys, mean) -> None:
    entries = [dict(e) for e in good_baseline["entries"]]
    entries[3]["mean"] = float(mean) if mean == "Infinity" else mean
    path = tmp_path / "bad-mean.json"
    path.write_text(json.dumps({**good_baseline, "entries": entries}))
    assert _check(results_dir, path) == 2
    assert "entry 3 mean" in _one_error_line(capsys)


@pytest.mark.parametrize("tolerance", ["nan", "inf", "-inf", "-1", "1e309"])
def test_tolerance_must_be_finite_and_non_negative(results_dir, good_baseline, tmp_path,
                                                   capsys, tolerance) -> None:
    # every mean got much worse: a tolerance that waves this through must be refused
    entries = [{**e, "mean": (e["mean"] + 1e6) if e["higher_is_better"] else (e["mean"] - 1e6)}
               for e in good_baseline["entries"]]
    path = tmp_path / "worse.json"
    path.write_text(json.dumps({**good_baseline, "entries": entries}))
    assert _check(results_dir, path, f"--tolerance={tolerance}") == 2
    assert "--tolerance must be a finite number >= 0" in _one_error_line(capsys)
    assert _check(results_dir, path, "--tolerance", "0") == 1  # and it really is worse


@pytest.mark.parametrize("text", ["[]", '"baseline"', "{not json", "\xff\xfe",
                                  '{"format": "mmif-bench-baseline/1", "entries": [[1, 2]]}',
                                  '{"format": "mmif-bench-baseline/1", "entries": [{"mean": 1}]}',
                                  '{"entries": [{"method": "a"}]}'],
                         ids=["list", "string", "truncated", "binary", "entry-list",
                              "entry-keys", "no-format"])
def test_malformed_baseline_is_a_usage_error_not_worse(results_dir, tmp_path, capsys,
                                                       text) -> None:
    path = tmp_path / "malformed.json"
    path.write_bytes(text.encode("latin-1"))
    assert _check(results_dir, path) == 2
    assert str(path) in _one_error_line(capsys)


def test_duplicate_entries_are_refused(results_dir, good_baseline, tmp_path, capsys) -> None:
    entries = good_baseline["entries"]
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({**good_baseline, "entries": entries + entries[:1]}))
    assert _check(results_dir, path) == 2
    assert "twice" in _one_error_line(capsys)


def test_only_worse_exits_1(results_dir, good_baseline, tmp_path, capsys) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(good_baseline))
    assert _check(results_dir, path) == 0
    entries = [dict(e) for e in good_baseline["entries"]]
    entries[0]["mean"] += 100.0 if entries[0]["higher_is_better"] else -100.0
    path.write_text(json.dumps({**good_baseline, "entries": entries}))
    assert _check(results_dir, path) == 1
    assert "got worse" in capsys.readouterr().out
