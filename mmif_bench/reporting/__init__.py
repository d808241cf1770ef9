"""Leaderboards and reports of a results folder written by ``mmif-bench run``."""
from __future__ import annotations

from pathlib import Path

from .figures import write_figures
from .html import IMAGES_PER_PAIR, write_html
from .render import render_to
from .results import load_results
from .tables import build_leaderboard, write_csv, write_json


def write_report(results_dir: Path, images_per_pair: int = IMAGES_PER_PAIR) -> list[Path]:
    """Write the leaderboard files into ``results_dir``; returns the paths written.
    ``images_per_pair`` caps the images per modality pair in the HTML view (0: all)."""
    results_dir = Path(results_dir)
    board = build_leaderboard(load_results(results_dir))
    return [render_to(results_dir / "leaderboard.md", "leaderboard.md.j2", board=board),
            write_csv(board, results_dir / "leaderboard.csv"),
            write_json(board, results_dir / "leaderboard.json"),
            render_to(results_dir / "leaderboard.tex", "leaderboard.tex.j2", board=board),
            *write_figures(board, results_dir / "figures"),
            write_html(board, results_dir / "leaderboard.html", results_dir / "figures",
                       images_per_pair)]


__all__ = ["write_report"]
