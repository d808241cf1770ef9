"""Fused images an earlier run left in ``OUT/fused``: removed when that run recorded
writing them, named when nobody did.

A results folder describes the run that wrote it. A run with fewer methods (or another
dataset or split) into a folder that an earlier run filled would otherwise leave that
run's images beside its own. The earlier run's ``run.json`` says which images it wrote
(each method's image of each of its pairs, less failures and pair types the method has no
model for): those are ours, and a run removes the ones it did not write again. Any other
file under ``OUT/fused`` is never deleted, only named; nor is anything inside an input
folder (a ``--fused`` folder or the dataset) or reached through a symbolic link.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from .run_record import RunRecord, read_run_record
from .scores import fused_image_path

logger = logging.getLogger(__name__)

SHOWN = 5
"""How many left files a note names."""


def recorded_images(out: Path) -> set[Path]:
    """The fused images ``OUT/run.json`` records its run writing (none when there is no
    record or it cannot be read: then nothing is ours, and a note says so)."""
    path = out / "run.json"
    if not path.is_file():
        return set()
    try:
        record = read_run_record(path)
    except (OSError, ValueError) as error:
        logger.warning("note: %s is not a run record this mmif-bench reads (%s); fused "
                       "images of earlier runs are left in place", path, error)
        return set()
    return _written_by(out, record)


def _written_by(out: Path, record: RunRecord) -> set[Path]:
    failed = {(f["method"], f["pair_type"], f["image"]) for f in record["failures"]}
    images = set()
    for method in record["methods"]:
        left_out = set(record["not_applicable"].get(method, []))
        for pair in record["pairs"]:
            if pair["pair_type"] in left_out or (method, pair["pair_type"], pair["image"]) in failed:
                continue
            try:
                images.add(fused_image_path(out, method, pair["pair_type"], pair["image"]))
            except ValueError:  # a name that is no plain path component: never ours
                continue
    return images


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def tidy_fused(out: Path, earlier: set[Path], written: set[Path], inputs: Iterable[Path]
               ) -> tuple[list[Path], list[Path]]:
    """Remove the images of ``earlier`` (an earlier run's, :func:`recorded_images`) that
    this run did not write (``written``), and the folders that leaves empty; log what was
    removed and every other file under ``OUT/fused`` this run did not write.

    Returns the removed and the left files. Files inside ``inputs`` (folders the run
    reads), symbolic links and paths that leave ``OUT/fused`` are never removed.
    """
    fused = out / "fused"
    if not fused.is_dir():
        return [], []
    real_fused = fused.resolve()
    real_inputs = [Path(root).resolve() for root in inputs]
    removed: list[Path] = []
    for path in sorted(earlier - written):
        real = path.resolve()
        if (path.is_symlink() or not path.is_file() or real_fused not in real.parents
                or _inside(real, real_inputs)):
            continue
        try:
            path.unlink()
        except OSError as error:  # no permission: left, and named below
            logger.debug("could not remove %s: %s", path, error)
            continue
        removed.append(path)
        _remove_empty_parents(path.parent, fused)
    left = sorted(p for p in fused.rglob("*") if (p.is_file() or p.is_symlink())
                  and p not in written and not p.name.startswith("."))
    if removed:
        methods = sorted({p.relative_to(fused).parts[0] for p in removed})
        logger.warning("note: removed %d fused images of an earlier run that this run did "
                       "not write (%s)", len(removed), ", ".join(methods))
    if left:
        shown = ", ".join(p.relative_to(out).as_posix() for p in left[:SHOWN])
        logger.warning("note: %d files in %s were not written by this run and were left in "
                       "place: %s%s", len(left), fused, shown, ", ..." if len(left) > SHOWN else "")
    return removed, left


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``stop`` while empty."""
    while folder != stop and stop in folder.parents:
        try:
            os.rmdir(folder)
        except OSError:  # not empty (or not ours to remove): stop here
            return
        folder = folder.parent
