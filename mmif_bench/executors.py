"""Executors run :class:`~mmif_bench.fusion.FuseTask` shards and yield their outcomes.

``local`` runs them on worker processes the runner owns (:mod:`mmif_bench.workers`, also
for ``jobs == 1``); other engines plug in through :func:`create_executor` (``dask``:
:mod:`mmif_bench.dask_executor`).
"""
from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Protocol

from .fusion import FuseTask, PairOutcome
from .workers import WorkerPool


class Executor(Protocol):
    def run(self, tasks: list[FuseTask]) -> Generator[list[PairOutcome], None, None]:
        """Yield each task's outcomes as it finishes (any order); closing the generator
        stops the work."""


class LocalExecutor(WorkerPool):
    """``jobs`` isolated worker processes (:class:`~mmif_bench.workers.WorkerPool`)."""


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
