"""CDDFuse speed on CPU (pytest-benchmark), one thread: one 256 x 256 pair with generated
weights (speed does not depend on them), one round. Run: ``pytest
tests/test_cddfuse_bench.py --benchmark-only``. Timings next to the authors' code are in
docs/methods.md."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_cddfuse import released_layout
from test_dmfnet import one_thread  # noqa: F401 (autouse fixture)

from mmif_bench import create_method

pytestmark = pytest.mark.benchmark


def test_fuse_one_256_pair(benchmark, tmp_path: Path) -> None:
    path = tmp_path / "CDDFuse_MIF.pth"
    torch.save(released_layout(), path)
    method = create_method("cddfuse", weights=str(path))
    a, b = np.random.default_rng(0).random((2, 256, 256), dtype=np.float32)
    benchmark.group = "fuse one 256x256 pair"
    fused = benchmark.pedantic(method.fuse, (a, b), rounds=1, iterations=1)
    assert fused.shape == (256, 256)
