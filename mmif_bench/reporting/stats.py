"""Summary statistics of a run: means, bootstrap CIs, ranks and tests against the best.

Per pair type x metric x method: the mean and standard deviation over images, a 95%
percentile-bootstrap confidence interval of the mean (fixed seed, so reports are
reproducible), the rank by mean in the metric's direction, and a two-sided paired
Wilcoxon signed-rank test (over the images both methods scored) against the best method,
Holm-corrected over the methods compared within that pair x metric.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from .loading import Results

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0
ALPHA = 0.05

SUMMARY_COLUMNS = ["pair", "method", "metric", "n", "mean", "std", "ci_low", "ci_high",
                   "rank", "best", "second", "p_holm", "same_as_best"]


def bootstrap_ci(values: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED,
                 confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and are not counted).

    The same numbers, bit for bit, as statsmodels' ``multipletests(p, method="holm")``
    (a test checks it), written out because statsmodels 0.15 runs a full ``gc.collect()``
    on every Holm call: 0.3-1.1 s each in a process holding the methods, once per pair
    type x metric of a report.

    References
    ----------
    .. [1] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scandinavian Journal of Statistics 6(2), 65-70, 1979.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - step) * p[index]))
        adjusted[index] = running
    return adjusted


def paired_wilcoxon(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired samples (1.0 if all equal)."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return float("nan")
    if np.all(x == y):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(wilcoxon(x, y).pvalue)


def _cell_stats(values: pd.Series) -> dict:
    finite = values[np.isfinite(values)].to_numpy()
    low, high = bootstrap_ci(finite)
    return {"n": finite.size,
            "mean": finite.mean() if finite.size else np.nan,
            "std": finite.std(ddof=1) if finite.size > 1 else (0.0 if finite.size else np.nan),
            "ci_low": low, "ci_high": high}


def _rank_and_test(group: pd.DataFrame, per_image: pd.DataFrame, higher: bool) -> pd.DataFrame:
    group = group.copy()
    signed = group["mean"] if higher else -group["mean"]
    group["rank"] = signed.rank(ascending=False, method="average")
    dense = signed.rank(ascending=False, method="dense")
    group["best"], group["second"] = dense.eq(1), dense.eq(2)
    p = np.full(len(group), np.nan)
    if group["best"].any():
        reference = group.loc[group["best"].idxmax(), "method"]
        for i, method in enumerate(group["method"]):
            if method != reference:
                p[i] = paired_wilcoxon(per_image[method].to_numpy(), per_image[reference].to_numpy())
    group["p_holm"] = holm(p)
    group["same_as_best"] = ~group["best"] & (group["p_holm"] >= ALPHA)
    return group


def summarize(results: Results) -> pd.DataFrame:
    """One row per pair x method x metric with :data:`SUMMARY_COLUMNS`, in display order."""
    scores = results.scores
    frames = []
    for (pair, metric), cell in scores.groupby(["pair", "metric"], sort=False):
        per_image = cell.pivot_table(index="image", columns="method", values="value",
                                     aggfunc="first", dropna=False)
        stats = pd.DataFrame([{"pair": pair, "method": method, "metric": metric,
                               **_cell_stats(group["value"])}
                              for method, group in cell.groupby("method", sort=False)])
        frames.append(_rank_and_test(stats, per_image, results.higher_is_better(metric)))
    if not frames:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    summary = pd.concat(frames, ignore_index=True)
    order = {"pair": results.pair_types, "method": results.methods, "metric": results.metrics}
    summary = summary.sort_values(
        list(order), key=lambda column: column.map({n: i for i, n in enumerate(order[column.name])})
    ).reset_index(drop=True)
    return summary[SUMMARY_COLUMNS]


def mean_ranks(summary: pd.DataFrame) -> pd.Series:
    """Mean over metrics of each method's rank, indexed by (pair, method)."""
    return summary.groupby(["pair", "method"], sort=False)["rank"].mean()
