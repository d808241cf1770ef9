"""Executors run :class:`~mmif_bench.fusion.FuseTask` shards and yield their outcomes.

``local`` runs in this process (``jobs == 1``) or in a process pool; other engines plug in
through :func:`create_executor` (``dask``: :mod:`mmif_bench.dask_executor`).
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol

from .fusion import FuseTask, PairOutcome, run_fuse_task


class Executor(Protocol):
    def run(self, tasks: list[FuseTask]) -> Iterator[list[PairOutcome]]:
        """Yield each task's outcomes as it finishes (any order)."""


class LocalExecutor:
    """In-process for one job; a spawn-context process pool for several."""

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError("--jobs must be at least 1")
        self.jobs = jobs

    def run(self, tasks: list[FuseTask]) -> Iterator[list[PairOutcome]]:
        if self.jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                yield run_fuse_task(task)
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context) as pool:
            futures = [pool.submit(run_fuse_task, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


def create_executor(name: str = "local", jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor called ``name`` (``local`` or ``dask``)."""
    if name == "local":
        return LocalExecutor(jobs)
    if name == "dask":
        try:
            from .dask_executor import DaskExecutor
        except ImportError as error:
            raise RuntimeError(
                f"--executor dask needs dask.distributed: pip install 'mmif-bench[dask]' ({error})"
            ) from None
        return DaskExecutor(scheduler=scheduler, jobs=jobs)
    raise ValueError(f"unknown executor {name!r}; use local or dask")


def shard(items: Iterable, size: int) -> list[list]:
    """Consecutive chunks of at most ``size`` items."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]
