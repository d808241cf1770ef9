"""The leaderboard model (per pair: methods x metrics) and its CSV and JSON exports.

Every output format (Markdown, LaTeX, HTML, JSON) renders the same :class:`Leaderboard`,
so the bold/underline/dagger marks and numbers agree across formats.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmif_bench.fsutil import atomic_write_bytes
from mmif_bench.metric import arrow
from mmif_bench.run_record import RunRecord

from .citations import Citations, collect_citations
from .loading import Results
from .ranking import Ranking, overall_ranking
from .stats import ALPHA, CONFIDENCE, RESAMPLES, SEED, mean_ranks, summarize


@dataclass(frozen=True)
class Column:
    """A metric column: name, direction and the definition shown in tooltips/footnotes."""

    metric: str
    higher_is_better: bool
    description: str
    reference: str
    unit: str

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

    @property
    def record(self) -> RunRecord:
        return self.results.record

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


def decimals(values: pd.Series) -> int:
    """Decimals that show about four significant digits of the largest magnitude."""
    largest = values.abs().max()
    if not largest or not math.isfinite(largest):
        return 3
    return min(4, max(0, 3 - math.floor(math.log10(largest))))


def _dense_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    dense = values.rank(method="dense")
    return dense.eq(1), dense.eq(2)


def build_leaderboard(results: Results) -> Leaderboard:
    """Summarise ``results`` into per-pair tables with marks and mean ranks."""
    summary = summarize(results)
    columns = [Column(m, results.higher_is_better(m), results.metric_info(m).get("description", ""),
                      results.metric_info(m).get("reference", ""), results.metric_info(m).get("unit", ""))
               for m in results.metrics]
    digits = {m: decimals(summary.loc[summary["metric"] == m, "mean"]) for m in results.metrics}
    ranks = mean_ranks(summary)
    failures = results.failures().set_index(["method", "pair"])["failures"]
    cells = summary.set_index(["pair", "method", "metric"])
    images = Counter(entry["pair_type"] for entry in results.record["pairs"])
    tables = []
    for pair in results.pair_types:
        methods = [m for m in results.methods
                   if (pair, m) in ranks.index or failures.get((m, pair), 0)]
        pair_ranks = pd.Series([ranks.get((pair, m), math.nan) for m in methods], dtype=float)
        rank_best, rank_second = _dense_flags(pair_ranks)
        rows = []
        for i, method in enumerate(methods):
            row_cells: list[Cell | None] = []
            for column in columns:
                key = (pair, method, column.metric)
                if key not in cells.index:
                    row_cells.append(None)
                    continue
                c, d = cells.loc[key], digits[column.metric]
                row_cells.append(Cell(int(c["n"]), c["mean"], c["std"], c["ci_low"], c["ci_high"],
                                      c["p_holm"], f"{c['mean']:.{d}f}", f"{c['std']:.{d}f}",
                                      bool(c["best"]), bool(c["second"]), bool(c["same_as_best"])))
            rows.append(Row(method, row_cells, float(pair_ranks[i]), bool(rank_best[i]),
                            bool(rank_second[i]), int(failures.get((method, pair), 0))))
        rows += [Row(m, [None] * len(columns), math.nan, False, False, 0, not_applicable=True)
                 for m in results.methods if pair in results.not_applicable.get(m, ())]
        tables.append(PairTable(pair, images[pair], rows))
    notes = {"confidence": CONFIDENCE, "bootstrap": "percentile", "resamples": RESAMPLES,
             "seed": SEED, "test": "paired Wilcoxon signed-rank vs the best, two-sided, Holm",
             "alpha": ALPHA}
    ranking = overall_ranking(summary, results.pair_types,
                              {m: results.higher_is_better(m) for m in results.metrics})
    citations = collect_citations(results)
    return Leaderboard(results, summary, columns, tables, results.failures(), ranking, citations,
                       notes)


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
            "method": row.method, "mean_rank": _finite(row.mean_rank), "failures": row.failures,
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
