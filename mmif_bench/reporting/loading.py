"""What a report is built from: a run's scores and record, as :func:`mmif_bench.run`
returned them or as read back from a results folder (``scores.csv`` + ``run.json``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mmif_bench.names import is_component
from mmif_bench.run_record import DatasetRecord, ImagePairRecord, MetricRecord, RunRecord, read_run_record
from mmif_bench.scores import fused_image_path, read_scores_frame

if TYPE_CHECKING:
    from mmif_bench.runner import RunResult


@dataclass(frozen=True)
class Results:
    """One run: long-form scores plus the run record, with display orders resolved."""

    root: Path
    scores: pd.DataFrame
    record: RunRecord
    source_root: Path | None = None
    """The folder of the dataset's source images (``file_a``/``file_b`` of the record's
    image pairs are relative to it); None when it was not found."""

    @property
    def methods(self) -> list[str]:
        """Methods in run order, then any others found in the scores."""
        return _ordered(self.record["methods"], self.scores["method"])

    @property
    def metrics(self) -> list[str]:
        """Metrics in display order (the record's), then any others found in the scores."""
        return _ordered(self.record["metrics"], self.scores["metric"])

    @property
    def pair_types(self) -> list[str]:
        """Pair types in run order, then any others found in the scores."""
        return _ordered({p["pair_type"]: None for p in self.record["pairs"]},
                        self.scores["pair"])

    @property
    def profile(self) -> str:
        return self.record["profile"]

    @property
    def dataset(self) -> DatasetRecord:
        return self.record["dataset"]

    @property
    def version(self) -> str:
        return self.record["software"]["version"]

    def higher_is_better(self, metric: str) -> bool:
        try:
            return bool(self.record["metrics"][metric]["higher_is_better"])
        except KeyError:
            raise ValueError(f"{self.root / 'run.json'}: metric {metric!r} has no "
                             f"'higher_is_better' entry; re-run mmif-bench run") from None

    @property
    def not_applicable(self) -> dict[str, list[str]]:
        """Method -> pair types it has no model for (neither fused nor failed there)."""
        return self.record["not_applicable"]

    def metric_info(self, metric: str) -> MetricRecord | dict[str, str]:
        return self.record["metrics"].get(metric, {})

    def failures(self) -> pd.DataFrame:
        """Failure counts: columns method, pair, failures (one row per method x pair type)."""
        frame = pd.DataFrame([(f["method"], f["pair_type"]) for f in self.record["failures"]],
                             columns=["method", "pair"])
        counts = frame.groupby(["method", "pair"]).size().rename("failures")
        index = pd.MultiIndex.from_product([self.methods, self.pair_types],
                                           names=["method", "pair"])
        return counts.reindex(index, fill_value=0).reset_index()

    def fused_path(self, method: str, pair_type: str, image: str) -> Path | None:
        """The fused image file under ``fused/``; None when a name would leave it."""
        try:
            return fused_image_path(self.root, method, pair_type, image)
        except ValueError:
            return None

    def source_paths(self, entry: ImagePairRecord) -> tuple[Path | None, Path | None]:
        """The two source files of an image pair of the record: None without a source
        root, and for a file name that is not a relative path inside it (an edited run.json
        cannot make the report read other files)."""
        if self.source_root is None:
            return None, None
        return _under(self.source_root, entry["file_a"]), _under(self.source_root, entry["file_b"])

    def image_views_missing(self) -> str | None:
        """Why the report cannot show images (fused or source), or None when it can."""
        if not (self.root / "fused").is_dir():
            return "the results folder holds no fused/ images"
        name = self.record["dataset"]["name"]
        first = next(iter(self.record["pairs"]), None)
        if first is not None and not all(p is not None and p.is_file()
                                         for p in self.source_paths(first)):
            return (f"the source images of dataset {name!r} were not found (pass "
                    f"--data-root, or fetch or configure the dataset: see `mmif-bench list "
                    f"datasets`)")
        return None


def _under(root: Path, relative: str) -> Path | None:
    """``root/relative`` when ``relative`` is a relative path of plain names, else None."""
    parts = relative.split("/")
    if not all(is_component(part) for part in parts):
        return None
    return root.joinpath(*parts)


def _ordered(declared: object, found: pd.Series) -> list[str]:
    names = [str(n) for n in declared]  # type: ignore[attr-defined]
    return names + sorted(set(found.astype(str)) - set(names))


def registered_source_root(dataset_name: str) -> Path | None:
    """The folder of a registered dataset of the run's name (where its data is configured
    or fetched, or built in); None when it is not found."""
    from ..registry import create_dataset, specs

    if dataset_name not in specs("datasets"):
        return None
    try:
        return getattr(create_dataset(dataset_name), "root", None)
    except (FileNotFoundError, ValueError):
        return None


def load_results(results: str | Path | RunResult, source_root: Path | None = None) -> Results:
    """A run's results to report: a :class:`~mmif_bench.runner.RunResult`, or a results
    folder read back (FileNotFoundError/ValueError naming what is wrong).
    ``source_root``: the dataset folder (default: :func:`registered_source_root`)."""
    if isinstance(results, (str, Path)):
        root = Path(results)
        scores_path, run_path = root / "scores.csv", root / "run.json"
        for path in (scores_path, run_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: is {root} a folder written by "
                                        f"mmif-bench run?")
        scores, record = read_scores_frame(scores_path), read_run_record(run_path)
    else:
        root, scores, record = results.out, results.scores, results.record
    if source_root is None:
        source_root = registered_source_root(record["dataset"]["name"])
    return Results(root=root, scores=scores, record=record, source_root=source_root)
