"""Leaderboards and reports of a results folder written by ``mmif-bench run``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from .citations import write_bib
from .figures import write_figures
from .html import IMAGES_PER_PAIR, write_html
from .render import render_to
from .results import load_results
from .tables import build_leaderboard, write_csv, write_json


def write_report(results_dir: Path, images_per_pair: int = IMAGES_PER_PAIR,
                 source_root: Path | None = None,
                 log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> list[Path]:
    """Write the leaderboard files into ``results_dir``; returns the paths written.
    ``images_per_pair`` caps the images per modality pair in the HTML view (0: all);
    ``source_root`` is the dataset folder (default: the registered dataset of that name).
    Without fused or source images the image views are left out, and ``log`` says so."""
    results_dir = Path(results_dir)
    board = build_leaderboard(load_results(results_dir, source_root))
    missing = board.results.image_views_missing()
    if missing:
        log(f"note: image views left out of the report: {missing}")
    return [render_to(results_dir / "leaderboard.md", "leaderboard.md.j2", board=board),
            write_csv(board, results_dir / "leaderboard.csv"),
            write_json(board, results_dir / "leaderboard.json"),
            render_to(results_dir / "leaderboard.tex", "leaderboard.tex.j2", board=board),
            write_bib(board.citations, results_dir / "leaderboard.bib"),
            *write_figures(board, results_dir / "figures", images=not missing),
            write_html(board, results_dir / "leaderboard.html", results_dir / "figures",
                       images_per_pair, images_missing=missing)]


__all__ = ["write_report"]
