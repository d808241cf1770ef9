"""``mmif-bench train dmfnet`` refuses bad arguments and bad checkpoints in one line
(issue 26): --steps must be positive, --resume needs a checkpoint, a corrupt or untrusted
checkpoint is named and refused (never with advice to load it with weights_only=False)."""
from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest


def _train(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmif_bench", "train", "dmfnet", *args],
                          cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=600)


def _one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    return lines[-1]


@pytest.mark.slow
@pytest.mark.parametrize("steps", ["0", "-5", "ten"])
def test_steps_must_be_positive(tmp_path, steps) -> None:
    result = _train(["--stage", "1", "--data-root", str(tmp_path), f"--steps={steps}",
                     "--out", str(tmp_path / "run")], tmp_path)
    assert result.returncode == 2
    assert "--steps: must be a positive whole number" in _one_line(result)
    assert not (tmp_path / "run").exists()


def test_resume_without_a_checkpoint_is_one_line(harvard_root, tmp_path) -> None:
    result = _train(["--stage", "1", "--data-root", str(harvard_root), "--steps", "2",
                     "--resume", "--out", "run"], tmp_path)
    assert result.returncode == 2
    assert "--resume: no checkpoint at run/stage1/last.pt" in _one_line(result)


def _corrupt(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really a checkpoint")


def _untrusted(path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True)
    torch.save({"config": {}, "model": {}, "optimizer": {}, "step": Fraction(1, 2),
                "history": []}, path)


@pytest.mark.parametrize("make,expected", [(_corrupt, "is not a readable checkpoint"),
                                           (_untrusted, "is not a plain checkpoint")],
                         ids=["corrupt", "untrusted"])
def test_bad_checkpoint_is_named_and_refused(harvard_root, tmp_path, make, expected) -> None:
    make(tmp_path / "run" / "stage1" / "last.pt")
    result = _train(["--stage", "1", "--data-root", str(harvard_root), "--steps", "2",
                     "--resume", "--out", "run"], tmp_path)
    assert result.returncode == 2
    line = _one_line(result)
    assert f"run/stage1/last.pt {expected}" in line
    assert "weights_only=False" not in result.stderr
