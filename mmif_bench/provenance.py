"""How a leaderboard row was produced: the kinds of provenance and their legend.

Every method record in ``run.json`` carries ``provenance = {"kind", "label", "detail",
...}`` (:meth:`mmif_bench.Method.provenance` for methods run here; the fused-folder and
published-results paths for images made elsewhere); the reports show each row's label
with the marker of its kind and this legend.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLASSICAL = "classical"
AUTHORS_WEIGHTS = "authors' weights"
TRAINED_HERE = "trained here"
USER_WEIGHTS = "user weights"
PUBLISHED_IMAGES = "published images"
FUSED_FOLDER = "fused folder"

KINDS: dict[str, tuple[str, str]] = {
    CLASSICAL: ("c", "classical algorithm, computed here"),
    AUTHORS_WEIGHTS: ("a", "run here with the authors' published weights (port proven "
                           "against their code)"),
    TRAINED_HERE: ("t", "network trained here with mmif-bench, run here"),
    USER_WEIGHTS: ("u", "run here with weight files the user gave"),
    PUBLISHED_IMAGES: ("p", "the authors' published fused images, scored here"),
    FUSED_FOLDER: ("f", "a folder of fused images made elsewhere, scored here"),
}
"""Kind -> (marker, legend text)."""


def provenance_of(name: str, record: Mapping[str, Any]) -> dict[str, str]:
    """``kind``, ``label``, ``detail`` and ``marker`` of method ``name``'s record in
    ``run.json`` (a record written before provenance existed: label = name, no kind)."""
    provenance = record.get("provenance") or {}
    kind = str(provenance.get("kind", ""))
    return {"kind": kind, "label": str(provenance.get("label") or name),
            "detail": str(provenance.get("detail", "")),
            "marker": KINDS[kind][0] if kind in KINDS else ""}


def legend(kinds: list[str]) -> list[dict[str, str]]:
    """``marker``, ``kind`` and ``text`` of each kind in ``kinds`` (in :data:`KINDS`'
    order), for a report's legend."""
    return [{"marker": marker, "kind": kind, "text": text}
            for kind, (marker, text) in KINDS.items() if kind in kinds]
