"""The committed leaderboard in reports/ still holds: rerun its deterministic methods on the
Harvard test split and check them against reports/baseline.json (the project's own CI use
of ``mmif-bench check``)."""
from __future__ import annotations

import json

from mmif_bench.cli import main

TOLERANCE = 1e-6  # relative; the same code on the same data reproduces the means


def test_reports_match_the_baseline(repo_root, harvard_root, weights_dir, tmp_path, monkeypatch) -> None:
    reports = repo_root / "reports"
    run_info = json.loads((reports / "run.json").read_text())
    assert run_info["dataset"]["name"] == "harvard" and run_info["dataset"]["split"] == "test"
    methods = sorted(name for name, info in run_info["methods"].items()
                     if info.get("deterministic") and "error" not in info)
    assert {"mean", "max", "pca", "dwt", "laplacian", "gff", "ifcnn", "dmfnet"} <= set(methods)
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(weights_dir))
    out = tmp_path / "rerun"
    code = main(["run", "--dataset", "harvard", "--data-root", str(harvard_root), "--split", "test",
                 "--methods", ",".join(methods), "--out", str(out), "--no-report", "--jobs", "2"])
    assert code == 0
    assert main(["check", "--results", str(out), "--baseline", str(reports / "baseline.json"),
                 "--tolerance", str(TOLERANCE), "--methods", ",".join(methods)]) == 0
