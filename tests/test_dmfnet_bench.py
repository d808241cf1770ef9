"""DM-FNet speed on CPU (pytest-benchmark): inference per 256x256 pair with the shipped
weights in channels-last and in the default memory format (two implementations in one
run), and training step time of each stage at the ``cpu`` preset's sizes (random weights:
speed does not depend on them). Run: ``pytest tests/test_dmfnet_bench.py --benchmark-only``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_dmfnet import one_thread, write_dataset  # noqa: F401 (autouse fixture)

from mmif_bench.methods.dmfnet.plugin import DMFNetFusion
from mmif_bench.methods.dmfnet.presets import CPU
from mmif_bench.methods.dmfnet.train import Trainer

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Synthetic 128x128 data and a 1-step Stage I + Stage II run of the cpu preset."""
    data = write_dataset(tmp_path_factory.mktemp("data"), size=128)
    out = tmp_path_factory.mktemp("run")
    for stage in (1, 2):
        Trainer(CPU, stage, data, out, steps=1).run()
    return data, out


@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels_last"])
def test_inference_per_256_pair(benchmark, channels_last: bool) -> None:
    method = DMFNetFusion(channels_last=channels_last)
    rng = np.random.default_rng(0)
    a, b = rng.random((256, 256), dtype=np.float32), rng.random((256, 256), dtype=np.float32)
    fused = benchmark.pedantic(method.fuse, (a, b), rounds=3, iterations=1, warmup_rounds=1)
    assert fused.shape == (256, 256)
    np.testing.assert_allclose(fused, DMFNetFusion(channels_last=not channels_last).fuse(a, b),
                               atol=1e-5)


@pytest.mark.parametrize("stage", [1, 2])
def test_training_step(benchmark, cpu_run: tuple[Path, Path], stage: int) -> None:
    data, out = cpu_run
    trainer = Trainer(CPU, stage, data, out / f"bench{stage}",
                      unet_path=out / "stage1" / "final.pt")
    terms = benchmark.pedantic(trainer.train_step, rounds=3, iterations=1, warmup_rounds=1)
    assert np.isfinite(terms["total"])
