"""A run returns what it writes: the scores frame and the typed run record (run.json),
which round-trips through its one reader and writer; reports rebuild from either."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mmif_bench
from mmif_bench import registry
from mmif_bench.reporting import write_report
from mmif_bench.run_record import SCHEMA_VERSION, dump_run_record, parse_run_record, read_run_record
from mmif_bench.scores import read_scores_frame

BIBTEX = "@article{darkest2024,\n  title = {Darkest pixel fusion},\n  year = {2024}\n}"


class Darkest(mmif_bench.Method):
    """Fuses by the darker pixel; counts how often it is built."""

    name = "darkest"
    bibtex = BIBTEX
    built = 0

    def __init__(self, **config) -> None:
        super().__init__(**config)
        type(self).built += 1

    def fuse(self, a, b, *, modality=None):
        return np.minimum(a, b)


@pytest.fixture(scope="module")
def darkest_run(tmp_path_factory: pytest.TempPathFactory) -> mmif_bench.RunResult:
    """One phantom run of a method registered only for it, then unregistered."""
    Darkest.built = 0
    with registry.isolated_registrations():
        mmif_bench.register_method(Darkest)
        result = mmif_bench.run(dataset="phantom", methods=["darkest", "mean"],
                                metrics=["EN", "SD"], out=tmp_path_factory.mktemp("run"),
                                report=False)
    return result


def test_run_returns_the_scores_and_the_record_it_writes(darkest_run) -> None:
    out = darkest_run.out
    assert darkest_run.exit_code == 0 and darkest_run.pairs == 6
    pd.testing.assert_frame_equal(darkest_run.scores, read_scores_frame(out / "scores.csv"))
    assert len(darkest_run.scores) == 2 * 6 * 2
    assert darkest_run.record == read_run_record(out / "run.json")
    assert dump_run_record(darkest_run.record) == (out / "run.json").read_bytes()
    assert darkest_run.record["schema_version"] == SCHEMA_VERSION
    assert darkest_run.record["methods"]["darkest"]["bibtex"] == BIBTEX
    assert darkest_run.record["metrics"]["EN"]["bibtex"] == mmif_bench.get_metric("EN").bibtex


def test_the_planned_instance_is_the_one_that_fuses(darkest_run) -> None:
    assert Darkest.built == 1  # built once to plan (fingerprint), then reused to fuse


@pytest.mark.slow
def test_a_report_rebuilt_where_the_method_is_not_installed_still_cites_it(darkest_run) -> None:
    assert "darkest" not in mmif_bench.list_methods()
    written = write_report(darkest_run.out)
    assert "darkest2024" in (darkest_run.out / "leaderboard.bib").read_text()
    assert darkest_run.out / "leaderboard.md" in written


@pytest.mark.slow
def test_a_report_from_the_result_equals_one_from_the_folder(darkest_run, tmp_path) -> None:
    from_result = {p.name: p.read_bytes() for p in write_report(darkest_run)
                   if p.suffix in (".md", ".csv", ".json", ".tex", ".bib")}
    from_folder = {p.name: p.read_bytes() for p in write_report(darkest_run.out)
                   if p.suffix in (".md", ".csv", ".json", ".tex", ".bib")}
    assert from_result == from_folder and len(from_result) == 5


def test_schema_1_records_are_read_in_the_current_vocabulary(darkest_run, tmp_path) -> None:
    old = json.loads(dump_run_record(darkest_run.record))
    del old["schema_version"]
    for entry in old["pairs"] + old["failures"]:
        entry["pair"] = entry.pop("pair_type")
    for metric in old["metrics"].values():
        del metric["bibtex"]
    record = parse_run_record(old)
    assert record["pairs"] == darkest_run.record["pairs"]
    assert record["metrics"]["EN"]["bibtex"] == ""


def test_a_record_that_does_not_fit_the_schema_is_refused_naming_the_field(darkest_run,
                                                                          tmp_path) -> None:
    path = tmp_path / "run.json"
    document = json.loads(dump_run_record(darkest_run.record))
    del document["dataset"]["split"]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"run.json: run.dataset lacks split"):
        read_run_record(path)
    document = json.loads(dump_run_record(darkest_run.record))
    document["pairs"][0]["image"] = 2004
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"run.pairs\[0\].image must be of type str"):
        read_run_record(path)
    path.write_text(json.dumps({**document, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(ValueError, match="newer than this mmif-bench reads"):
        read_run_record(path)
