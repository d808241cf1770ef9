"""Leaderboard tables and statistics on a small fabricated results folder."""
from __future__ import annotations

import json
import logging
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _report_results import make_results

from mmif_bench.reporting import write_report
from mmif_bench.reporting.loading import load_results
from mmif_bench.reporting.render import render_to
from mmif_bench.reporting.stats import bootstrap_ci, holm, paired_wilcoxon, summarize
from mmif_bench.reporting.tables import build_leaderboard, leaderboard_frame


@pytest.fixture(scope="module")
def results_dir(harvard_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = make_results(harvard_root, tmp_path_factory.mktemp("results") / "run", per_pair=6)
    write_report(out, source_root=harvard_root)
    return out


def test_holm_matches_hand_computation() -> None:
    adjusted = holm(np.array([0.01, 0.04, np.nan, 0.03]))
    assert np.allclose(adjusted[[0, 1, 3]], [0.03, 0.06, 0.06])
    assert math.isnan(adjusted[2])


@pytest.mark.slow
def test_holm_equals_statsmodels_bit_for_bit() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    families = [np.array([0.5]), np.array([0.01, 0.01, 0.2, 1.0]), np.array([np.nan, 0.3])]
    families += [np.round(rng.random(n) ** 3, 2 if n % 2 else 12) for n in range(2, 24)]
    for p in families:
        p[rng.random(p.size) < 0.15] = np.nan
        valid = ~np.isnan(p)
        expected = np.full(p.shape, np.nan)
        if valid.any():
            expected[valid] = multipletests(p[valid], method="holm")[1]
        assert holm(p).tobytes() == expected.tobytes(), p


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = np.arange(20, dtype=float)
    low, high = bootstrap_ci(values)
    assert (low, high) == bootstrap_ci(values)
    assert low < values.mean() < high


def test_wilcoxon_of_identical_samples_is_one() -> None:
    x = np.array([1.0, 2.0, 3.0])
    assert paired_wilcoxon(x, x) == 1.0


def test_summary_respects_metric_direction(results_dir: Path) -> None:
    summary = summarize(load_results(results_dir))
    for (pair, metric), cell in summary.groupby(["pair", "metric"]):
        best = cell.loc[cell["best"], "mean"].iloc[0]
        expected = cell["mean"].min() if metric == "ERR" else cell["mean"].max()
        assert best == expected, (pair, metric)
        assert cell["n"].eq(6).all()
        assert (cell["ci_low"] <= cell["mean"]).all() and (cell["mean"] <= cell["ci_high"]).all()


def test_markdown_marks_best_and_names_the_run(results_dir: Path) -> None:
    text = (results_dir / "leaderboard.md").read_text()
    assert "metric profile **default**" in text and "split `test`" in text
    assert "| Method | EN ↑ | SD ↑ | ERR ↓ | Mean rank ↓ | Failures |" in text
    for pair in ("MRI-CT", "MRI-PET", "MRI-SPECT"):
        assert f"## {pair} (6 images)" in text
    assert text.count("**") >= 2 * 3 * 4 and "<u>" in text
    assert "`MRI-CT/9999.png`: missing partner" in text


def test_csv_is_long_form_with_provenance(results_dir: Path) -> None:
    frame = pd.read_csv(results_dir / "leaderboard.csv")
    assert len(frame) == 3 * 2 * 3
    assert {"mean", "ci_low", "ci_high", "p_holm", "mean_rank", "failures",
            "dataset_hash", "profile", "software_version", "fingerprint"} <= set(frame.columns)


def test_failures_are_counted_per_pair(results_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("scores.csv", "run.json"):
        shutil.copy(results_dir / name, copy / name)
    run = load_results(copy).record
    run["failures"] = [{"method": "max", "pair_type": "MRI-PET", "image": "x", "message": "boom"}]
    (copy / "run.json").write_text(json.dumps(run))
    board = build_leaderboard(load_results(copy))
    text = render_to(copy / "leaderboard.md", "leaderboard.md.j2", board=board).read_text()
    assert "- max on 1 image(s) (MRI-PET/x): boom" in text
    pet = text.split("## MRI-PET")[1].split("## ")[0]
    assert [line for line in pet.splitlines() if line.startswith("| max |")][0].endswith("| 1 |")
    counts = leaderboard_frame(board).groupby(["method", "pair"])["failures"].first().to_dict()
    assert counts == {("max", "MRI-CT"): 0, ("max", "MRI-PET"): 1, ("max", "MRI-SPECT"): 0,
                      ("mean", "MRI-CT"): 0, ("mean", "MRI-PET"): 0, ("mean", "MRI-SPECT"): 0}


def test_every_output_is_written_byte_identically(results_dir: Path, harvard_root: Path) -> None:
    before = {p: p.read_bytes() for p in sorted(results_dir.glob("leaderboard.*"))
              + sorted((results_dir / "figures").glob("*.png"))}
    written = write_report(results_dir, source_root=harvard_root)
    assert {p: p.read_bytes() for p in written} == before
    names = {p.relative_to(results_dir).as_posix() for p in written}
    assert {"leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.tex",
            "leaderboard.html", "figures/comparison.png"} <= names
    for metric in ("EN", "SD", "ERR"):
        assert {f"figures/bar_{metric}.png", f"figures/box_{metric}.png"} <= names


def test_latex_compiles_with_pdflatex(results_dir: Path, tmp_path: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not found: apt-get install texlive-latex-base "
                    "texlive-latex-recommended texlive-fonts-recommended")
    source = tmp_path / "leaderboard.tex"
    shutil.copy(results_dir / "leaderboard.tex", source)
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "leaderboard.pdf").stat().st_size > 0
    text = source.read_text()
    assert r"\toprule" in text and r"\textbf{" in text and r"\underline{" in text
    assert r"ERR $\downarrow$" in text


def test_json_records_provenance_and_tables(results_dir: Path) -> None:
    record = json.loads((results_dir / "leaderboard.json").read_text())
    assert record["software"]["version"] == "0.1.0" and record["profile"] == "default"
    assert record["dataset"]["hash"] == "d" * 64 and "root" not in record["dataset"]
    assert record["methods"]["mean"]["fingerprint"] == "fp-mean"
    rows = record["leaderboard"]["MRI-CT"]["rows"]
    assert [r["method"] for r in rows] == ["mean", "max"]
    score = rows[0]["scores"]["EN"]
    assert score["n"] == 6 and score["ci95"][0] <= score["mean"] <= score["ci95"][1]



def test_a_report_without_fused_images_says_the_views_are_left_out(results_dir: Path,
                                                                    harvard_root: Path,
                                                                    tmp_path: Path,
                                                                    caplog) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("scores.csv", "run.json"):
        shutil.copy(results_dir / name, copy / name)
    with caplog.at_level(logging.INFO, logger="mmif_bench"):
        written = write_report(copy, source_root=harvard_root)
    notes = [record.getMessage() for record in caplog.records]
    assert notes == ["note: image views left out of the report: the results folder holds no "
                     "fused/ images"]
    assert "figures/comparison.png" not in {p.relative_to(copy).as_posix() for p in written}
    page = (copy / "leaderboard.html").read_text()
    assert "Image views left out: the results folder holds no fused/ images." in page
    assert "data:image/png" not in page.split('id="image-data"')[1].split("</script>")[0]


def test_not_applicable_pairs_show_as_na_and_are_not_ranked(results_dir: Path,
                                                            harvard_root: Path,
                                                            tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(results_dir, copy)
    run = json.loads((copy / "run.json").read_text())
    run["not_applicable"] = {"max": ["MRI-PET"]}
    (copy / "run.json").write_text(json.dumps(run))
    scores = (copy / "scores.csv").read_text().splitlines()
    (copy / "scores.csv").write_text("\n".join(line for line in scores
                                               if not line.startswith("max,harvard,MRI-PET,")) + "\n")
    write_report(copy, source_root=harvard_root)
    pet = (copy / "leaderboard.md").read_text().split("## MRI-PET")[1].split("## ")[0]
    assert "| max | n/a | n/a | n/a | n/a | n/a |" in pet
    record = json.loads((copy / "leaderboard.json").read_text())
    rows = {r["method"]: r for r in record["leaderboard"]["MRI-PET"]["rows"]}
    assert rows["max"]["not_applicable"] and rows["max"]["mean_rank"] is None
    assert rows["mean"]["mean_rank"] == 1.0  # ranked among the methods that apply
    assert not rows["mean"]["not_applicable"]
    csv = pd.read_csv(copy / "leaderboard.csv")
    na = csv[csv["not_applicable"]]
    assert set(zip(na["method"], na["pair"])) == {("max", "MRI-PET")} and na["mean"].isna().all()
    assert r"max & n/a & n/a & n/a & n/a & n/a \\" in (copy / "leaderboard.tex").read_text()
