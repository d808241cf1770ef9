"""Memory per pixel of the scoring path (issue 26): the default metrics on one 2048x2048
pair stay within a stated number of bytes per pixel (before: 112 B/px traced, 115 B/px
resident, mostly Nabf's nine full-size edge planes and its 11-row gather table)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, sys, tracemalloc
import numpy as np
from mmif_bench.evaluation import score_255_batch
rng = np.random.default_rng(0)
warm = rng.integers(0, 256, (1, 256, 256), dtype=np.uint8)
score_255_batch(warm, warm, warm)  # compile the kernels first
n = int(sys.argv[1])
a, b = rng.integers(0, 256, (2, 1, n, n), dtype=np.uint8)
f = ((a.astype(np.uint16) + b) // 2).astype(np.uint8)
resident = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() // 1024
tracemalloc.start()
score_255_batch(f, a, b)
traced = tracemalloc.get_traced_memory()[1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(traced / n / n, max(0, peak - resident) * 1024 / n / n)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_scoring_memory_per_pixel_is_bounded() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, "2048"], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    traced, resident = map(float, result.stdout.split())
    # 24 B/px: the float64 F, A, B stacks every metric shares; at most 16 B/px more for
    # one metric's own planes (Nabf's per-artefact losses, MS-SSIM's scales, MI's joint codes)
    assert traced <= 44.0, traced
    assert resident <= 56.0, resident
