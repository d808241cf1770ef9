"""Speed: the batched suite against the plain reference on the same Harvard pairs.

Both timings are pytest-benchmark measurements taken in one test (the plain one through a
second fixture built like the plugin's own), so the ratio never mixes runs. Quick enough
for every CI run: 6 pairs (two per pair type), 5 suite rounds, 1 plain round (~5 s).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from metrics_reference import BENCHMARK_METRICS, evaluate_plain, harvard_triples
from mmif_bench.metrics import evaluate_batch

GROUP = "metrics: suite vs plain reference"
MIN_SPEEDUP = 20.0


@pytest.fixture
def plain_benchmark(request: pytest.FixtureRequest, benchmark: BenchmarkFixture
                    ) -> Iterator[BenchmarkFixture]:
    """A second benchmark fixture for the same test (pytest-benchmark has one per test)."""
    session = request.config._benchmarksession  # the plugin's own session object
    options = dict(session.options, group=GROUP)
    fixture = BenchmarkFixture(request.node, add_stats=session.benchmarks.append,
                               logger=session.logger, warner=request.node.warn,
                               disabled=session.disabled, **options)
    fixture.name += "[plain reference]"
    fixture.fullname += "[plain reference]"
    yield fixture
    fixture._cleanup()


@pytest.mark.benchmark(group=GROUP)
def test_suite_is_at_least_20x_faster_than_plain_reference(
        harvard_root, benchmark: BenchmarkFixture, plain_benchmark: BenchmarkFixture) -> None:
    F, A, B = harvard_triples(harvard_root, 2, "mean")  # MRI-CT, MRI-PET, MRI-SPECT, 256x256

    def plain() -> list[dict[str, float]]:
        return [evaluate_plain(F[i], A[i], B[i], BENCHMARK_METRICS) for i in range(len(F))]

    ours = benchmark.pedantic(evaluate_batch, args=(F, A, B),
                              kwargs={"names": BENCHMARK_METRICS}, rounds=5, warmup_rounds=1)
    reference = plain_benchmark.pedantic(plain, rounds=1)
    for i, values in enumerate(reference):  # same numbers, not just faster
        for name, value in values.items():
            assert ours[name][i] == pytest.approx(value, rel=1e-6)

    if benchmark.stats is None or plain_benchmark.stats is None:
        pytest.skip("benchmarks disabled (--benchmark-disable): no timings to compare")
    suite_s = benchmark.stats.stats.min
    plain_s = plain_benchmark.stats.stats.min
    speedup = plain_s / suite_s
    per_pair_ms = 1000 * suite_s / len(F)
    benchmark.extra_info.update(per_pair_ms=per_pair_ms, speedup=speedup,
                                plain_per_pair_ms=1000 * plain_s / len(F))
    print(f"\nsuite {per_pair_ms:.2f} ms/pair, plain {1000 * plain_s / len(F):.0f} ms/pair, "
          f"speed-up {speedup:.1f}x ({len(BENCHMARK_METRICS)} metrics, {F.shape[1]}x{F.shape[2]})")
    assert np.isfinite(speedup) and speedup >= MIN_SPEEDUP, (
        f"suite {per_pair_ms:.1f} ms/pair is only {speedup:.1f}x faster than the plain "
        f"reference ({1000 * plain_s / len(F):.0f} ms/pair); the floor is {MIN_SPEEDUP}x")
