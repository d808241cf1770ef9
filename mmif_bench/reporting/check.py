"""Regression guard: compare a run's per method x pair x metric means with a baseline.

The baseline is a JSON file of those means with each metric's direction. A mean is
*worse* when it moved against its metric's direction by more than the tolerance, which is
relative: the allowed loss is ``tolerance * |baseline mean|`` (plus 1e-12 so that exact
zeros do not fail on rounding noise). A baseline entry with no mean in the results is
*missing* and also fails; results entries absent from the baseline are listed as *new*.

A baseline that cannot guard anything is a usage error (:class:`BaselineError`, exit 2 on
the command line), never a pass: no entries, a mean that is not a finite number, a tolerance
that is not a finite number >= 0, or a file that is not a baseline.
"""
from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd

from ..fsutil import atomic_write_bytes
from .loading import Results, load_results

FORMAT = "mmif-bench-baseline/1"
ABSOLUTE_FLOOR = 1e-12
KEYS = ["method", "pair", "metric"]


class BaselineError(ValueError):
    """A baseline file or tolerance that cannot guard anything (a usage error)."""


def run_means(results: Results, methods: list[str] | None = None) -> pd.DataFrame:
    """Columns method, pair, metric, higher_is_better, mean, n (finite values only)."""
    scores = results.scores[np.isfinite(results.scores["value"])]
    if methods is not None:
        scores = scores[scores["method"].isin(methods)]
    means = (scores.groupby(KEYS)["value"].agg(["mean", "size"])
             .rename(columns={"size": "n"}).reset_index())
    means.insert(3, "higher_is_better", means["metric"].map(results.higher_is_better).astype(bool))
    return means.sort_values(KEYS, ignore_index=True)


def write_baseline(results: Results, path: Path, methods: list[str] | None = None) -> Path:
    """(Re)write the baseline file from the results (sorted, deterministic JSON)."""
    means = run_means(results, methods)
    dataset = results.dataset
    document = {
        "format": FORMAT,
        "software": results.record["software"],
        "profile": results.profile,
        "dataset": {k: dataset.get(k) for k in ("name", "split", "hash")},
        "entries": [{"method": r.method, "pair": r.pair, "metric": r.metric,
                     "higher_is_better": bool(r.higher_is_better), "mean": float(r.mean),
                     "n": int(r.n)} for r in means.itertuples()],
    }
    if not document["entries"]:
        raise BaselineError(f"the results in {results.root} have no finite means"
                            f"{' for ' + ', '.join(methods) if methods else ''}; "
                            f"no baseline written")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
    return path


def check_tolerance(tolerance: object) -> float:
    """``tolerance`` as a float, or :class:`BaselineError` unless it is a finite number >= 0."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) \
            or not math.isfinite(tolerance) or tolerance < 0:
        raise BaselineError(f"--tolerance must be a finite number >= 0 (a relative change, "
                            f"e.g. 1e-6), not {tolerance!r}")
    return float(tolerance)


def _entry_problem(entry: object) -> str | None:
    """What is wrong with one baseline entry, or None."""
    if not isinstance(entry, dict):
        return f"is {type(entry).__name__}, not an object"
    for key in KEYS:
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"has no {key} name"
    if not isinstance(entry.get("higher_is_better"), bool):
        return "has no true/false higher_is_better"
    mean = entry.get("mean")
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return f"mean {mean!r} is not a finite number"
    n = entry.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        return f"n {n!r} is not a positive count"
    return None


def load_baseline(path: Path) -> tuple[dict, pd.DataFrame]:
    """The baseline's header and its entries as a frame (columns as :func:`run_means`)."""
    if not path.is_file():
        raise FileNotFoundError(f"baseline {path} not found; create it with "
                                f"mmif-bench check --results DIR --baseline {path} --update")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: not valid JSON ({error}); recreate it with "
                            f"--update") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise BaselineError(f"{path}: not a mmif-bench baseline (format {found!r}, "
                            f"expected {FORMAT!r})")
    rows = document.get("entries")
    if not isinstance(rows, list) or not rows:
        raise BaselineError(f"{path}: the baseline has no entries ({rows!r}), so it guards "
                            f"nothing; recreate it with --update")
    for index, entry in enumerate(rows):
        problem = _entry_problem(entry)
        if problem:
            raise BaselineError(f"{path}: entry {index} {problem}; recreate the baseline "
                                f"with --update")
    keys = [tuple(entry[k] for k in KEYS) for entry in rows]
    if len(set(keys)) != len(keys):
        raise BaselineError(f"{path}: an entry appears twice; recreate it with --update")
    entries = pd.DataFrame(rows, columns=KEYS + ["higher_is_better", "mean", "n"])
    return document, entries


def compare(current: pd.DataFrame, baseline: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """One row per key in either frame: baseline, current, change and a status of
    ``ok``, ``better``, ``worse``, ``missing`` (not in the results) or ``new``."""
    merged = baseline.merge(current, on=KEYS, how="outer", suffixes=("_baseline", "_current"))
    higher = merged["higher_is_better_baseline"].fillna(merged["higher_is_better_current"])
    merged["direction"] = np.where(higher.astype(bool), "↑", "↓")
    merged = merged.rename(columns={"mean_baseline": "baseline", "mean_current": "current"})
    merged["change"] = merged["current"] - merged["baseline"]
    gain = np.where(merged["direction"] == "↑", merged["change"], -merged["change"])
    allowed = tolerance * merged["baseline"].abs() + ABSOLUTE_FLOOR
    merged["status"] = np.select(
        [merged["baseline"].isna(), merged["current"].isna(), gain < -allowed, gain > allowed],
        ["new", "missing", "worse", "better"], "ok")
    merged["relative"] = merged["change"] / merged["baseline"].abs().replace(0.0, np.nan)
    columns = KEYS + ["direction", "baseline", "current", "change", "relative", "status"]
    return merged[columns].sort_values(KEYS, ignore_index=True)


def _print_rows(title: str, rows: pd.DataFrame) -> None:
    print(title)
    shown = rows.assign(relative=rows["relative"].map(
        lambda v: "" if pd.isna(v) else f"{v:+.3%}"))
    print(shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.6g}"))


def check_results(results_dir: Path, baseline: Path, tolerance: float, update: bool,
                  methods: list[str] | None = None) -> int:
    """Compare ``results_dir`` with ``baseline``; print what got worse; 1 if anything got
    worse beyond ``tolerance`` (relative), is missing, or a requested method has no
    baseline, else 0. ``update`` rewrites the baseline from the results (only ``methods``
    when given) and returns 0. A baseline or tolerance that cannot guard anything raises
    :class:`BaselineError` (a usage error: exit 2 on the command line)."""
    tolerance = check_tolerance(tolerance)
    results = load_results(results_dir)
    baseline = Path(baseline)
    if update:
        write_baseline(results, baseline, methods)
        print(f"baseline written: {baseline}")
        return 0
    header, entries = load_baseline(baseline)
    unknown = sorted(set(methods or []) - set(entries["method"]))
    if methods is not None:
        entries = entries[entries["method"].isin(methods)]
    for key in ("profile", "dataset"):
        recorded = header.get(key)
        actual = results.profile if key == "profile" else {
            k: results.dataset.get(k) for k in ("name", "split", "hash")}
        if recorded != actual:
            print(f"note: baseline {key} {recorded} differs from the results' {actual}")
    table = compare(run_means(results, methods), entries, tolerance)
    failing = table[table["status"].isin(["worse", "missing"])]
    new = table[table["status"] == "new"]
    if len(new):
        _print_rows(f"{len(new)} result(s) not in the baseline (not checked):", new)
    if len(failing):
        _print_rows(f"{len(failing)} of {len(entries)} baseline mean(s) got worse beyond "
                    f"relative tolerance {tolerance:g} or are missing:", failing)
        return 1
    if unknown:
        print(f"no baseline for method(s) {', '.join(unknown)}; add them with --update")
        return 1
    better = int((table["status"] == "better").sum())
    print(f"ok: {len(entries)} baseline mean(s) checked, none worse beyond relative tolerance "
          f"{tolerance:g}" + (f"; {better} improved (refresh with --update)" if better else ""))
    return 0
