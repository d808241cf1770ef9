"""Two configurations of one method on one board: ``--methods X,NAME=X -o NAME:KEY=V``."""
from __future__ import annotations

import json

import pytest

from mmif_bench.cli import main
from mmif_bench.runner import EXIT_OK, RunConfig, run
from mmif_bench.scores import read_scores


def test_alias_runs_a_second_configuration_with_its_own_options(tmp_path) -> None:
    out = tmp_path / "T"
    code = main(["-q", "run", "--dataset", "phantom", "--methods", "dwt,dwt-db4=dwt",
                 "-o", "dwt-db4:wavelet=db4", "--metrics", "EN,SSIM", "--out", str(out)])
    assert code == EXIT_OK
    methods = json.loads((out / "run.json").read_text())["methods"]
    assert methods["dwt"]["method"] == "dwt" and methods["dwt-db4"]["method"] == "dwt"
    assert methods["dwt-db4"]["options"]["wavelet"] == "db4"
    assert methods["dwt"]["options"]["wavelet"] != "db4"
    assert methods["dwt"]["fingerprint"] != methods["dwt-db4"]["fingerprint"]
    assert methods["dwt-db4"]["provenance"]["label"] == "dwt-db4"
    assert methods["dwt-db4"]["provenance"]["detail"].startswith("dwt with wavelet=db4;")
    scores = read_scores(out / "scores.csv")
    assert {s.method for s in scores} == {"dwt", "dwt-db4"}
    assert (out / "fused" / "dwt-db4").is_dir()
    board = (out / "leaderboard.md").read_text()
    assert "dwt-db4" in board and "wavelet=db4" in board


@pytest.mark.parametrize("jobs", [1, 2])
def test_alias_in_the_python_api(tmp_path, jobs) -> None:
    result = run(RunConfig(dataset="phantom", methods=["mean", "avg=mean"], metrics=["EN"],
                           out=tmp_path / "T", report=False, jobs=jobs))
    assert result.exit_code == EXIT_OK and result.fused_now == 12
    assert set(result.record["methods"]) == {"mean", "avg"}
    assert result.record["methods"]["avg"]["method"] == "mean"
    by_method = result.scores.groupby("method")["value"].sum()
    assert by_method["mean"] == by_method["avg"]


@pytest.mark.parametrize("methods, message", [
    (["mean", "../x=mean"], "not allowed"),
    (["mean", "mean=max"], "named twice"),
    (["avg="], "NAME=METHOD"),
])
def test_bad_aliases_are_refused(tmp_path, methods, message) -> None:
    with pytest.raises(ValueError, match=message):
        run(RunConfig(dataset="phantom", methods=methods, out=tmp_path / "T", report=False))


def test_alias_of_unknown_method_suggests(tmp_path) -> None:
    with pytest.raises(KeyError, match="maen|mean"):
        run(RunConfig(dataset="phantom", methods=["avg=maen"], out=tmp_path / "T",
                      report=False))
