"""Shared fixtures: data locations relative to the repository root (never absolute)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def _locate(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else default


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def harvard_root() -> Path:
    """The Harvard AANLIB pairs: ``$MMIF_BENCH_DATA`` or ``../shared/datasets/harvard``."""
    root = _locate("MMIF_BENCH_DATA", SHARED / "datasets" / "harvard")
    if not (root / "MRI-CT").is_dir():
        pytest.skip(f"Harvard data not found at {root}; set MMIF_BENCH_DATA")
    return root


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """Published weights: ``$MMIF_BENCH_WEIGHTS`` or ``../shared/weights``."""
    root = _locate("MMIF_BENCH_WEIGHTS", SHARED / "weights")
    if not root.is_dir():
        pytest.skip(f"weights folder not found at {root}; set MMIF_BENCH_WEIGHTS")
    return root
