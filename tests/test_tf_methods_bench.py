"""Speed of U2Fusion, EMFusion and SDNet on CPU (pytest-benchmark), one thread: one
256 x 256 Harvard MRI-CT pair per method, with the published weights (skipped without
them). Run: ``pytest tests/test_tf_methods_bench.py --benchmark-only``. Side-by-side
timings with the authors' TensorFlow code are in docs/methods.md."""
from __future__ import annotations

import pytest
from test_tf_methods import WEIGHTS
from test_torchnets import one_thread  # noqa: F401 (autouse fixture)

from mmif_bench import create_method
from mmif_bench.dataset import FolderDataset
from mmif_bench.fusion import prepare

pytestmark = pytest.mark.benchmark
ROUNDS = {"u2fusion": 1, "emfusion": 2, "sdnet": 3}


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_fuse_one_256_pair(benchmark, weights_dir, harvard_root, name) -> None:
    method = create_method(name, weights=str(weights_dir / WEIGHTS[name]))
    pair = next(p for p in FolderDataset(harvard_root).list_pairs("test").pairs
                if p.pair_type == "MRI-CT")
    prepared = prepare(*(image.pixels for image in pair.load()), "CT")
    benchmark.group = "fuse one 256x256 pair"
    fused = benchmark.pedantic(method.fuse, (prepared.a, prepared.b), {"modality": "CT"},
                               rounds=ROUNDS[name], iterations=1)
    assert fused.shape == (256, 256)
