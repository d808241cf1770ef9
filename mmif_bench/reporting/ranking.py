"""The overall ranking of a run: mean ranks per pair type and overall, Friedman + Nemenyi.

A block is one (pair type, metric): the methods' mean scores there, ranked 1 (best) to k
in the metric's direction, ties averaged. A method's mean rank in a pair type is the mean
over that pair type's metrics (the "Mean rank" column of the tables); its overall mean
rank is the mean over the pair types it applies to. The Friedman test and the Nemenyi
post-hoc test (Demšar 2006) compare the methods that have a score in every block; their
mean ranks over all blocks and the critical difference
``CD = q_alpha sqrt(k (k + 1) / (6 N))`` (k methods, N blocks, ``q_alpha`` the
studentized range quantile over sqrt 2) are what the critical-difference diagram draws.

References
----------
.. [1] J. Demšar, "Statistical comparisons of classifiers over multiple data sets",
   J. Mach. Learn. Res. 7, 1-30, 2006.
.. [2] M. Friedman, "The use of ranks to avoid the assumption of normality implicit in
   the analysis of variance", J. Am. Stat. Assoc. 32(200), 675-701, 1937.
.. [3] P. B. Nemenyi, "Distribution-free multiple comparisons", PhD thesis, Princeton
   University, 1963.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scikit_posthocs
from scipy.stats import friedmanchisquare, studentized_range

from .stats import ALPHA


@dataclass(frozen=True)
class RankRow:
    """One method: mean rank per pair type (NaN where it does not apply) and overall."""

    method: str
    per_pair: list[float]
    overall: float


@dataclass(frozen=True)
class Friedman:
    """Friedman test and Nemenyi post-hoc over the blocks every method in it completes."""

    methods: list[str]
    blocks: int
    statistic: float
    p_value: float
    ranks: pd.Series
    """Mean rank over all blocks, by method (what the CD diagram places)."""
    nemenyi: pd.DataFrame
    """Pairwise Nemenyi p-values, methods x methods."""
    critical_difference: float
    left_out: list[str]
    """Methods without a score in some block (not in the test)."""
    alpha: float = ALPHA


@dataclass(frozen=True)
class Ranking:
    pairs: list[str]
    rows: list[RankRow]
    """Sorted by overall mean rank (best first)."""
    friedman: Friedman | None
    """None with fewer than 3 complete methods or 2 blocks."""


def block_scores(summary: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """Mean scores signed so that larger is better: blocks (pair, metric) x methods."""
    frame = summary.pivot_table(index=["pair", "metric"], columns="method", values="mean",
                                aggfunc="first", sort=False)
    signs = np.array([1.0 if higher_is_better[m] else -1.0
                      for m in frame.index.get_level_values("metric")])
    return frame.mul(signs, axis=0)


def block_ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Rank 1 for the best method of each block, ties averaged, NaN where not scored."""
    return scores.rank(axis=1, ascending=False, method="average")


def critical_difference(methods: int, blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference of mean ranks (Demšar 2006, eq. for CD)."""
    q = studentized_range.ppf(1.0 - alpha, methods, np.inf) / math.sqrt(2.0)
    return float(q * math.sqrt(methods * (methods + 1) / (6.0 * blocks)))


def friedman_nemenyi(scores: pd.DataFrame, alpha: float = ALPHA) -> Friedman | None:
    """The Friedman test and Nemenyi p-values of the methods complete over all blocks."""
    complete = [m for m in scores.columns if scores[m].notna().all()]
    table = scores[complete].dropna()
    if len(complete) < 3 or len(table) < 2:
        return None
    statistic, p_value = friedmanchisquare(*(table[m].to_numpy() for m in complete))
    nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(table.to_numpy())
    nemenyi.index = nemenyi.columns = complete
    return Friedman(complete, len(table), float(statistic), float(p_value),
                    block_ranks(table).mean(axis=0), nemenyi,
                    critical_difference(len(complete), len(table), alpha),
                    [m for m in scores.columns if m not in complete], alpha)


def overall_ranking(summary: pd.DataFrame, pairs: list[str],
                    higher_is_better: dict[str, bool]) -> Ranking:
    """Mean ranks per pair type and overall, and the Friedman/Nemenyi comparison."""
    if summary.empty:
        return Ranking(pairs, [], None)
    scores = block_scores(summary, higher_is_better)
    per_pair = block_ranks(scores).groupby(level="pair", sort=False).mean()
    per_pair = per_pair.reindex(pairs)
    rows = [RankRow(m, [float(v) for v in per_pair[m]], float(per_pair[m].mean()))
            for m in scores.columns]
    rows.sort(key=lambda row: (math.isnan(row.overall), row.overall))
    return Ranking(pairs, rows, friedman_nemenyi(scores))
