"""The compiled building blocks of the metrics against plain numpy/scipy: the separable
'valid' filter (with and without subsampling), the streamed window moments, and the
running-product logarithm sums of VIF."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from mmif_bench.metrics.filters import (
    STREAM_BLOCK_ROWS,
    filter_valid,
    gaussian_taps,
    moment_block,
    moment_means,
    moment_scratch,
    window_means,
)
from mmif_bench.metrics.jit import log10_product
from mmif_bench.metrics.vif import _log10_sum

RNG = np.random.default_rng(7)
TAPS = {"gaussian 17": gaussian_taps(17, 3.4), "gaussian 9": gaussian_taps(9, 1.8),
        "box 7": np.full(7, 1 / 7), "gaussian 3": gaussian_taps(3, 0.6)}


@pytest.mark.parametrize("step", [1, 2])
@pytest.mark.parametrize("name", list(TAPS))
def test_filter_valid_equals_scipy_correlate2d(name: str, step: int) -> None:
    taps = TAPS[name]
    images = np.round(RNG.uniform(0, 255, (2, 61, 54))) + RNG.uniform(0, 1, (2, 61, 54))
    got = filter_valid(images, taps, step=step)
    for image, result in zip(images, got):
        expected = correlate2d(image, np.outer(taps, taps), mode="valid")[::step, ::step]
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=1e-13, atol=1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("height", [17, STREAM_BLOCK_ROWS + 16, 2 * STREAM_BLOCK_ROWS + 17])
def test_streamed_moments_equal_scipy(height: int) -> None:
    """Blocks of rows, pairs of rows and a last single row give every row of means, both
    driven row by row and through window_means."""
    taps = TAPS["gaussian 17"]
    x, a, b = (np.round(RNG.uniform(0, 255, (height, 40))) for _ in range(3))
    planes_in = [x, x * x, a, a * a, x * a, b, b * b, x * b]  # moment_block's order
    expected = np.stack([correlate2d(p, np.outer(taps, taps), mode="valid") for p in planes_in])
    planes, lines, means = moment_scratch(x.shape[1], 2, taps)
    rows = []
    for top in range(0, height - len(taps) + 1, STREAM_BLOCK_ROWS):
        block = moment_block(x, (a, b), taps, top, planes)
        for r in range(0, block, 2):
            count = moment_means(planes, r, block, taps, lines, means)
            rows += [means[q].copy() for q in range(count)]
    np.testing.assert_allclose(np.stack(rows, axis=1), expected, rtol=1e-13, atol=1e-9)
    m = window_means(x[None], (a[None], b[None]), taps)
    whole = [m.x[0, 0], m.xx[0, 0], m.y[0, 0], m.yy[0, 0], m.xy[0, 0], m.y[1, 0], m.yy[1, 0],
             m.xy[1, 0]]
    np.testing.assert_allclose(np.stack(whole), expected, rtol=1e-13, atol=1e-9)


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e20, 1e200])
def test_log10_sums_of_running_products(scale: float) -> None:
    """Ordinary factors, and factors so large that a group of eight would overflow."""
    factors = 1.0 + RNG.uniform(0, 1, 1001) * scale
    product, exponent = _log10_sum(factors, 1.0, 0)
    assert log10_product(product, exponent) == pytest.approx(np.log10(factors).sum(),
                                                             rel=1e-13)


def test_log10_sums_never_overflow() -> None:
    """A running product just under its renormalisation bound times huge factors."""
    factors = np.array([2.0 ** 599, 1e300, 1e300, 2.0 ** 599, 1e308, 3.0])
    product, exponent = _log10_sum(factors, 1.0, 0)
    assert log10_product(product, exponent) == pytest.approx(np.log10(factors).sum(),
                                                             rel=1e-14)
