"""Reading a results folder (``scores.csv`` + ``run.json``) written by ``mmif-bench run``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mmif_bench.results import SCORE_COLUMNS, fused_image_path


@dataclass(frozen=True)
class Results:
    """One run: long-form scores plus the run record, with display orders resolved."""

    root: Path
    scores: pd.DataFrame
    run: dict

    @property
    def methods(self) -> list[str]:
        """Methods in run order, then any others found in the scores."""
        return _ordered(self.run.get("methods", {}), self.scores["method"])

    @property
    def metrics(self) -> list[str]:
        """Metrics in display order (run.json), then any others found in the scores."""
        return _ordered(self.run.get("metrics", {}), self.scores["metric"])

    @property
    def pairs(self) -> list[str]:
        """Modality pairs in run order, then any others found in the scores."""
        return _ordered({p["pair"]: None for p in self.run.get("pairs", [])}, self.scores["pair"])

    @property
    def profile(self) -> str:
        return self.run.get("profile", "default")

    @property
    def dataset(self) -> dict:
        return self.run.get("dataset", {})

    @property
    def version(self) -> str:
        return self.run.get("software", {}).get("version", "unknown")

    def higher_is_better(self, metric: str) -> bool:
        try:
            return bool(self.run["metrics"][metric]["higher_is_better"])
        except KeyError:
            raise ValueError(f"{self.root / 'run.json'}: metric {metric!r} has no "
                             f"'higher_is_better' entry; re-run mmif-bench run") from None

    def metric_info(self, metric: str) -> dict:
        return self.run.get("metrics", {}).get(metric, {})

    def failures(self) -> pd.DataFrame:
        """Failure counts: columns method, pair, failures (one row per method x pair)."""
        frame = pd.DataFrame(self.run.get("failures", []), columns=["method", "pair", "image", "message"])
        counts = frame.groupby(["method", "pair"]).size().rename("failures")
        index = pd.MultiIndex.from_product([self.methods, self.pairs], names=["method", "pair"])
        return counts.reindex(index, fill_value=0).reset_index()

    def fused_path(self, method: str, pair: str, image: str) -> Path:
        return fused_image_path(self.root, method, pair, image)

    def source_paths(self, entry: dict) -> tuple[Path, Path]:
        """The two source files of a ``run.json`` pair entry (recorded relative to the
        results folder)."""
        def locate(recorded: str) -> Path:
            return self.root / recorded
        return locate(entry["path_a"]), locate(entry["path_b"])


def _ordered(declared, found: pd.Series) -> list[str]:
    names = [str(n) for n in declared]
    return names + sorted(set(found.astype(str)) - set(names))


def load_results(results_dir: str | Path) -> Results:
    """Load a results folder; raises FileNotFoundError/ValueError naming what is wrong."""
    root = Path(results_dir)
    scores_path, run_path = root / "scores.csv", root / "run.json"
    for path in (scores_path, run_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: is {root} a folder written by mmif-bench run?")
    scores = pd.read_csv(scores_path, dtype={c: str for c in SCORE_COLUMNS[:5]})
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"{scores_path}: missing columns {', '.join(missing)}")
    scores["value"] = pd.to_numeric(scores["value"], errors="coerce")
    run = json.loads(run_path.read_text())
    return Results(root=root, scores=scores[list(SCORE_COLUMNS)], run=run)
