"""The leaderboard model (per pair: methods x metrics) and its CSV and JSON exports.

Every output format (Markdown, LaTeX, HTML, JSON) renders the same :class:`Leaderboard`,
so the bold/underline/dagger marks and numbers agree across formats.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from mmif_bench.fsutil import atomic_write_bytes
from mmif_bench.metric import arrow
from mmif_bench.provenance import legend, provenance_of
from mmif_bench.registry import UnknownPluginError, get_metric
from mmif_bench.run_record import RunRecord

from .citations import Citations, collect_citations
from .loading import Results
from .ranking import Ranking, overall_ranking
from .stats import ALPHA, CONFIDENCE, RESAMPLES, SEED, mean_ranks, summarize

LATEX_COLUMNS = 7  # metric columns per LaTeX table: legible at 8 pt on a landscape page
RANK_DIGITS = 2  # decimals of every mean rank shown
ORDERS = ("rank", "name")
"""Row orders of every table: by mean rank (best first) or alphabetically by label."""


@dataclass(frozen=True)
class Column:
    """A metric column: name, direction and the definition shown in tooltips/footnotes."""

    metric: str
    higher_is_better: bool
    description: str
    reference: str
    unit: str
    label: str = ""
    """The metric's display name (``MS-SSIM``); the id stays in CSV and JSON."""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.metric)

    @property
    def arrow(self) -> str:
        return arrow(self.higher_is_better)


@dataclass(frozen=True)
class Cell:
    """One method's score on one metric: numbers, their display text and marks."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    p_holm: float
    mean_text: str
    std_text: str
    best: bool
    second: bool
    same_as_best: bool


@dataclass(frozen=True)
class Row:
    method: str
    cells: list[Cell | None]
    mean_rank: float
    rank_best: bool
    rank_second: bool
    failures: int
    not_applicable: bool = False
    """The method has no model for this pair type: shown as n/a, not ranked."""


@dataclass(frozen=True)
class PairTable:
    pair: str
    images: int
    rows: list[Row]


@dataclass
class Leaderboard:
    """Everything a report shows, in display order."""

    results: Results
    summary: pd.DataFrame
    columns: list[Column]
    tables: list[PairTable]
    failures: pd.DataFrame
    ranking: Ranking
    citations: Citations
    notes: dict = field(default_factory=dict)
    overall_marks: dict[str, str] = field(default_factory=dict)
    """Method -> ``best``, ``second`` or "" by overall mean rank as displayed (2 decimals)."""

    def column_groups(self, most: int = LATEX_COLUMNS) -> list[list[tuple[int, Column]]]:
        """The metric columns split into the fewest groups of at most ``most`` columns,
        of balanced size (13 -> 7 + 6), each as ``(index, column)``: one LaTeX table per
        group keeps a wide board legible on a page."""
        indexed = list(enumerate(self.columns))
        count = max(1, math.ceil(len(indexed) / most))
        size = max(1, math.ceil(len(indexed) / count))
        return [indexed[i:i + size] for i in range(0, len(indexed), size)] or [[]]

    @property
    def record(self) -> RunRecord:
        return self.results.record

    @cached_property
    def provenance(self) -> dict[str, dict[str, str]]:
        """Method -> how its rows were produced: kind, label, detail, marker."""
        return {name: provenance_of(name, info) for name, info in self.record["methods"].items()}

    def who(self, method: str) -> dict[str, str]:
        """A row's label and provenance marker (:attr:`provenance`)."""
        return self.provenance.get(method) or provenance_of(method, {})

    @cached_property
    def efficiency(self) -> list[dict[str, str]]:
        """The efficiency table: per method run here, parameters (M), GFLOPs of one
        256 x 256 pair and seconds per pair as measured in the run (``run.json``)."""
        return [efficiency_row(name, info.get("efficiency") or {})
                for name, info in self.record["methods"].items()
                if info.get("efficiency")]

    @property
    def cd_note(self) -> str:
        """What the critical-difference diagram ranks, said so that no reader compares it
        with the Overall column when the two differ ("" without a Friedman test)."""
        friedman = self.ranking.friedman
        if friedman is None:
            return ""
        overall = {row.method: row.overall for row in self.ranking.rows}
        if not friedman.left_out and all(math.isclose(float(friedman.ranks[m]), overall[m])
                                         for m in friedman.methods):
            return (f"The critical-difference diagram places each of the "
                    f"{len(friedman.methods)} methods at its Overall mean rank.")
        left = ", ".join(self.who(m)["label"] for m in friedman.left_out)
        return (f"The critical-difference diagram is a different ranking from the Overall "
                f"column: it ranks only the {len(friedman.methods)} methods scored in every "
                f"(pair type, metric) block" + (f" (leaving out {left})" if left else "")
                + f", by mean rank over all {friedman.blocks} blocks, whereas Overall averages "
                "each method's mean rank per pair type over the pair types it applies to. "
                "Compare methods within one ranking, not across the two.")

    @property
    def legend(self) -> list[dict[str, str]]:
        """The provenance markers the report uses, with their meaning."""
        return legend([p["kind"] for p in self.provenance.values()])

    @property
    def failure_groups(self) -> list[dict]:
        """Failures grouped by method and message: ``method, message, images`` (the
        ``pair/image`` names), in first-seen order."""
        groups: dict[tuple[str, str], list[str]] = {}
        for failure in self.record["failures"]:
            key = (failure["method"], failure["message"])
            groups.setdefault(key, []).append(f"{failure['pair_type']}/{failure['image']}")
        return [{"method": m, "message": msg, "images": images}
                for (m, msg), images in groups.items()]


def efficiency_row(method: str, measured: dict) -> dict[str, str]:
    """One row of the efficiency table, as text ("n/a" where not measurable)."""
    params, flops, seconds = (measured.get(k) for k in ("parameters", "flops",
                                                         "seconds_per_pair"))
    return {"method": method,
            "parameters": "n/a" if params is None else f"{params / 1e6:.3f}",
            "gflops": "n/a" if flops is None else f"{flops / 1e9:.2f}",
            "flops_note": str(measured.get("flops_note", "")),
            "seconds_per_pair": "–" if seconds is None else f"{seconds:.3f}",
            "seconds_total": f"{measured.get('seconds_total', 0.0):.1f}",
            "pairs_timed": str(measured.get("pairs_timed", 0)),
            "device": str(measured.get("device", "")), "threads": str(measured.get("threads", "")),
            "batch": str(measured.get("batch", "")), "jobs": str(measured.get("jobs", ""))}


def decimals(values: pd.Series) -> int:
    """Decimals that show about four significant digits of the largest magnitude."""
    largest = values.abs().max()
    if not largest or not math.isfinite(largest):
        return 3
    return min(4, max(0, 3 - math.floor(math.log10(largest))))




def _dense_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    dense = values.rank(method="dense")
    return dense.eq(1), dense.eq(2)


def display_marks(summary: pd.DataFrame, digits: dict[str, int],
                  higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """``best``/``second``/``same_as_best`` of each (pair, method, metric) judged on the
    means as displayed (rounded to the column's decimals): means that print alike are a
    tie, both best (or both second), never one bold and one underlined."""
    marks = summary[["pair", "method", "metric", "mean", "same_as_best"]].copy()
    shown = [round(float(v), digits[m]) * (1 if higher_is_better[m] else -1)
             for v, m in zip(marks["mean"], marks["metric"])]
    marks["shown"] = shown
    dense = marks.groupby(["pair", "metric"], sort=False)["shown"].rank(ascending=False,
                                                                        method="dense")
    marks["best"], marks["second"] = dense.eq(1), dense.eq(2)
    marks["same_as_best"] = marks["same_as_best"] & ~marks["best"]
    return marks.set_index(["pair", "method", "metric"])[["best", "second", "same_as_best"]]


def display_name(results: Results, metric: str) -> str:
    """The metric's display name as the run recorded it; for a run recorded before
    display names, the installed metric's (its id when not installed)."""
    recorded = results.metric_info(metric).get("display_name")
    if recorded:
        return str(recorded)
    try:
        return get_metric(metric).label
    except (UnknownPluginError, ImportError):
        return metric


def metric_column(results: Results, metric: str) -> Column:
    info = results.metric_info(metric)
    return Column(metric, results.higher_is_better(metric), info.get("description", ""),
                  info.get("reference", ""), info.get("unit", ""), display_name(results, metric))


def _row_order(rows: list[Row], label: Callable[[str], str], order: str) -> list[Row]:
    if order == "name":
        return sorted(rows, key=lambda r: (r.not_applicable, label(r.method).casefold()))
    return sorted(rows, key=lambda r: (r.not_applicable, math.isnan(r.mean_rank),
                                       0.0 if math.isnan(r.mean_rank) else r.mean_rank,
                                       label(r.method).casefold()))


def build_leaderboard(results: Results, order: str = "rank") -> Leaderboard:
    """Summarise ``results`` into per-pair tables with marks and mean ranks; ``order``
    (:data:`ORDERS`) sorts every table's rows by mean rank or by name."""
    if order not in ORDERS:
        raise ValueError(f"unknown row order {order!r}; choose one of {', '.join(ORDERS)}")
    summary = summarize(results)
    columns = [metric_column(results, m) for m in results.metrics]
    digits = {m: decimals(summary.loc[summary["metric"] == m, "mean"]) for m in results.metrics}
    marks = display_marks(summary, digits, {m: results.higher_is_better(m) for m in results.metrics})
    ranks = mean_ranks(summary)
    failures = results.failures().set_index(["method", "pair"])["failures"]
    cells = summary.set_index(["pair", "method", "metric"])
    images = Counter(entry["pair_type"] for entry in results.record["pairs"])
    methods_run = results.record["methods"]

    def label(method: str) -> str:
        return provenance_of(method, methods_run.get(method, {}))["label"]

    tables = []
    for pair in results.pair_types:
        methods = [m for m in results.methods
                   if (pair, m) in ranks.index or failures.get((m, pair), 0)]
        pair_ranks = pd.Series([ranks.get((pair, m), math.nan) for m in methods], dtype=float)
        rank_best, rank_second = _dense_flags(pair_ranks.round(RANK_DIGITS))
        rows = []
        for i, method in enumerate(methods):
            row_cells: list[Cell | None] = []
            for column in columns:
                key = (pair, method, column.metric)
                if key not in cells.index:
                    row_cells.append(None)
                    continue
                c, d, mark = cells.loc[key], digits[column.metric], marks.loc[key]
                row_cells.append(Cell(int(c["n"]), c["mean"], c["std"], c["ci_low"], c["ci_high"],
                                      c["p_holm"], f"{c['mean']:.{d}f}", f"{c['std']:.{d}f}",
                                      bool(mark["best"]), bool(mark["second"]),
                                      bool(mark["same_as_best"])))
            rows.append(Row(method, row_cells, float(pair_ranks[i]), bool(rank_best[i]),
                            bool(rank_second[i]), int(failures.get((method, pair), 0))))
        rows += [Row(m, [None] * len(columns), math.nan, False, False, 0, not_applicable=True)
                 for m in results.methods if pair in results.not_applicable.get(m, ())]
        tables.append(PairTable(pair, images[pair], _row_order(rows, label, order)))
    notes = {"order": order, "confidence": CONFIDENCE, "bootstrap": "percentile", "resamples": RESAMPLES,
             "seed": SEED, "test": "paired Wilcoxon signed-rank vs the best, two-sided, Holm",
             "alpha": ALPHA}
    ranking = overall_ranking(summary, results.pair_types,
                              {m: results.higher_is_better(m) for m in results.metrics})
    if order == "name":
        ranking = replace(ranking, rows=sorted(ranking.rows,
                                               key=lambda r: label(r.method).casefold()))
    overall = pd.Series({r.method: r.overall for r in ranking.rows}, dtype=float)
    best, second = _dense_flags(overall.round(RANK_DIGITS))
    overall_marks = {m: "best" if best[m] else "second" if second[m] else "" for m in overall.index}
    citations = collect_citations(results)
    return Leaderboard(results, summary, columns, tables, results.failures(), ranking, citations,
                       notes, overall_marks)


def leaderboard_frame(board: Leaderboard) -> pd.DataFrame:
    """The long-form machine-readable table behind ``leaderboard.csv``."""
    results = board.results
    frame = board.summary.copy()
    frame.insert(3, "higher_is_better", frame["metric"].map(results.higher_is_better))
    keys = pd.MultiIndex.from_frame(frame[["pair", "method"]])
    frame["mean_rank"] = mean_ranks(board.summary).reindex(keys).to_numpy()
    frame = frame.merge(board.failures, on=["method", "pair"], how="left")
    frame["not_applicable"] = False
    absent = pd.DataFrame([{"pair": pair, "method": method, "metric": metric, "not_applicable": True}
                           for method, pairs in results.not_applicable.items() for pair in pairs
                           for metric in results.metrics])
    if len(absent):
        absent["higher_is_better"] = absent["metric"].map(results.higher_is_better)
        frame = pd.concat([frame, absent], ignore_index=True)
    methods = results.record["methods"]
    frame["fingerprint"] = frame["method"].map(
        lambda m: methods[m]["fingerprint"] if m in methods else "")
    frame["label"] = frame["method"].map(lambda m: board.who(m)["label"])
    frame["produced_by"] = frame["method"].map(lambda m: board.who(m)["kind"])
    dataset = results.dataset
    frame["dataset"] = dataset.get("name", "")
    frame["split"] = dataset.get("split", "")
    frame["dataset_hash"] = dataset.get("hash", "")
    frame["profile"] = results.profile
    frame["software_version"] = results.version
    return frame


def write_csv(board: Leaderboard, path: Path) -> Path:
    text = leaderboard_frame(board).to_csv(index=False, lineterminator="\n")
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def leaderboard_record(board: Leaderboard) -> dict:
    """The JSON document behind ``leaderboard.json`` (provenance plus every table)."""
    run = board.record
    tables = {}
    for table in board.tables:
        tables[table.pair] = {"images": table.images, "rows": [{
            "method": row.method, "label": board.who(row.method)["label"],
            "produced_by": board.who(row.method)["kind"],
            "mean_rank": _finite(row.mean_rank), "failures": row.failures,
            "not_applicable": row.not_applicable,
            "scores": {column.metric: None if cell is None else {
                "n": cell.n, "mean": _finite(cell.mean), "std": _finite(cell.std),
                "ci95": [_finite(cell.ci_low), _finite(cell.ci_high)],
                "p_holm": _finite(cell.p_holm), "best": cell.best, "second": cell.second,
                "same_as_best": cell.same_as_best}
                for column, cell in zip(board.columns, row.cells)}}
            for row in table.rows]}
    ranking = board.ranking
    friedman = ranking.friedman
    overall = {"pairs": ranking.pairs, "rows": [
        {"method": row.method, "mean_rank": {p: _finite(v) for p, v in zip(ranking.pairs, row.per_pair)},
         "overall": _finite(row.overall)} for row in ranking.rows],
        "friedman": None if friedman is None else {
            "methods": friedman.methods, "blocks": friedman.blocks,
            "statistic": friedman.statistic, "p_value": friedman.p_value,
            "mean_ranks": {m: float(v) for m, v in friedman.ranks.items()},
            "critical_difference": friedman.critical_difference, "alpha": friedman.alpha,
            "nemenyi_p": {m: {n: float(v) for n, v in row.items()}
                          for m, row in friedman.nemenyi.iterrows()},
            "left_out": friedman.left_out}}
    return {"software": run["software"], "profile": board.results.profile,
            "dataset": board.results.dataset, "ranking": overall,
            "methods": run["methods"], "metrics": run["metrics"],
            "statistics": board.notes, "leaderboard": tables,
            "not_run": run["not_run"], "not_applicable": run["not_applicable"],
            "failures": run["failures"], "skipped": run["skipped"],
            "plugin_errors": run["plugin_errors"]}


def write_json(board: Leaderboard, path: Path) -> Path:
    text = json.dumps(leaderboard_record(board), indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
