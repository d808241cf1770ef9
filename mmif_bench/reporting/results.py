"""Reading a results folder (``scores.csv`` + ``run.json``) written by ``mmif-bench run``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mmif_bench.names import is_component
from mmif_bench.results import SCORE_COLUMNS, fused_image_path


@dataclass(frozen=True)
class Results:
    """One run: long-form scores plus the run record, with display orders resolved."""

    root: Path
    scores: pd.DataFrame
    run: dict
    source_root: Path | None = None
    """The folder of the dataset's source images (``file_a``/``file_b`` of run.json's pairs
    are relative to it); None when it was not found."""

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

    @property
    def not_applicable(self) -> dict[str, list[str]]:
        """Method -> pair types it has no model for (neither fused nor failed there)."""
        return self.run.get("not_applicable", {})

    def metric_info(self, metric: str) -> dict:
        return self.run.get("metrics", {}).get(metric, {})

    def failures(self) -> pd.DataFrame:
        """Failure counts: columns method, pair, failures (one row per method x pair)."""
        frame = pd.DataFrame(self.run.get("failures", []), columns=["method", "pair", "image", "message"])
        counts = frame.groupby(["method", "pair"]).size().rename("failures")
        index = pd.MultiIndex.from_product([self.methods, self.pairs], names=["method", "pair"])
        return counts.reindex(index, fill_value=0).reset_index()

    def fused_path(self, method: str, pair: str, image: str) -> Path | None:
        """The fused image file under ``fused/``; None when a name would leave it."""
        try:
            return fused_image_path(self.root, method, pair, image)
        except ValueError:
            return None

    def source_paths(self, entry: dict) -> tuple[Path | None, Path | None]:
        """The two source files of a ``run.json`` pair entry: None without a source root, and
        for a file name that is not a relative path inside it (an edited run.json cannot make
        the report read other files)."""
        if self.source_root is None:
            return None, None
        return (_under(self.source_root, entry.get("file_a")),
                _under(self.source_root, entry.get("file_b")))

    def image_views_missing(self) -> str | None:
        """Why the report cannot show images (fused or source), or None when it can."""
        if not (self.root / "fused").is_dir():
            return "the results folder holds no fused/ images"
        name = self.dataset.get("name", "")
        first = next(iter(self.run.get("pairs", [])), None)
        if first is not None and not all(p is not None and p.is_file()
                                         for p in self.source_paths(first)):
            return (f"the source images of dataset {name!r} were not found (for harvard: "
                    f"--data-root, $MMIF_BENCH_DATA or 'mmif-bench fetch harvard')")
        return None


def _under(root: Path, relative: object) -> Path | None:
    """``root/relative`` when ``relative`` is a relative path of plain names, else None."""
    if not isinstance(relative, str):
        return None
    parts = relative.split("/")
    if not all(is_component(part) for part in parts):
        return None
    return root.joinpath(*parts)


def _ordered(declared, found: pd.Series) -> list[str]:
    names = [str(n) for n in declared]
    return names + sorted(set(found.astype(str)) - set(names))


def registered_source_root(dataset: dict) -> Path | None:
    """The folder of a registered dataset of the run's name (e.g. harvard where it is
    configured or fetched, the built-in phantom); None when it is not found."""
    from ..registry import create_dataset, specs

    if dataset.get("name") not in specs("datasets"):
        return None
    try:
        return getattr(create_dataset(dataset["name"]), "root", None)
    except (FileNotFoundError, ValueError):
        return None


def load_results(results_dir: str | Path, source_root: Path | None = None) -> Results:
    """Load a results folder; raises FileNotFoundError/ValueError naming what is wrong.
    ``source_root``: the dataset folder (default: :func:`registered_source_root`)."""
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
    if source_root is None:
        source_root = registered_source_root(run.get("dataset", {}))
    return Results(root=root, scores=scores[list(SCORE_COLUMNS)], run=run, source_root=source_root)
