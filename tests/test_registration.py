"""Run-time registration, timm style: decorators on classes and functions, Metric objects,
and objects that worker processes cannot import."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mmif_bench
from mmif_bench import registry

TESTS = Path(__file__).resolve().parent


def _rows(out: Path, method: str) -> dict[tuple[str, str, str], str]:
    with open(out / "scores.csv", newline="") as handle:
        return {(r["pair"], r["image"], r["metric"]): r["value"]
                for r in csv.DictReader(handle) if r["method"] == method}


@pytest.mark.slow
def test_decorators_register_classes_functions_and_metrics(tmp_path) -> None:
    @mmif_bench.register_method
    class Darkest(mmif_bench.Method):
        name = "darkest"

        def fuse(self, a, b):
            return np.minimum(a, b)

    @mmif_bench.register_method(name="as_max")
    def brightest(a, b):
        return np.maximum(a, b)

    @mmif_bench.register("methods")
    def average(a, b, *, modality=None):
        return (a + b) / 2

    mean_f = mmif_bench.register_metric(mmif_bench.Metric(
        "MEAN_F", lambda F, A, B: F.reshape(len(F), -1).mean(axis=1), higher_is_better=True,
        needs_sources=False, reference="test"))
    assert isinstance(mean_f, mmif_bench.Metric) and brightest(np.ones(1), np.zeros(1)) == 1
    assert {"darkest", "as_max", "average"} <= set(mmif_bench.list_methods())
    assert "MEAN_F" in mmif_bench.list_metrics()
    summary = mmif_bench.run(dataset="phantom", methods=["darkest", "as_max", "max", "average"],
                             metrics=["EN", "MEAN_F"], out=tmp_path / "o", report=False)
    assert summary.exit_code == 0
    assert _rows(tmp_path / "o", "as_max") == _rows(tmp_path / "o", "max")  # same function
    assert _rows(tmp_path / "o", "darkest") != _rows(tmp_path / "o", "max")
    assert len(_rows(tmp_path / "o", "average")) == 12
    with pytest.raises(TypeError, match="takes an mmif_bench.Metric"):
        mmif_bench.register_metric(lambda F, A, B: F)


def test_registrations_made_in_a_test_are_undone_after_it() -> None:
    with registry.isolated_registrations():  # what conftest wraps around every test
        mmif_bench.register_method(lambda a, b: np.minimum(a, b), name="darkest")
        mmif_bench.register_metric(mmif_bench.Metric(
            "MEAN_F", lambda F, A, B: F.reshape(len(F), -1).mean(axis=1),
            higher_is_better=True, needs_sources=False, reference="test"))
        assert "darkest" in mmif_bench.list_methods() and "MEAN_F" in mmif_bench.list_metrics()
    assert "darkest" not in mmif_bench.list_methods()
    assert "MEAN_F" not in mmif_bench.list_metrics()


@pytest.mark.slow
def test_importable_function_method_runs_in_worker_processes(tmp_path) -> None:
    from plain_methods import brightest

    mmif_bench.register_method(brightest)
    spec = registry.method_spec("brightest")
    assert spec.value == "plain_methods:brightest" and not spec.in_process
    summary = mmif_bench.run(dataset="phantom", methods=["brightest", "max"], metrics=["EN"],
                             out=tmp_path / "o", report=False, jobs=2)
    assert summary.exit_code == 0
    assert _rows(tmp_path / "o", "brightest") == _rows(tmp_path / "o", "max")


SCRIPT = """
import numpy as np, mmif_bench

class Geo(mmif_bench.Method):
    name = "geo"
    def fuse(self, a, b):
        return np.sqrt(a * b).astype(np.float32)

mmif_bench.register_method(Geo)
summary = mmif_bench.run(dataset="phantom", methods=["geo", "mean"], metrics=["EN"],
                         out="out", report=False, jobs=2)
raise SystemExit(summary.exit_code)
"""


@pytest.mark.slow
def test_class_defined_in_python_c_runs_in_process_with_jobs_2(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    note = result.stderr.index("method geo is defined where worker processes cannot import it")
    assert note < result.stderr.index("dataset: phantom")  # said before any work
    assert len(_rows(tmp_path / "out", "geo")) == 6 and len(_rows(tmp_path / "out", "mean")) == 6


def _readme_block(repo_root: Path, section: str, language: str, needle: str) -> str:
    readme = (repo_root / "README.md").read_text()
    text = readme.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return next(block for block in text.split(f"```{language}\n")[1:]
                if needle in block.split("```")[0]).split("```")[0]


@pytest.mark.slow
def test_readme_decorator_example_runs_as_a_script(repo_root, tmp_path) -> None:
    script = _readme_block(repo_root, "Score your own method", "python", "register_method")
    assert len([line for line in script.splitlines() if line.strip()]) == 5  # the short form
    (tmp_path / "mine.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if k != "MMIF_BENCH_DATA"}
    env["MMIF_BENCH_CACHE"] = str(tmp_path / "cache")  # no fetched Harvard copy: phantom
    result = subprocess.run([sys.executable, "mine.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    geomean = _rows(tmp_path / "results", "geomean")
    assert len(geomean) == 6 * 3 and geomean != _rows(tmp_path / "results", "mean")
    assert (tmp_path / "results" / "leaderboard.md").is_file()
