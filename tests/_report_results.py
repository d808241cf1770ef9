"""Build small results folders in the runner's format for the reporting tests.

Fuses a few Harvard test pairs with mean and max fusion (luma only, chroma kept),
scores them with EN and SD, adds a synthetic lower-is-better metric, and writes
``scores.csv``, ``run.json`` and ``fused/<method>/<pair>/<image>.png``.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from mmif_bench.colour import merge_fused, split_source
from mmif_bench.dataset import FolderDataset
from mmif_bench.evaluation import score_255
from mmif_bench.imageio import gray_of, write_png

FUSERS = {"mean": lambda a, b: (a + b) / 2, "max": np.maximum}
METRICS = {
    "EN": {"higher_is_better": True, "needs_sources": False, "unit": "bits",
           "reference": "Roberts et al., J. Appl. Remote Sens. 2008",
           "description": "Shannon entropy of the fused image"},
    "SD": {"higher_is_better": True, "needs_sources": False, "unit": "",
           "reference": "Rao, Measurement 1997",
           "description": "Standard deviation of the fused image"},
    "ERR": {"higher_is_better": False, "needs_sources": True, "unit": "",
            "reference": "synthetic test metric",
            "description": "Mean absolute difference to the MRI source / 255"},
}


def make_results(root: Path, out: Path, per_pair: int = 4) -> Path:
    """Write a results folder for ``per_pair`` test images of each modality pair."""
    listing = FolderDataset(root, name="harvard").list_pairs("test")
    chosen = [p for t in ("MRI-CT", "MRI-PET", "MRI-SPECT")
              for p in [q for q in listing.pairs if q.pair_type == t][:per_pair]]
    rows, pairs = [], []
    for pair in chosen:
        a, b = pair.load()
        ya, _ = split_source(a.pixels)
        yb, cbcr = split_source(b.pixels)
        pairs.append({"pair": pair.pair_type, "image": pair.name,
                      "file_a": pair.path_a.relative_to(root).as_posix(),
                      "file_b": pair.path_b.relative_to(root).as_posix(),
                      "hash": f"h-{pair.pair_type}-{pair.name}"})
        for method, fuse in FUSERS.items():
            fused = merge_fused(fuse(ya, yb), cbcr)
            write_png(out / "fused" / method / pair.pair_type / f"{pair.name}.png", fused)
            luma = gray_of(fused).astype(np.float64)
            scores = score_255(luma, gray_of(a.pixels), gray_of(b.pixels), metrics=["EN", "SD"])
            scores["ERR"] = float(np.abs(luma - gray_of(a.pixels)).mean() / 255)
            rows += [(method, "harvard", pair.pair_type, pair.name, m, repr(v))
                     for m, v in scores.items()]
    rows.sort(key=lambda r: (r[0], r[2], r[3], r[4]))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scores.csv", "w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["method", "dataset", "pair", "image", "metric", "value"])
        writer.writerows(rows)
    run = {
        "software": {"name": "mmif-bench", "version": "0.1.0"},
        "profile": "default",
        "dataset": {"name": "harvard", "split": "test", "hash": "d" * 64},
        "methods": {m: {"options": {}, "weights": {}, "fingerprint": f"fp-{m}",
                        "deterministic": True} for m in FUSERS},
        "metrics": METRICS,
        "pairs": pairs,
        "skipped": [{"where": "MRI-CT/9999.png", "message": "missing partner CT/9999.png"}],
        "failures": [],
        "plugin_errors": {},
    }
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    return out


WIDE_METHODS = ["mean", "max", "pca", "dwt", "laplacian", "gff", "ifcnn", "dmfnet", "almfnet",
                "matr", "mufusion", "ours-a", "ours-b", "ours-c", "ours-d", "ct-only"]


def make_wide_results(out: Path, images: int = 4, seed: int = 7) -> Path:
    """A results folder (scores.csv, run.json; no images) with 16 methods and the 13
    default metrics on 3 pair types: synthetic scores where method i is better the
    smaller i, plus noise; ``ct-only`` has scores for MRI-CT only (not applicable
    elsewhere)."""
    from mmif_bench.registry import get, get_metric, list_metrics, specs

    rng = np.random.default_rng(seed)
    metrics = list_metrics("default")
    pair_types = ["MRI-CT", "MRI-PET", "MRI-SPECT"]
    rows, pairs = [], []
    for pair in pair_types:
        for k in range(images):
            pairs.append({"pair_type": pair, "image": f"{k}.png", "file_a": f"{pair}/MRI/{k}.png",
                          "file_b": f"{pair}/{pair[4:]}/{k}.png", "hash": f"h-{pair}-{k}"})
    for i, method in enumerate(WIDE_METHODS):
        for entry in pairs:
            if method == "ct-only" and entry["pair_type"] != "MRI-CT":
                continue
            for metric in metrics:
                sign = 1.0 if get_metric(metric).higher_is_better else -1.0
                value = sign * (len(WIDE_METHODS) - i) + rng.normal(0.0, 2.0)
                rows.append((method, "synthetic", entry["pair_type"], entry["image"], metric, repr(value)))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scores.csv", "w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["method", "dataset", "pair", "image", "metric", "value"])
        writer.writerows(rows)
    info = {name: {"higher_is_better": m.higher_is_better, "needs_sources": m.needs_sources,
                   "reference": m.reference, "description": m.description, "unit": m.unit,
                   "bibtex": m.bibtex}
            for name, m in ((n, get_metric(n)) for n in metrics)}
    methods = specs("methods")
    run = {"schema_version": 2,
           "software": {"name": "mmif-bench", "version": "0.1.0"}, "profile": "default",
           "dataset": {"name": "synthetic", "split": "test", "hash": "s" * 64},
           "methods": {m: {"options": {}, "weights": {}, "fingerprint": f"fp-{m}",
                           "deterministic": True,
                           "bibtex": get("methods", m).bibtex if m in methods else ""}
                       for m in WIDE_METHODS},
           "not_applicable": {"ct-only": ["MRI-PET", "MRI-SPECT"]},
           "not_run": {}, "metrics": info, "pairs": pairs, "notes": [], "skipped": [],
           "failures": [], "plugin_errors": {}}
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    return out
