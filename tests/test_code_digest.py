"""Cache keys follow the code a method or metric uses: its module and the modules of its
package that it imports, transitively; editing one module recomputes only what uses it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import mmif_bench
from mmif_bench import Metric, RunConfig
from mmif_bench.cache import code_digest, module_sources
from mmif_bench.registry import get, get_metric, unregister

MODULES = {
    "__init__.py": "",
    "calls.py": "CALLS: list[str] = []\n",
    "shared.py": "def half(x):\n    return x / 2\n",
    "one.py": """
import numpy as np
from mmif_bench import Method
from .calls import CALLS
from .shared import half


class One(Method):
    name = "digest_one"

    def fuse(self, a, b, *, modality=None):
        CALLS.append("one")
        return half(a + b).astype(np.float32)
""",
    "two.py": """
import numpy as np
from mmif_bench import Method
from digestpkg.calls import CALLS


class Two(Method):
    name = "digest_two"

    def fuse(self, a, b, *, modality=None):
        CALLS.append("two")
        return np.maximum(a, b)
""",
    "first.py": """
from .calls import CALLS


def first(F, A, B):
    CALLS.append("first")
    return F.mean(axis=(1, 2))
""",
    "second.py": """
from . import calls


def second(F, A, B):
    calls.CALLS.append("second")
    return F.std(axis=(1, 2))
""",
}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An importable package ``digestpkg`` of two methods and two metrics."""
    root = tmp_path / "digestpkg"
    root.mkdir()
    for name, text in MODULES.items():
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    from digestpkg import calls, first, one, second, two

    yield root, calls.CALLS, one.One, two.Two, first.first, second.second
    for name in [m for m in sys.modules if m.split(".")[0] == "digestpkg"]:
        del sys.modules[name]


def edit(path: Path) -> None:
    """Append a comment and move the modification time on, as an editor would."""
    path.write_text(path.read_text() + "# edited\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_the_digest_covers_the_module_and_what_it_imports(package) -> None:
    root, _, One, Two, first, second = package
    assert set(module_sources("digestpkg.one")) == {"digestpkg.one", "digestpkg.calls",
                                                    "digestpkg.shared"}
    assert set(module_sources("digestpkg.second")) == {"digestpkg.second", "digestpkg",
                                                       "digestpkg.calls"}
    before = {obj: code_digest(obj) for obj in (One, Two, first, second)}
    edit(root / "shared.py")  # imported by one only
    after = {obj: code_digest(obj) for obj in (One, Two, first, second)}
    assert [obj for obj in before if before[obj] != after[obj]] == [One]
    edit(root / "calls.py")  # imported by all four
    assert all(code_digest(obj) != after[obj] for obj in after)


def test_first_party_methods_and_metrics_hash_their_own_modules() -> None:
    gff = module_sources("mmif_bench.methods.gff")
    assert {"mmif_bench.methods.gff", "mmif_bench.methods.rules"} <= set(gff)
    assert not {"mmif_bench.methods.dwt", "mmif_bench.methods.laplacian"} & set(gff)
    assert code_digest(get("methods", "gff")) != code_digest(get("methods", "dwt"))
    entropy = module_sources(get_metric("EN").compute.__module__)
    assert "mmif_bench.metrics.vif" not in entropy
    assert "mmif_bench.metrics.bibliography" not in entropy  # editing references rescores nothing


@pytest.mark.slow
def test_editing_one_module_recomputes_only_what_uses_it(package, tmp_path) -> None:
    root, calls, One, Two, first, second = package
    for method in (One, Two):
        mmif_bench.register_method(method)
    metrics = [Metric("DIGEST_FIRST", first, higher_is_better=True, needs_sources=False,
                      reference="test"),
               Metric("DIGEST_SECOND", second, higher_is_better=True, needs_sources=False,
                      reference="test")]
    for metric in metrics:
        mmif_bench.register_metric(metric)
    config = RunConfig(dataset="phantom", methods=["digest_one", "digest_two"],
                       metrics=["DIGEST_FIRST", "DIGEST_SECOND"], out=tmp_path / "out",
                       report=False)
    try:
        mmif_bench.run(config)
        assert {"one", "two", "first", "second"} == set(calls)
        pairs = calls.count("one")
        scores = (tmp_path / "out" / "scores.csv").read_bytes()
        calls.clear()
        mmif_bench.run(config)
        assert calls == []  # everything cached
        edit(root / "one.py")
        mmif_bench.run(config)
        assert calls == ["one"] * pairs  # the same images: their scores stay cached
        calls.clear()
        edit(root / "first.py")
        mmif_bench.run(config)
        assert set(calls) == {"first"}  # no method fuses again, the other metric is kept
        assert (tmp_path / "out" / "scores.csv").read_bytes() == scores
    finally:
        for method in (One, Two):
            unregister("methods", method.name)
        for metric in metrics:
            unregister("metrics", metric.key)
