"""Report figures (matplotlib, Agg canvas, no pyplot state): bar charts of the means with
95% bootstrap CIs, per-image box plots, and a visual comparison grid.

PNG files carry no software/time metadata, so identical runs give identical files. Text is
drawn as given: mathtext is off (a method named ``$x$`` is shown as ``$x$``), and each PNG
is written atomically.
"""
from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from matplotlib import colormaps, rc_context
from matplotlib.figure import Figure
from scikit_posthocs import critical_difference_diagram

from mmif_bench.fsutil import atomic_write_bytes
from mmif_bench.imageio import ImageError, read_image
from mmif_bench.metric import arrow
from mmif_bench.run_record import ImagePairRecord

from .tables import Leaderboard

logger = logging.getLogger(__name__)

DPI = 110
PNG_METADATA = {"Software": None}
F = TypeVar("F", bound=Callable)


def plain_text(draw: F) -> F:
    """Run a figure function with mathtext off, so that any name is drawn literally."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with rc_context({"text.parse_math": False, "text.usetex": False}):
            return draw(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def figure_paths(folder: Path, metric: str) -> tuple[Path, Path]:
    """Where a metric's bar chart and box plot are written."""
    return folder / f"bar_{safe_name(metric)}.png", folder / f"box_{safe_name(metric)}.png"


def method_labels(board: Leaderboard, methods: list[str]) -> dict[str, str]:
    """Method -> its display label, or its id where two methods share a label."""
    labels = {m: board.who(m)["label"] for m in methods}
    shared = {v for v in labels.values() if list(labels.values()).count(v) > 1}
    return {m: m if v in shared else v for m, v in labels.items()}


def board_label(board: Leaderboard, metric: str) -> str:
    """A metric's display name in ``board``."""
    return next((c.label for c in board.columns if c.metric == metric), metric)


def close_range_bottom(values: np.ndarray, spread: float = 0.5) -> float | None:
    """Where a bar chart's y-axis starts when its positive values lie close together
    (range below ``spread`` of the largest): a little under the smallest, so the
    differences show; None (start at 0) otherwise."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    if low <= 0 or high - low >= spread * high:
        return None
    return max(0.0, low - 0.15 * max(high - low, 1e-12 * high))


def _colours(methods: list[str]) -> dict[str, tuple]:
    palette = colormaps["tab10" if len(methods) <= 10 else "tab20"]
    return {m: palette(i % palette.N) for i, m in enumerate(methods)}


def _save(figure: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
    atomic_write_bytes(path, buffer.getvalue())
    return path


@plain_text
def bar_chart(board: Leaderboard, metric: str, path: Path) -> Path:
    """Grouped bars (pairs x methods) of one metric's means with 95% CI error bars."""
    results, summary = board.results, board.summary
    methods, pairs = results.methods, results.pair_types
    colours = _colours(methods)
    labels = method_labels(board, methods)
    figure = Figure(figsize=(max(5.0, 1.0 + 0.45 * len(methods) * len(pairs)), 3.4),
                    layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(methods))
    cells = summary[summary["metric"] == metric].set_index(["pair", "method"])
    for i, method in enumerate(methods):
        rows = cells.reindex([(p, method) for p in pairs])
        mean = rows["mean"].to_numpy(float)
        errors = np.vstack([mean - rows["ci_low"].to_numpy(float),
                            rows["ci_high"].to_numpy(float) - mean])
        axes.bar(np.arange(len(pairs)) + (i - (len(methods) - 1) / 2) * width, mean, width,
                 yerr=errors, capsize=2, label=labels[method], color=colours[method],
                 error_kw={"linewidth": 0.8})
    bottom = close_range_bottom(cells[["mean", "ci_low", "ci_high"]].to_numpy(float))
    if bottom is not None:
        axes.set_ylim(bottom=bottom)
        axes.text(0.02, 0.01, f"axis starts at {bottom:.4g}, not 0", transform=axes.transAxes,
                  fontsize=7, ha="left", va="bottom", color="0.3",
                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        axes.plot([-0.012, 0.012], [0.015, 0.035], transform=axes.transAxes, color="black",
                  linewidth=0.8, clip_on=False)  # an axis-break mark on the y-axis
    higher = results.higher_is_better(metric)
    direction = f"{arrow(higher)} {'higher' if higher else 'lower'} is better"
    axes.set_title(f"{board_label(board, metric)} ({direction}); mean and 95% bootstrap CI",
                   fontsize=10)
    axes.set_xticks(np.arange(len(pairs)), pairs)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(fontsize=8, ncols=min(len(methods), 6), loc="upper center",
                bbox_to_anchor=(0.5, -0.12), frameon=False)
    return _save(figure, path)


@plain_text
def box_plot(board: Leaderboard, metric: str, path: Path) -> Path:
    """Per-image distributions of one metric: one panel per pair, one box per method."""
    results = board.results
    methods, pairs = results.methods, results.pair_types
    colours = _colours(methods)
    scores = results.scores[results.scores["metric"] == metric]
    labels = method_labels(board, methods)
    figure = Figure(figsize=(max(5.0, 0.5 + len(pairs) * (0.9 + 0.4 * len(methods))), 3.4),
                    layout="constrained")
    panels = figure.subplots(1, len(pairs), squeeze=False)[0]
    for axes, pair in zip(panels, pairs):
        data = [scores.loc[(scores["pair"] == pair) & (scores["method"] == m), "value"].dropna()
                for m in methods]
        boxes = axes.boxplot(data, patch_artist=True, widths=0.6,
                             flierprops={"markersize": 3}, medianprops={"color": "black"})
        for patch, method in zip(boxes["boxes"], methods):
            patch.set_facecolor(colours[method])
        axes.set_xticks(np.arange(1, len(methods) + 1), [labels[m] for m in methods],
                        rotation=45, ha="right",
                        fontsize=8)
        axes.set_title(pair, fontsize=9)
        axes.grid(axis="y", alpha=0.3)
    figure.suptitle(f"{board_label(board, metric)} {arrow(results.higher_is_better(metric))} "
                    "per image", fontsize=10)
    return _save(figure, path)


def _pixels(path: Path | None) -> np.ndarray | None:
    if path is None:
        return None
    try:
        return read_image(path).pixels
    except ImageError:
        return None


@plain_text
def comparison_grid(board: Leaderboard, path: Path) -> Path:
    """Rows: the first image of each pair; columns: the two sources, then every method
    that produced results (one that failed on every pair is in the tables' failures)."""
    results = board.results
    firsts: dict[str, ImagePairRecord] = {}
    for entry in results.record["pairs"]:
        firsts.setdefault(entry["pair_type"], entry)
    scored = set(results.scores["method"])
    methods = [m for m in results.methods if m in scored]
    columns = 2 + len(methods)
    figure = Figure(figsize=(2.3 * columns, 2.5 * max(1, len(firsts))), layout="constrained")
    grid = figure.subplots(max(1, len(firsts)), columns, squeeze=False)
    for row, (pair, entry) in zip(grid, firsts.items()):
        first, _, second = pair.partition("-")
        path_a, path_b = results.source_paths(entry)
        images = [(first, _pixels(path_a)), (second, _pixels(path_b))]
        images += [(board.who(m)["label"], _pixels(results.fused_path(m, pair, entry["image"])))
                   for m in methods]
        for axes, (title, pixels) in zip(row, images):
            axes.set_axis_off()
            axes.set_title(title, fontsize=8)
            if pixels is None:
                axes.text(0.5, 0.5, "missing", ha="center", va="center", fontsize=8)
            else:
                axes.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None,
                            vmin=0, vmax=255, interpolation="nearest")
        row[0].text(-0.08, 0.5, f"{pair}\n{entry['image']}", transform=row[0].transAxes,
                    rotation=90, ha="right", va="center", fontsize=8)
    return _save(figure, path)


CD_DIAGRAM = "cd_diagram.png"
COMPARISON = "comparison.png"
_OURS = ("bar_*.png", "box_*.png", CD_DIAGRAM, COMPARISON)
"""The names of the figures a report writes (what an earlier report left is removed)."""


@plain_text
def cd_diagram(board: Leaderboard, path: Path) -> Path | None:
    """Critical-difference diagram of the Friedman/Nemenyi comparison (Demšar 2006):
    mean ranks on the axis, methods that Nemenyi cannot tell apart joined by a bar
    (scikit-posthocs); None when the run has no such comparison."""
    friedman = board.ranking.friedman
    if friedman is None:
        return None
    methods = len(friedman.methods)
    figure = Figure(figsize=(7.5, 1.2 + 0.22 * methods), layout="constrained")
    axes = figure.add_subplot()
    labels = method_labels(board, friedman.methods)
    nemenyi = friedman.nemenyi.rename(index=labels, columns=labels)
    critical_difference_diagram(friedman.ranks.rename(labels), nemenyi, alpha=friedman.alpha,
                                ax=axes, label_props={"fontsize": 8})
    figure.suptitle(f"Mean rank of the {methods} methods scored in all {friedman.blocks} "
                    "(pair type, metric) blocks: not the Overall column's ranking\n"
                    f"Friedman p = {friedman.p_value:.2g}; bars: Nemenyi p >= {friedman.alpha} "
                    f"(CD = {friedman.critical_difference:.2f})", fontsize=8)
    return _save(figure, path)


def write_figures(board: Leaderboard, folder: Path, images: bool = True) -> list[Path]:
    """Every figure of the report, written into ``folder`` (none for a run with no pairs);
    the image comparison grid only with ``images``."""
    if not board.results.pair_types:
        return []
    paths = [p for p in [cd_diagram(board, folder / CD_DIAGRAM)] if p is not None]
    for metric in board.results.metrics:
        bar, box = figure_paths(folder, metric)
        paths += [bar_chart(board, metric, bar), box_plot(board, metric, box)]
    if images:
        paths.append(comparison_grid(board, folder / COMPARISON))
    _remove_stale_figures(folder, paths)
    return paths


def _remove_stale_figures(folder: Path, written: list[Path]) -> None:
    """Remove the figures an earlier report wrote into ``folder`` that this one did not
    (a metric or the image views left out now); other files are never touched."""
    stale = sorted({p for pattern in _OURS for p in folder.glob(pattern)
                    if p.is_file() and not p.is_symlink()} - set(written))
    for path in stale:
        path.unlink()
    if stale:
        logger.info("removed %d figures of an earlier report: %s", len(stale),
                    ", ".join(p.name for p in stale))
