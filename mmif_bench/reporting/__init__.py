"""Leaderboards and reports of a run: its :class:`~mmif_bench.runner.RunResult`, or a
results folder written by ``mmif-bench run``."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .citations import write_bib
from .figures import write_figures
from .html import IMAGES_PER_PAIR, write_html
from .loading import load_results
from .render import render_to
from .tables import build_leaderboard, write_csv, write_json

if TYPE_CHECKING:
    from mmif_bench.runner import RunResult

logger = logging.getLogger(__name__)


def write_report(results: RunResult | str | Path, images_per_pair: int = IMAGES_PER_PAIR,
                 source_root: Path | None = None, order: str = "rank") -> list[Path]:
    """Write the leaderboard files of a run into its results folder.

    Parameters
    ----------
    results : RunResult or path
        What :func:`mmif_bench.run` returned, or a results folder to read back.
    images_per_pair : int
        Images per pair type in the HTML view (0: all).
    source_root : Path, optional
        The dataset folder (default: the registered dataset of the run's name). Without
        fused or source images the image views are left out, with a note in the log.
    order : {"rank", "name"}
        Row order of every table: by mean rank, best first (default), or by name.

    Returns
    -------
    list of Path
        The files written.
    """
    loaded = load_results(results, source_root)
    board = build_leaderboard(loaded, order)
    missing = loaded.image_views_missing()
    if missing:
        logger.info("note: image views left out of the report: %s", missing)
    folder = loaded.root
    return [render_to(folder / "leaderboard.md", "leaderboard.md.j2", board=board),
            write_csv(board, folder / "leaderboard.csv"),
            write_json(board, folder / "leaderboard.json"),
            render_to(folder / "leaderboard.tex", "leaderboard.tex.j2", board=board),
            write_bib(board.citations, folder / "leaderboard.bib"),
            *write_figures(board, folder / "figures", images=not missing),
            write_html(board, folder / "leaderboard.html", folder / "figures",
                       images_per_pair, images_missing=missing)]


def note_earlier_report(folder: Path) -> None:
    """Say when ``folder`` holds the leaderboard of an earlier run (a run that writes no
    report leaves it), and the command that rewrites it."""
    if (folder / "leaderboard.md").is_file():
        logger.warning("note: the leaderboard files in %s are an earlier run's (this run wrote "
                       "no report); 'mmif-bench report --results %s' rewrites them from this "
                       "run", folder, folder)


__all__ = ["load_results", "note_earlier_report", "write_report"]
