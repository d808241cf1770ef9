"""Speed of the canon metrics of metrics/information_based.py, feature_based.py and
piella.py (profiles ``liu`` and ``mefb``) against their plain implementations
(tests/canon_reference.py), metric by metric.

Same protocol as tests/test_metrics_benchmark.py: 3 pairs of 256 x 256 images (one each
of MRI-CT, MRI-PET, MRI-SPECT, rounded mean fusion; the first Harvard test pairs, or the
built-in phantom pairs where the data is absent); one untimed call loads the compiled
kernels; in each interleaved round every metric runs its plain implementation (one pair
at a time) and then ``VECTORISED_REPEATS`` times ``metric.compute_checked`` on the stack;
every timing is the minimum over its rounds. The rounds run under pytest-benchmark
(``benchmark.pedantic``); the per-metric milliseconds and ratios are in ``extra_info``
and printed with ``-s``. Each metric must be at least ``MIN_SPEEDUP`` times its plain
implementation (a floor with margin under the shared machine's measurements, docs/metrics.md);
the suite ratio of each profile is tests/test_metrics_benchmark.py's.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from canon_reference import LIU, MEFB
from metrics_reference import harvard_triples
from pytest_benchmark.fixture import BenchmarkFixture

from mmif_bench.allocator import keep_freed_memory
from mmif_bench.registry import get_metric

PLAIN = {**{f"liu.{name}": fn for name, fn in LIU.items()},
         **{f"mefb.{name}": fn for name, fn in MEFB.items()
            if fn not in LIU.values()}}  # NMI, TE, QNCIE are liu's functions
ROUNDS = 3
VECTORISED_REPEATS = 5
MIN_SPEEDUP = 5.0

Triples = tuple[np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def pairs(request: pytest.FixtureRequest) -> tuple[str, Triples]:
    keep_freed_memory()
    try:
        root, source = request.getfixturevalue("harvard_root"), "Harvard"
    except pytest.skip.Exception:
        from mmif_bench.datasets.phantom import phantom

        root, source = phantom().root, "phantom"
    return source, harvard_triples(Path(root), 1, "mean")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _round(triples: Triples, best: dict[tuple[str, str], float]) -> None:
    F, A, B = triples
    for key, plain in PLAIN.items():
        metric = get_metric(key)
        seconds = _timed(lambda plain=plain: [plain(a, b, f) for f, a, b in zip(F, A, B)])
        best[(key, "plain")] = min(best.get((key, "plain"), np.inf), seconds)
        for _ in range(VECTORISED_REPEATS):
            seconds = _timed(lambda metric=metric: metric.compute_checked(F, A, B))
            best[(key, "vectorised")] = min(best.get((key, "vectorised"), np.inf), seconds)


@pytest.mark.benchmark(group="canon metrics (liu, mefb): plain against vectorised")
def test_canon_speedup(benchmark: BenchmarkFixture, pairs: tuple[str, Triples]) -> None:
    source, triples = pairs
    n = len(triples[0])
    for key in PLAIN:
        get_metric(key).compute_checked(*triples)  # load the kernels
    best: dict[tuple[str, str], float] = {}
    benchmark.pedantic(_round, args=(triples, best), rounds=ROUNDS, iterations=1)
    table = {key: {"plain_ms": round(1000 * best[(key, "plain")] / n, 3),
                   "vectorised_ms": round(1000 * best[(key, "vectorised")] / n, 3),
                   "speedup": round(best[(key, "plain")] / best[(key, "vectorised")], 1)}
             for key in PLAIN}
    benchmark.extra_info.update(table)
    lines = [f"\ncanon metrics on {n} {source} pairs, ms per pair (minimum of interleaved rounds):"]
    lines += [f"  {key:10s} plain {row['plain_ms']:9.2f}  vectorised {row['vectorised_ms']:7.3f}"
              f"  x{row['speedup']:.1f}" for key, row in table.items()]
    print("\n".join(lines))
    slow = {key: row["speedup"] for key, row in table.items() if row["speedup"] < MIN_SPEEDUP}
    assert not slow, f"below x{MIN_SPEEDUP} of the plain implementation: {slow}"
