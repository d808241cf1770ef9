"""A run's scores, ``scores.csv``: one row per number, and where its fused images go.

Columns: ``method, dataset, pair, image, metric, value``; ``pair`` holds the image pair's
*pair type* (``MRI-CT``: the column keeps the name users' scripts read) and ``image`` its
name within it (``2004``). The file is written deterministically (sorted rows, shortest
round-trip floats) and atomically, so the same run gives byte-identical files. Fused
images are ``OUT/fused/<method>/<pair type>/<image>.png``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .fsutil import atomic_write_bytes
from .names import inside

if TYPE_CHECKING:
    import pandas as pd

SCORE_COLUMNS = ("method", "dataset", "pair", "image", "metric", "value")
"""The ``scores.csv`` schema: one row per number."""


def fused_image_path(out_dir: str | Path, method: str, pair_type: str, image: str) -> Path:
    """Where a run writes ``method``'s fused image of image pair ``pair_type/image``; a
    ValueError when a name is not one plain path component (the path stays in ``out_dir``)."""
    return inside(Path(out_dir) / "fused", method, pair_type, f"{image}.png")


@dataclass(frozen=True, order=True)
class Score:
    """One number of a run: ``metric`` of ``method`` on image pair ``pair/image``."""

    method: str
    dataset: str
    pair: str
    image: str
    metric: str
    value: float


def sorted_scores(scores: list[Score], metric_order: list[str]) -> list[Score]:
    """Scores in ``scores.csv``'s order: method, dataset, pair type, image, metric order."""
    rank = {name: i for i, name in enumerate(metric_order)}
    return sorted(scores, key=lambda s: (s.method, s.dataset, s.pair, s.image,
                                         rank.get(s.metric, len(rank)), s.metric))


def scores_frame(scores: list[Score]) -> pd.DataFrame:
    """The long-form frame of ``scores`` (as :func:`read_scores_frame` reads the file)."""
    import pandas as pd

    frame = pd.DataFrame([(s.method, s.dataset, s.pair, s.image, s.metric, float(s.value))
                          for s in scores], columns=list(SCORE_COLUMNS))
    return frame.astype({c: str for c in SCORE_COLUMNS[:5]} | {"value": "float64"})


def write_scores(path: Path, scores: list[Score]) -> None:
    """Write ``scores.csv``, rows in the given order (see :func:`sorted_scores`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    for s in scores:
        writer.writerow([s.method, s.dataset, s.pair, s.image, s.metric, repr(float(s.value))])
    atomic_write_bytes(path, buffer.getvalue().encode())


def read_scores(path: Path) -> list[Score]:
    """The rows of a ``scores.csv``."""
    with open(path, newline="") as handle:
        return [Score(r["method"], r["dataset"], r["pair"], r["image"], r["metric"],
                      float(r["value"])) for r in csv.DictReader(handle)]


def read_scores_frame(path: Path) -> pd.DataFrame:
    """A ``scores.csv`` as the long-form frame; ValueError naming missing columns."""
    import pandas as pd

    frame = pd.read_csv(path, dtype={c: str for c in SCORE_COLUMNS[:5]})
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame[list(SCORE_COLUMNS)]
