"""Tables a paper can print: row order, ties at display precision, display names, the
CD diagram's caption, LaTeX tables split to stay legible and bar axes that show the
differences. Synthetic scores of 16 methods x 13 metrics (no data needed)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _report_results import make_wide_results

from mmif_bench.registry import get_metric
from mmif_bench.reporting.figures import close_range_bottom
from mmif_bench.reporting.loading import load_results
from mmif_bench.reporting.render import render_to
from mmif_bench.reporting.tables import build_leaderboard, leaderboard_frame


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wide_results(tmp_path_factory.mktemp("print") / "run")


def test_rows_follow_mean_rank_or_the_name_on_request(wide: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(wide, copy)
    run = json.loads((copy / "run.json").read_text())
    run["methods"] = dict(reversed(run["methods"].items()))  # declared worst first
    (copy / "run.json").write_text(json.dumps(run))
    results = load_results(copy)
    board = build_leaderboard(results)
    for table in board.tables:
        ranked = [row.mean_rank for row in table.rows if not row.not_applicable]
        assert ranked == sorted(ranked)
        assert [r.method for r in table.rows] != results.methods  # not the declared order
        assert all(r.not_applicable for r in table.rows[len(ranked):])
    overall = [row.overall for row in board.ranking.rows]
    assert overall == sorted(overall)

    by_name = build_leaderboard(results, order="name")
    for table in by_name.tables:
        names = [r.method for r in table.rows if not r.not_applicable]
        assert names == sorted(names, key=str.casefold)
    assert [r.method for r in by_name.ranking.rows] == sorted(results.methods, key=str.casefold)
    # the mark of the best overall follows the rank, not the row position
    best = min(by_name.ranking.rows, key=lambda r: r.overall).method
    assert by_name.overall_marks[best] == "best" and by_name.ranking.rows[0].method != best
    with pytest.raises(ValueError, match="unknown row order 'size'; choose one of rank, name"):
        build_leaderboard(results, order="size")


def test_a_tie_at_display_precision_is_shown_as_a_tie(wide: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(wide, copy)
    scores = pd.read_csv(copy / "scores.csv")
    tied = (scores["pair"] == "MRI-CT") & (scores["metric"] == "Nabf")
    # every method scores 0.0000 at display precision, but the raw means differ
    scores.loc[tied, "value"] = np.random.default_rng(0).uniform(0, 1e-7, tied.sum())
    scores.to_csv(copy / "scores.csv", index=False, lineterminator="\n")
    board = build_leaderboard(load_results(copy))
    column = [c.metric for c in board.columns].index("Nabf")
    cells = [row.cells[column] for row in board.tables[0].rows if not row.not_applicable]
    assert {f"{c.mean_text} ± {c.std_text}" for c in cells} == {"0.00 ± 0.00"}
    assert all(c.best and not c.second and not c.same_as_best for c in cells)
    raw = board.summary[(board.summary["pair"] == "MRI-CT") & (board.summary["metric"] == "Nabf")]
    assert raw["best"].sum() == 1 and raw["second"].sum() == 1  # CSV keeps the raw ranks

    render_to(copy / "leaderboard.md", "leaderboard.md.j2", board=board)
    render_to(copy / "leaderboard.tex", "leaderboard.tex.j2", board=board)
    md = (copy / "leaderboard.md").read_text()
    assert md.count("**0.00 ± 0.00**") == len(cells)
    assert "<u>0.00 ± 0.00" not in md
    tex = (copy / "leaderboard.tex").read_text()
    assert tex.count(r"\textbf{0.00 $\pm$ 0.00}") == len(cells)
    assert r"\underline{0.00 $\pm$ 0.00}" not in tex


def test_reports_print_metric_display_names_and_keep_ids_in_data(wide: Path,
                                                                 tmp_path: Path) -> None:
    from mmif_bench.runner import _metric_record

    assert get_metric("MS_SSIM").label == "MS-SSIM" and get_metric("EN").label == "EN"
    assert _metric_record(get_metric("Qabf"))["display_name"] == "QAB/F"
    board = build_leaderboard(load_results(wide))
    for name in ("leaderboard.md", "leaderboard.tex", "leaderboard.html"):
        render_to(tmp_path / name, f"{name}.j2", board=board, charts=[], cd_diagram=None,
                  images={}, images_missing="none", images_per_pair=0, methods=[])
    md, tex, html = (tmp_path / n for n in ("leaderboard.md", "leaderboard.tex",
                                            "leaderboard.html"))
    assert "| MS-SSIM ↑ |" in md.read_text() and "MS_SSIM" not in md.read_text()
    assert "MS-SSIM" in tex.read_text() and r"MS\_SSIM" not in tex.read_text()
    assert ">MS-SSIM ↑<" in html.read_text()
    assert "MS_SSIM" in set(leaderboard_frame(board)["metric"])


def test_cd_diagram_and_overall_column_are_not_offered_for_comparison(wide: Path,
                                                                      tmp_path: Path) -> None:
    board = build_leaderboard(load_results(wide))
    assert board.ranking.friedman is not None and board.ranking.friedman.left_out == ["ct-only"]
    note = board.cd_note
    assert note.startswith("The critical-difference diagram is a different ranking from the "
                           "Overall column: it ranks only the 15 methods")
    assert "(leaving out ct-only)" in note and "over all 39 blocks" in note
    render_to(tmp_path / "leaderboard.html", "leaderboard.html.j2", board=board, charts=[],
              cd_diagram="data:image/png;base64,", images={}, images_missing="none",
              images_per_pair=0, methods=[])
    html = (tmp_path / "leaderboard.html").read_text()
    assert re.search(r'<figure class="cd" id="cd-diagram"><figcaption[^>]*>.*different ranking',
                     html)
    render_to(tmp_path / "leaderboard.md", "leaderboard.md.j2", board=board)
    assert "is a different ranking from the Overall column" in (tmp_path / "leaderboard.md"
                                                                ).read_text()


def test_latex_splits_13_metrics_into_tables_of_at_most_7_at_8_pt(wide: Path,
                                                                   tmp_path: Path) -> None:
    board = build_leaderboard(load_results(wide))
    assert [len(g) for g in board.column_groups()] == [7, 6]
    render_to(tmp_path / "leaderboard.tex", "leaderboard.tex.j2", board=board)
    tex = (tmp_path / "leaderboard.tex").read_text()
    assert r"\resizebox" not in tex
    specs = re.findall(r"\\begin\{tabular\}\{(l[lr]*)\}", tex)
    assert len(specs) == 1 + 3 * 2  # the ranking, then each pair type in two parts
    assert max(len(s) for s in specs[1:]) <= 1 + 1 + 7 + 1  # method, rank, metrics, failures
    assert tex.count(r"\footnotesize") == 6 and "metrics part 2 of 2" in tex
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not found: apt-get install texlive-latex-base "
                    "texlive-latex-recommended texlive-fonts-recommended")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                           "leaderboard.tex"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Overfull \\hbox" not in done.stdout  # every table fits the page at 8 pt


def test_bar_axis_starts_near_the_values_only_when_they_lie_close() -> None:
    close = np.array([0.80, 0.82, 0.85, 0.81])
    bottom = close_range_bottom(close)
    assert bottom is not None and 0.7 < bottom < 0.80
    assert close_range_bottom(np.array([1.0, 10.0])) is None      # far apart: from 0
    assert close_range_bottom(np.array([-1.0, -0.9])) is None     # negative: from 0
    assert close_range_bottom(np.array([np.nan])) is None
