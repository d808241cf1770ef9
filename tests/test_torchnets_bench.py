"""Speed of the ported networks on CPU (pytest-benchmark), one thread: one 256 x 256 pair
per method (random weights: speed does not depend on them), and MUFusion's float64
convolution against torch's own. Run: ``pytest tests/test_torchnets_bench.py
--benchmark-only``. Side-by-side timings with the authors' code are in docs/methods.md."""
from __future__ import annotations

import pytest
import torch
from test_torchnets import one_thread, random_weights, sources  # noqa: F401 (autouse fixture)

from mmif_bench import create_method
from mmif_bench.methods.mufusion import ShiftedConv2d

pytestmark = pytest.mark.benchmark
ROUNDS = {"almfnet": 3, "matr": 3, "mufusion": 1, "mcafusion": 3, "macan": 1, "gesenet": 3,
          "prrgan": 3}


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_fuse_one_256_pair(benchmark, name, tmp_path):
    method = create_method(name, weights=random_weights(tmp_path, name))
    a, b = sources((256, 256)), sources((256, 256), seed=1)
    benchmark.group = "fuse one 256x256 pair"
    fused = benchmark.pedantic(method.fuse, (a[0], b[0]), rounds=ROUNDS[name], iterations=1)
    assert fused.shape == (256, 256)


@pytest.mark.parametrize("implementation", ["shifted", "torch"])
def test_mufusion_float64_convolution(benchmark, implementation):
    """conv5 of MUFusion (128 -> 64 channels, 3 x 3) on the 9 half-resolution patches of a
    256 x 256 pair, in float64."""
    torch.manual_seed(0)
    conv = ShiftedConv2d(128, 64, 3).double()
    forward = conv.forward if implementation == "shifted" else super(ShiftedConv2d, conv).forward
    x = torch.rand(9, 128, 66, 66, dtype=torch.float64)
    benchmark.group = "mufusion float64 conv5"
    with torch.inference_mode():
        out = benchmark.pedantic(forward, (x,), rounds=3, iterations=1, warmup_rounds=1)
    assert out.shape == (9, 64, 64, 64)
