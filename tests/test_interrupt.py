"""A run killed with SIGKILL at several points resumes to output identical to a clean run."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import without_measured_times

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import sys
import mmif_bench
from failing_methods import Slow
mmif_bench.register("methods", Slow)
from mmif_bench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", SCRIPT, "run", "--dataset", str(data), "--methods", "slow,mean",
            "--option", "slow:delay=0.4", "--metrics", "EN,SD,SF", "--out", str(out)]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


def _wait_for_files(folder: Path, count: int, process: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if folder.is_dir() and sum(1 for _ in folder.rglob("*.png")) >= count:
            return
        time.sleep(0.02)


def test_sigkill_then_resume_matches_uninterrupted_run(small_harvard, tmp_path) -> None:
    clean = tmp_path / "clean"
    subprocess.run(_command(small_harvard, clean), env=_env(), check=True, capture_output=True)
    out = tmp_path / "killed"
    for count in (1, 3, 5):  # kill after 1, 3 and 5 fused images of the slow method
        process = subprocess.Popen(_command(small_harvard, out), env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_files(out / "fused" / "slow", count, process)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (out / "scores.csv").exists()
    final = subprocess.run(_command(small_harvard, out), env=_env(), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    cached = int(re.search(r"fused \d+ \(cached (\d+)\)", final.stderr).group(1))
    assert cached >= 5  # the work finished before the kills was not redone
    for name in ("scores.csv", "leaderboard.md", "leaderboard.csv"):  # timings: resumed pairs
        assert without_measured_times(out / name) == without_measured_times(clean / name), name
    for image in (clean / "fused").rglob("*.png"):
        assert (out / image.relative_to(clean)).read_bytes() == image.read_bytes()
