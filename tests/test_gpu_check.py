"""benchmarks/gpu_check.sh (issue 14) end to end on CPU with the ``tiny`` preset: speed
rows for both precisions and batch sizes, a fitted training run, the test split scored,
one JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_dmfnet import write_dataset


@pytest.mark.slow
def test_gpu_check_runs_tiny_on_cpu(repo_root: Path, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", size=48, pairs=2)  # VIF needs 41 px
    out = tmp_path / "check"
    env = {**os.environ, "MMIF_BENCH_DATA": str(data), "PYTHON": sys.executable,
           "OMP_NUM_THREADS": "1", "MMIF_BENCH_CACHE": str(tmp_path / "cache")}
    subprocess.run([str(repo_root / "benchmarks" / "gpu_check.sh"), str(out),
                    "--preset", "tiny", "--speed-preset", "tiny", "--speed-repeats", "1",
                    "--size", "32", "--fuse-batch", "2", "--train-budget-s", "1",
                    "--baselines", "mean,max", "--device", "cpu"],
                   check=True, env=env, timeout=300, capture_output=True)
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["device"] == "cpu"
    for stage in ("stage1", "stage2"):
        assert set(report["steps_per_s"][stage]) == {"fp32", "bf16"}
        assert report["train"][stage]["steps"] >= 2
    assert set(report["fused_pairs_per_s"]) == {"batch1", "batch2"}
    assert all(v > 0 for rates in report["fused_pairs_per_s"].values() for v in rates.values())
    ranks = report["test_split"]["mean_rank"]
    assert set(ranks) == {"dmfnet", "mean", "max"} and set(ranks["dmfnet"]) == {"MRI-CT",
                                                                               "MRI-PET"}
    assert set(report["test_split"]["means"]["dmfnet"]["MRI-CT"]) == {
        "EN", "SD", "MI", "SSIM", "Qabf", "VIF"}
