"""Speed: each profile's vectorised metric set against its plain implementation.

``test_benchmark[<implementation>-<profile>]`` times one implementation of one profile's
metric set with pytest-benchmark on the same 3 Harvard pairs (MRI-CT, MRI-PET,
MRI-SPECT, 256 x 256, rounded mean fusion): the vectorised suite through
``score_255_batch`` (10 rounds after a warm-up), the plain one (tests/metrics_reference.py
for the 11 default metrics EN..SSIM, tests/profiles_reference.py for the full ``vifb``
and ``tang`` sets) for 1 round. Each stores its minimum round time per pair in
``_SECONDS`` and ``extra_info``;
``test_vectorised_is_20x_faster`` then asserts plain / vectorised >= 20 per profile
(minimum against minimum, both from this session). It fails when a timing is missing,
and skips only when benchmarks are disabled or skipped; ``--benchmark-only`` runs the
timings but not the ratio test (it uses no benchmark fixture). About 10 s in all.
"""
from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from metrics_reference import BENCHMARK_METRICS, evaluate_plain, harvard_triples
from mmif_bench.evaluation import score_255_batch
from mmif_bench.metrics.validation import keep_freed_memory
from profiles_reference import PROFILES as PLAIN_PROFILES

PROFILES = ["default", "vifb", "tang"]
NAMES = {"default": BENCHMARK_METRICS, "vifb": None, "tang": None}  # None: the full set
IMPLEMENTATIONS = ["plain", "vectorised"]
VECTORISED_ROUNDS = 10
MIN_SPEEDUP = 20.0

# (profile, implementation) -> seconds per pair (minimum over rounds); None: disabled
_SECONDS: dict[tuple[str, str], float | None] = {}


@pytest.fixture(scope="module")
def pairs(harvard_root) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs; first the allocator tuning that the suite's first call makes (see
    keep_freed_memory), so that both implementations run under it in any test order."""
    keep_freed_memory()
    return harvard_triples(harvard_root, 1, "mean")


def _plain(profile: str, F: np.ndarray, A: np.ndarray, B: np.ndarray) -> list[dict[str, float]]:
    """The plain implementation of a profile's metric set, one pair at a time."""
    if profile == "default":
        return [evaluate_plain(f, a, b, BENCHMARK_METRICS) for f, a, b in zip(F, A, B)]
    return [{name: fn(a, b, f) for name, fn in PLAIN_PROFILES[profile].items()}
            for f, a, b in zip(F, A, B)]


@pytest.mark.benchmark(group="metrics: vectorised vs plain")
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("profile", PROFILES)
def test_benchmark(benchmark: BenchmarkFixture, profile: str, implementation: str,
                   pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    F, A, B = pairs
    if implementation == "plain":
        benchmark.pedantic(_plain, args=(profile, F, A, B), rounds=1, iterations=1)
    else:
        benchmark.pedantic(score_255_batch, args=(F, A, B),
                           kwargs={"names": NAMES[profile], "profile": profile},
                           rounds=VECTORISED_ROUNDS, iterations=1, warmup_rounds=1)
    if benchmark.stats is None:  # --benchmark-disable (or xdist): ran once, untimed
        _SECONDS[(profile, implementation)] = None
        return
    seconds = benchmark.stats.stats.min / len(F)
    _SECONDS[(profile, implementation)] = seconds
    benchmark.extra_info.update(pairs=len(F), per_pair_ms=round(1000 * seconds, 3))
    plain = _SECONDS.get((profile, "plain"))
    if implementation == "vectorised" and plain:
        benchmark.extra_info["speedup"] = round(plain / seconds, 1)


@pytest.mark.parametrize("profile", PROFILES)
def test_vectorised_is_20x_faster(request: pytest.FixtureRequest, profile: str,
                                  pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Needs the timed pairs too: without the Harvard data it skips as the benchmarks do."""
    timings = [_SECONDS.get((profile, implementation), 0.0) for implementation in IMPLEMENTATIONS]
    if None in timings or request.config.getoption("benchmark_skip"):
        pytest.skip("benchmarks disabled or skipped: no timings to compare")
    if 0.0 in timings:
        pytest.fail(f"test_benchmark did not time both implementations of {profile!r} in this "
                    "session (deselected?); the ratio needs both")
    plain, vectorised = timings
    speedup = plain / vectorised
    print(f"\n{profile}: vectorised {1000 * vectorised:.2f} ms/pair, plain "
          f"{1000 * plain:.0f} ms/pair, speed-up {speedup:.1f}x")
    assert speedup >= MIN_SPEEDUP, (
        f"{profile}: vectorised {1000 * vectorised:.1f} ms/pair is only {speedup:.1f}x faster "
        f"than plain ({1000 * plain:.0f} ms/pair); the floor is {MIN_SPEEDUP}x")
