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


@pytest.mark.slow
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
@pytest.mark.slow
def test_usage_errors_exit_2_with_a_hint(args, message, tmp_path) -> None:
    result = _run(args, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_method_options_are_typed() -> None:
    parsed = parse_method_options(["dwt:levels=2", "dwt:wavelet=db4", "gff:eps1=0.5"])
    assert parsed == {"dwt": {"levels": 2, "wavelet": "db4"}, "gff": {"eps1": 0.5}}
    assert type(parsed["dwt"]["levels"]) is int and type(parsed["gff"]["eps1"]) is float
    with pytest.raises(ValueError, match="has no option"):
        parse_method_options(["mean:x=1"])
    with pytest.raises(ValueError, match=r"method 'dwt' option 'levels': 'abc' is not of type int"):
        parse_method_options(["dwt:levels=abc"])


@pytest.mark.parametrize("args, message", [
    (["-o", "dwt:levels=abc"], "method 'dwt' option 'levels': 'abc' is not of type int "
                               "(e.g. -o dwt:levels=3)"),
    (["-o", "dwt:wavelet=nope"], "method 'dwt' cannot start with options {'wavelet': 'nope'}"),
    (["-o", "gff:r1=2"], "options are set for gff, which the run does not include"),
    (["--metrics", "ssim"], "did you mean SSIM"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    (["--timeout", "-1"], "--timeout must be a positive number of seconds, got -1.0"),
])
@pytest.mark.slow
def test_configuration_errors_exit_2_before_any_work(args, message, tmp_path) -> None:
    result = _run(["run", "--dataset", "phantom", "--methods", "dwt", "--out", "o", *args],
                  tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "dataset: phantom" not in result.stderr  # no pair was listed
    assert not (tmp_path / "o").exists()


def test_data_root_alone_selects_harvard(small_harvard, tmp_path) -> None:
    result = _run(["run", "--data-root", str(small_harvard), "--methods", "mean", "--metrics",
                   "EN", "--out", "o", "--no-report"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dataset: harvard" in result.stderr and "6 pairs listed" in result.stderr


@pytest.mark.slow
def test_train_help_lists_the_methods_that_train(tmp_path) -> None:
    result = _run(["train", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: mmif-bench train METHOD" in result.stdout and "dmfnet" in result.stdout
    assert _run(["train"], tmp_path).returncode == 2


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


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["vifb", "tang", "liu", "mefb"])
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
