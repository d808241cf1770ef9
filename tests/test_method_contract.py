"""One method contract, enforced once: ``fuse(a, b, *, modality)`` and ``fuse_batch`` have
one signature on every method, the runner calls them without inspecting anything, and a
plugin that is not a Method is refused when it is created."""
from __future__ import annotations

import numpy as np
import pytest

import mmif_bench
from mmif_bench import Method, create_method
from mmif_bench import method as method_module
from mmif_bench.registry import get, list_methods, unregister


class Narrow(Method):
    """Written against the old contract: no ``modality`` keyword."""

    name = "narrow_contract"

    def fuse(self, a, b):
        return np.minimum(a, b)


def test_a_narrowed_subclass_is_given_the_one_signature() -> None:
    a, b = np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32)
    narrow = Narrow()
    np.testing.assert_array_equal(narrow.fuse(a, b, modality="PET"), a)
    assert narrow.fuse_batch(a[None], b[None], modality="CT").shape == (1, 4, 4)
    assert Narrow.fuse.__name__ == "fuse" and Narrow.fuse.__doc__ is None


@pytest.mark.parametrize("name", list_methods())
def test_every_first_party_method_is_written_with_the_modality_keyword(name) -> None:
    cls = get("methods", name)
    for attribute in ("fuse", "fuse_batch"):
        function = getattr(cls, attribute)
        assert method_module.takes_modality(function), (name, attribute)
        assert not hasattr(function, "__wrapped__"), f"{name}.{attribute} lacks modality"


def test_the_runner_never_inspects_a_signature(tmp_path, monkeypatch) -> None:
    mmif_bench.register_method(Narrow)
    mmif_bench.register_method(lambda a, b: np.maximum(a, b), name="narrow_function")
    asked: list[object] = []
    original = method_module.takes_modality
    monkeypatch.setattr(method_module, "takes_modality",
                        lambda function: asked.append(function) or original(function))
    try:
        summary = mmif_bench.run(dataset="phantom", methods=["narrow_contract",
                                                             "narrow_function", "max"],
                                 metrics=["EN"], out=tmp_path / "o", report=False)
    finally:
        unregister("methods", "narrow_contract")
        unregister("methods", "narrow_function")
    assert summary.exit_code == 0 and asked == []


def test_a_plugin_that_is_not_a_method_is_refused_on_creation() -> None:
    class Lookalike:
        name = "lookalike"

        def fuse(self, a, b):
            return a

    mmif_bench.register("methods", Lookalike)
    try:
        with pytest.raises(TypeError, match="not an mmif_bench.Method: subclass Method"):
            create_method("lookalike")
    finally:
        unregister("methods", "lookalike")


@pytest.mark.parametrize("a, b, message", [
    (np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32), "a is uint8, not a float array"),
    (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.float32), "a is RGB"),
    (np.zeros((8, 8), np.float32), np.zeros((8, 9), np.float32), "the same size"),
    (np.zeros((8, 8), np.float32), np.full((8, 8), np.nan, np.float32), "b holds NaN"),
    (np.zeros((8, 8), np.float32), [[0.0]], "b is list, not a float array"),
])
def test_fuse_names_what_is_wrong_with_its_sources(a, b, message) -> None:
    method = mmif_bench.create_method("mean")
    with pytest.raises(ValueError, match=message) as raised:
        method.fuse(a, b)
    assert "\n" not in str(raised.value)
    fused = method.fuse(np.zeros((8, 8), np.float32), np.ones((8, 8), np.float32))
    assert np.allclose(fused, 0.5)
