"""Methods that cannot run everywhere: missing weights (a default run leaves them out, naming
them is a configuration error) and pairs a method has no model for ("not applicable")."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from partial_methods import CTOnly, NeedsWeights

import mmif_bench
from mmif_bench.cli import main
from mmif_bench.registry import unregister
from mmif_bench.runner import EXIT_OK, RunConfig, configure, run
from mmif_bench.scores import read_scores
from mmif_bench.weights import MissingWeightsError


@pytest.fixture
def no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No weights anywhere: an empty $MMIF_BENCH_WEIGHTS and an empty fetched store."""
    env = {"MMIF_BENCH_WEIGHTS": str(tmp_path / "no-weights"),
           "MMIF_BENCH_CACHE": str(tmp_path / "cache")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def registered() -> Iterator[None]:
    for method in (NeedsWeights, CTOnly):
        mmif_bench.register("methods", method)
    yield
    for method in (NeedsWeights, CTOnly):
        unregister("methods", method.name)


@pytest.mark.slow
def test_a_default_run_leaves_out_methods_without_weights(no_weights, registered) -> None:
    plan = configure(RunConfig(dataset="phantom"))
    names = [method.name for method in plan.methods]
    assert {"ifcnn", "needs_weights"} <= set(plan.not_run) and not set(plan.not_run) & set(names)
    assert {"mean", "ct_only"} <= set(names)
    [message] = plan.not_run["ifcnn"]
    assert "IFCNN-MAX.pth" in message and "run 'mmif-bench fetch weights ifcnn'" in message
    assert os.environ["MMIF_BENCH_CACHE"] not in message  # it goes into run.json
    given = configure(RunConfig(dataset="phantom", methods=["needs_weights"],
                                method_options={"needs_weights": {"weights": __file__}}))
    assert [method.name for method in given.methods] == ["needs_weights"]  # a given file counts


@pytest.mark.slow
def test_naming_a_method_without_weights_is_a_configuration_error(no_weights, tmp_path) -> None:
    with pytest.raises(MissingWeightsError, match="mmif-bench fetch weights ifcnn"):
        configure(RunConfig(dataset="phantom", methods=["mean", "ifcnn"]))
    result = subprocess.run([sys.executable, "-m", "mmif_bench", "run", "--methods", "mean,ifcnn",
                             "--out", "T"], cwd=tmp_path, env=dict(os.environ, **no_weights),
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "IFCNN-MAX.pth" in result.stderr and "mmif-bench fetch weights ifcnn" in result.stderr
    assert not (tmp_path / "T").exists()  # refused before any work


def test_list_marks_methods_whose_weights_are_missing(no_weights, capsys) -> None:
    assert main(["list", "methods"]) == 0
    lines = {line.split()[0].rstrip(":"): line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "[weights missing: run 'mmif-bench fetch weights ifcnn']" in lines["ifcnn"]
    assert "weights missing" not in lines["mean"]


@pytest.mark.slow
def test_pairs_without_a_model_are_not_applicable_not_failures(registered, tmp_path) -> None:
    out = tmp_path / "T"
    summary = run(RunConfig(dataset="phantom", methods=["ct_only", "mean"], metrics=["EN"],
                            out=out))
    assert summary.exit_code == EXIT_OK and not summary.failures
    record = json.loads((out / "run.json").read_text())
    assert record["not_applicable"] == {"ct_only": ["MRI-PET", "MRI-SPECT"]}
    assert {(s.method, s.pair) for s in read_scores(out / "scores.csv")} == {
        ("ct_only", "MRI-CT"), ("mean", "MRI-CT"), ("mean", "MRI-PET"), ("mean", "MRI-SPECT")}
    assert not (out / "fused" / "ct_only" / "MRI-PET").exists()
    board = (out / "leaderboard.md").read_text()
    assert "| ct_only | n/a | n/a | n/a |" in board.split("## MRI-SPECT")[1]
