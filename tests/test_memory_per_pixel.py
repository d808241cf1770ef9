"""Memory per pixel of the scoring path (issue 26): the default metrics on one 2048x2048
pair stay within a stated number of bytes per pixel of numpy allocations at their peak
(tracemalloc: deterministic, unlike the resident size on a shared machine; the kernels'
own buffers are a few rows). Before: 112 B/px traced (115 B/px resident), mostly Nabf's
nine full-size edge planes and its 11-row gather table; now 41 B/px (35 B/px resident)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys, tracemalloc
import numpy as np
from mmif_bench.evaluation import score_255_batch
rng = np.random.default_rng(0)
warm = rng.integers(0, 256, (1, 256, 256), dtype=np.uint8)
score_255_batch(warm, warm, warm)  # compile the kernels first
n = int(sys.argv[1])
a, b = rng.integers(0, 256, (2, 1, n, n), dtype=np.uint8)
f = ((a.astype(np.uint16) + b) // 2).astype(np.uint8)
tracemalloc.start()
score_255_batch(f, a, b)
print(tracemalloc.get_traced_memory()[1] / n / n)
"""


@pytest.mark.slow
def test_scoring_memory_per_pixel_is_bounded() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, "2048"], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    traced = float(result.stdout)
    # 24 B/px: the float64 F, A, B stacks every metric shares; at most 16 B/px more for
    # one metric's own planes (Nabf's per-artefact losses, MS-SSIM's scales, MI's joint codes)
    assert traced <= 44.0, traced
