"""The core names no plugin: commands, metric profiles and the default dataset come from
what the registered plugins declare, so a third-party plugin can provide each."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pytest

import mmif_bench
from mmif_bench import registry
from mmif_bench.cli import main
from mmif_bench.dataset import FolderDataset
from mmif_bench.scores import read_scores


class Hello:
    """A command a plugin adds: ``mmif-bench hello --times N``."""

    help = "say hello"
    said: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--times", type=int, default=1)

    def run(self, args: argparse.Namespace) -> int:
        self.said.extend(["hello"] * args.times)
        return 0


def test_a_plugin_command_runs_through_the_commands_group() -> None:
    registry.register("commands", Hello(), name="hello")
    Hello.said.clear()
    assert main(["hello", "--times", "2"]) == 0
    assert Hello.said == ["hello", "hello"]


def test_a_registered_profile_is_a_run_choice(tmp_path: Path) -> None:
    mmif_bench.register_metric(mmif_bench.Metric(
        "MEANF", lambda F, A, B: F.reshape(len(F), -1).mean(axis=1), higher_is_better=True,
        needs_sources=False, reference="test", profile="mine"))
    assert "mine" in registry.list_profiles()
    assert main(["run", "--dataset", "phantom", "--profile", "mine", "--methods", "mean",
                 "--out", str(tmp_path / "o"), "--no-report"]) == 0
    assert {s.metric for s in read_scores(tmp_path / "o" / "scores.csv")} == {"MEANF"}


def _folder_dataset(root: Path):
    def factory(data_root=None):
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not here")
        return FolderDataset(root, name="local")
    factory.default = True
    return factory


def test_the_default_dataset_is_the_one_a_plugin_declares(tmp_path, monkeypatch,
                                                            caplog) -> None:
    monkeypatch.delenv("MMIF_BENCH_DATA", raising=False)
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))  # no fetched harvard
    root = tmp_path / "local"
    registry.register("datasets", _folder_dataset(root), name="local")
    with caplog.at_level(logging.INFO, logger="mmif_bench"):
        assert registry.default_dataset().name == "phantom"  # the declared fallback
    assert any("is not here" in r.getMessage() and "fallback dataset phantom" in r.getMessage()
               for r in caplog.records)
    (root / "MRI-CT" / "MRI").mkdir(parents=True)
    assert registry.default_dataset().name == "local"


def test_without_a_default_or_a_fallback_the_error_says_to_name_one(tmp_path,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(registry, "load_all", lambda kind: {"x": np.zeros})
    with pytest.raises(FileNotFoundError, match="name a dataset with --dataset"):
        registry.default_dataset()
