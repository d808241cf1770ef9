"""The raw results of a run: ``scores.csv`` (long form), ``run.json`` (metadata) and the
fused images, ``OUT/fused/<method>/<pair>/<image>.png``.

``scores.csv`` and ``run.json`` are written deterministically (sorted rows, shortest round-trip floats, no
timestamps) and atomically, so the same run gives byte-identical files.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .imageio import atomic_write_bytes
from .names import inside

SCORE_COLUMNS = ("method", "dataset", "pair", "image", "metric", "value")
"""The ``scores.csv`` schema: one row per number."""


def fused_image_path(out_dir: str | Path, method: str, pair: str, image: str) -> Path:
    """Where a run writes ``method``'s fused image of pair type ``pair``, image ``image``;
    a ValueError when a name is not one plain path component (the path stays in ``out_dir``)."""
    return inside(Path(out_dir) / "fused", method, pair, f"{image}.png")


@dataclass(frozen=True, order=True)
class Score:
    method: str
    dataset: str
    pair: str
    image: str
    metric: str
    value: float


def write_scores(path: Path, scores: list[Score], metric_order: list[str]) -> None:
    """Write ``scores.csv`` sorted by method, pair, image, then the metric order."""
    rank = {name: i for i, name in enumerate(metric_order)}
    rows = sorted(scores, key=lambda s: (s.method, s.dataset, s.pair, s.image,
                                         rank.get(s.metric, len(rank)), s.metric))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    for s in rows:
        writer.writerow([s.method, s.dataset, s.pair, s.image, s.metric, repr(float(s.value))])
    atomic_write_bytes(path, buffer.getvalue().encode())


def read_scores(path: Path) -> list[Score]:
    with open(path, newline="") as handle:
        return [Score(r["method"], r["dataset"], r["pair"], r["image"], r["metric"],
                      float(r["value"])) for r in csv.DictReader(handle)]


def write_run_info(path: Path, info: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(info, indent=2, sort_keys=False) + "\n").encode())

