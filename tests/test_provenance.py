"""Row provenance: ``Method.provenance()`` derives how a method's rows are produced, the
runner records it in ``run.json`` for every method and folder."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mmif_bench import Method, WeightFile
from mmif_bench.method import Option
from mmif_bench.provenance import KINDS, legend, provenance_of


def _declaring(digest: str) -> type[Method]:
    class Declared(Method):
        name = "declared_weights"
        display_name = "Declared-Net"
        options: ClassVar[dict[str, Option]] = {"weights": Option("", kind="path")}
        weight_files: ClassVar[dict[str, WeightFile]] = {"weights": WeightFile(
            "Declared/model.pth", url="https://example.org/model.pth", sha256=digest)}

        def fuse(self, a, b, *, modality=None):
            return (a + b) / 2

    return Declared


def test_a_method_without_weight_files_is_classical_and_labelled_by_its_name() -> None:
    class Plain(Method):
        name = "plain_prov"

        def fuse(self, a, b, *, modality=None):
            return np.maximum(a, b)

    provenance = Plain().provenance()
    assert provenance["kind"] == "classical" and provenance["label"] == "plain_prov"
    assert provenance["detail"]


def test_declared_weights_are_the_authors_and_another_file_is_the_users(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = tmp_path / "store" / "Declared" / "model.pth"
    published.parent.mkdir(parents=True)
    published.write_bytes(b"published weights")
    own = tmp_path / "mine.pth"
    own.write_bytes(b"my own weights")
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path / "store"))
    declared = _declaring(hashlib.sha256(b"published weights").hexdigest())
    default = declared().provenance()
    assert default["kind"] == "authors' weights" and default["label"] == "Declared-Net"
    assert "Declared/model.pth" in default["detail"]
    assert declared(weights=str(published)).provenance()["kind"] == "authors' weights"
    given = declared(weights=str(own)).provenance()
    assert given["kind"] == "user weights" and "mine.pth" in given["detail"]
    assert str(tmp_path) not in given["detail"]


def test_records_without_provenance_read_as_unlabelled_rows() -> None:
    assert provenance_of("old", {"options": {}}) == {"kind": "", "label": "old", "detail": "",
                                                     "marker": ""}
    assert provenance_of("x", {"provenance": {"kind": "fused folder"}})["marker"] == "f"
    assert [k["kind"] for k in legend(["fused folder", "classical", "classical"])] == [
        "classical", "fused folder"]
    assert len({marker for marker, _ in KINDS.values()}) == len(KINDS)


def test_the_run_records_every_methods_provenance(small_harvard: Path, tmp_path: Path) -> None:
    import mmif_bench

    first = mmif_bench.run(dataset=str(small_harvard), methods=["mean"], out=tmp_path / "a",
                           report=False)
    folder = tmp_path / "a" / "fused" / "mean"
    second = mmif_bench.run(dataset=str(small_harvard), methods=["max"], out=tmp_path / "b",
                            fused={"mine": folder}, report=False)
    assert first.record["methods"]["mean"]["provenance"]["kind"] == "classical"
    methods = second.record["methods"]
    assert methods["max"]["provenance"]["label"] == "Max"  # its display name
    assert methods["mine"]["provenance"]["kind"] == "fused folder"
    assert methods["mine"]["provenance"]["label"] == "mine"
    assert "lossless" in methods["mine"]["provenance"]["detail"]
