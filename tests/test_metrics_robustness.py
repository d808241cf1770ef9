"""Degenerate inputs (documented values, clear errors) and hypothesis properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mmif_bench.evaluation import score_255, score_255_batch
from mmif_bench.registry import get_metric

SMALL_OK = ["EN", "SD", "SF", "AG", "MI", "SCD", "CC", "PSNR", "Qabf", "SSIM", "Nabf"]
ALL = SMALL_OK + ["VIF", "MS_SSIM"]


@pytest.mark.parametrize("value", [0.0, 1.0, 128.0, 255.0])
def test_constant_images_give_documented_finite_or_infinite_values(value: float) -> None:
    image = np.full((176, 176), value)
    scores = score_255(image, image, image)
    assert not any(np.isnan(v) for v in scores.values()), scores
    assert scores["EN"] == 0.0 and scores["SD"] == 0.0 and scores["SF"] == 0.0
    assert scores["AG"] == 0.0 and scores["MI"] == 0.0
    assert scores["CC"] == 0.0 and scores["SCD"] == 0.0      # correlation with a constant
    assert scores["PSNR"] == np.inf                          # MSE = 0
    assert scores["VIF"] == 2.0                              # 0/0 -> 1 per source
    assert scores["SSIM"] == pytest.approx(2.0) and scores["MS_SSIM"] == pytest.approx(2.0)
    assert scores["Nabf"] == 0.0
    if value == 0.0:
        assert scores["Qabf"] == 0.0                         # no source edge at all


def test_black_fused_image_against_sources_gives_minus_infinite_psnr() -> None:
    zero = np.zeros((16, 16))
    source = np.full((16, 16), 100.0)
    assert score_255(zero, source, source, metrics=["PSNR"])["PSNR"] == -np.inf


@pytest.mark.parametrize("name", ["SSIM", "VIF", "MS_SSIM"])
def test_images_smaller_than_the_window_raise_naming_the_minimum(name: str) -> None:
    size = get_metric(name).min_size
    assert size > 1
    tiny = np.zeros((size - 1, size + 5))
    with pytest.raises(ValueError, match=f"{name}.*{size}x{size}"):
        score_255(tiny, tiny, tiny, metrics=[name])
    with pytest.raises(ValueError, match=f"{size}x{size}"):
        get_metric(name).compute(tiny, tiny, tiny)  # direct callers get it too
    fits = np.zeros((size, size))
    assert np.isfinite(score_255(fits, fits, fits, metrics=[name])[name])


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 3)])
def test_tiny_images_work_for_window_free_metrics(shape: tuple[int, int]) -> None:
    image = np.arange(np.prod(shape), dtype=float).reshape(shape)
    scores = score_255(image, image, 255 - image, metrics=["EN", "SD", "SF", "AG", "MI", "SCD", "CC",
                                                          "PSNR", "Qabf", "Nabf"])
    assert not any(np.isnan(v) for v in scores.values()), scores


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_a_clear_error(bad: float) -> None:
    image = np.zeros((64, 64))
    broken = image.copy()
    broken[3, 4] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        score_255(broken, image, image)
    with pytest.raises(ValueError, match="Qabf.*NaN or Inf"):
        get_metric("Qabf").compute(image, broken, image)


def test_shape_mismatch_and_empty_inputs_are_errors() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        score_255(np.zeros((8, 8)), np.zeros((8, 9)), np.zeros((8, 8)), metrics=["SD"])
    with pytest.raises(ValueError, match="empty"):
        score_255(np.zeros((0, 8)), np.zeros((0, 8)), np.zeros((0, 8)), metrics=["SD"])


def test_uint8_and_float_inputs_score_the_same() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (64, 64), dtype=np.uint8) for _ in range(2))
    f = np.maximum(a, b)
    as_float = score_255(f.astype(float), a.astype(float), b.astype(float), metrics=SMALL_OK)
    assert score_255(f, a, b, metrics=SMALL_OK) == as_float


def test_batch_equals_single_image_evaluation() -> None:
    rng = np.random.default_rng(1)
    A, B = rng.integers(0, 256, (2, 5, 48, 48)).astype(float)
    F = np.round((A + B) / 2)
    batch = score_255_batch(F, A, B, metrics=SMALL_OK + ["VIF"])
    for i in range(5):
        single = score_255(F[i], A[i], B[i], metrics=SMALL_OK + ["VIF"])
        for name, value in single.items():
            assert batch[name][i] == pytest.approx(value, rel=1e-12, abs=1e-15)


images = arrays(np.uint8, st.tuples(st.integers(7, 24), st.integers(7, 24)),
                elements=st.integers(0, 255))
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(images, st.data())
def test_properties_on_random_images(a: np.ndarray, data: st.DataObject) -> None:
    b = data.draw(arrays(np.uint8, a.shape, elements=st.integers(0, 255)))
    f = data.draw(arrays(np.uint8, a.shape, elements=st.integers(0, 255)))
    scores = score_255(f, a, b, metrics=SMALL_OK)
    assert not any(np.isnan(v) for v in scores.values()), scores
    assert 0.0 <= scores["EN"] <= 8.0
    assert scores["SD"] >= 0 and scores["SF"] >= 0 and scores["AG"] >= 0 and scores["MI"] >= 0
    assert -1.0 - 1e-12 <= scores["CC"] <= 1.0 + 1e-12
    assert -2.0 - 1e-12 <= scores["SCD"] <= 2.0 + 1e-12
    assert -2.0 <= scores["SSIM"] <= 2.0 + 1e-12
    assert 0.0 <= scores["Qabf"] <= 1.0 and 0.0 <= scores["Nabf"] <= 1.0
    swapped = score_255(f, b, a, metrics=SMALL_OK)  # symmetric in the two sources
    for name, value in scores.items():
        assert swapped[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@FAST
@given(images)
def test_fusing_an_image_with_itself_is_perfect(a: np.ndarray) -> None:
    scores = score_255(a, a, a, metrics=["SSIM", "MI", "EN", "Nabf"])
    assert scores["SSIM"] == pytest.approx(2.0, rel=1e-12)
    assert scores["MI"] == pytest.approx(2 * scores["EN"] * np.log(2), rel=1e-9, abs=1e-12)
    assert scores["Nabf"] == 0.0


def test_kernels_compile_without_a_writable_cache_place() -> None:
    """A function numba cannot cache (here: its source is not a file) still compiles and
    runs: the metrics must import where no cache location is writable."""
    from mmif_bench.metrics.jit import kernel

    namespace: dict = {}
    exec("def twice(x):\n    return 2.0 * x\n", namespace)  # no source file to cache next to
    assert kernel(namespace["twice"])(1.5) == 3.0
