"""The command line as a user runs it, and the README/CI contract."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmif_bench.cli import main, parse_method_options


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmif_bench", *args], cwd=cwd,
                          env=dict(os.environ, **env), capture_output=True, text=True)


def test_list_shows_plugins(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("mean", "max", "harvard", "phantom", "EN ↑"):
        assert name in out


def test_run_harvard_writes_results(harvard_root, tmp_path) -> None:
    result = _run(["run", "--dataset", "harvard", "--data-root", str(harvard_root), "--split",
                   "test", "--methods", "mean,max", "--metrics", "EN,SD", "--out", "T"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dataset: harvard" in result.stderr and "72 pairs" in result.stderr
    for name in ("scores.csv", "run.json", "leaderboard.md", "leaderboard.csv"):
        assert (tmp_path / "T" / name).is_file(), name
    assert len((tmp_path / "T" / "scores.csv").read_text().splitlines()) == 1 + 72 * 2 * 2


def test_run_without_data_uses_phantom_and_says_so(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MMIF_BENCH_DATA"}
    result = subprocess.run([sys.executable, "-m", "mmif_bench", "run", "--methods", "mean",
                             "--metrics", "EN", "--no-report"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "dataset: phantom" in result.stderr
    assert (tmp_path / "results" / "scores.csv").is_file()


@pytest.mark.parametrize("args, message", [
    (["run", "--methods", "meen"], "did you mean mean"),
    (["run", "--metrics", "SDD", "--methods", "mean"], "did you mean SD"),
    (["run", "--dataset", "harvad"], "did you mean harvard"),
    (["run", "-o", "mean"], "METHOD:KEY=VALUE"),
    (["run", "--dataset", "harvard", "--data-root", "no/such/dir"], "does not exist"),
])
def test_usage_errors_exit_2_with_a_hint(args, message, tmp_path) -> None:
    result = _run(args, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_method_options_are_typed() -> None:
    assert parse_method_options([]) == {}
    with pytest.raises(ValueError, match="has no option"):
        parse_method_options(["mean:x=1"])


def test_readme_setup_is_two_commands_that_need_no_local_copies(repo_root) -> None:
    readme = (repo_root / "README.md").read_text()
    setup = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", setup, flags=re.S)
    assert len(blocks) == 2 and all("\n" not in block for block in blocks)
    assert blocks[0].endswith("pip install -e . && mmif-bench run")
    assert not any("shared" in block or "MMIF_BENCH" in block for block in blocks)
    ci = (repo_root / ".ci" / "run").read_text()
    for variable, folder in (("DATA", "datasets/harvard"), ("WEIGHTS", "weights")):
        assert f'export MMIF_BENCH_{variable}="$PWD/../shared/{folder}"' in ci


def test_ci_runs_exactly_the_readme_test_command(repo_root) -> None:
    readme = (repo_root / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    test_command = next(b for b in blocks if "pytest" in b and "[test]" in b).strip()
    ci = (repo_root / ".ci" / "run").read_text()
    assert "python3 -m venv .venv" in ci
    ci_command = test_command.split("python3 -m venv .venv && ", 1)[1]
    assert ci_command in ci.splitlines()


@pytest.mark.parametrize("profile", ["vifb", "tang"])
def test_run_with_a_profile_scores_its_metric_set(profile, tmp_path) -> None:
    import json

    import mmif_bench

    out = tmp_path / profile
    assert main(["run", "--dataset", "phantom", "--methods", "mean", "--profile", profile,
                 "--out", str(out), "--no-report"]) == 0
    expected = {mmif_bench.get_metric(key).name for key in mmif_bench.list_metrics(profile)}
    scored = {line.split(",")[4] for line in (out / "scores.csv").read_text().splitlines()[1:]}
    assert scored == expected and len(expected) >= 12
    assert json.loads((out / "run.json").read_text())["profile"] == profile
