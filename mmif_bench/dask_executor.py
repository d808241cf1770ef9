"""Run :class:`~mmif_bench.fusion.FuseTask` shards on a Dask cluster (``--executor dask``).

Each task becomes one future that runs :func:`~mmif_bench.fusion.run_fuse_task` on a worker.
Workers read the pairs, write fused PNGs and cache entries into ``OUT`` themselves (a
shared file system or the same paths on every machine); the client only reads the cache
back, keyed by (method, pair), so completion order and retried tasks change nothing. A
task lost with its worker is rescheduled by the scheduler; a task that raises is retried
``retries`` times. Per-pair ``--timeout`` is not enforced on workers: it relies on SIGALRM,
which works only on a main thread. See ``docs/dask.md``.
"""
from __future__ import annotations

import dataclasses
import uuid
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator

from distributed import Client, Future, LocalCluster, as_completed

from .fusion import FuseTask, PairOutcome, fused_key, run_fuse_task

GPU = "GPU"  # the worker resource GPU tasks ask for: `dask worker ... --resources GPU=1`


def uses_gpu(task: FuseTask) -> bool:
    """Whether the task's method runs on CUDA: its ``device`` option (set or default)."""
    declared = getattr(task.spec.load(), "options", None) or {}
    default = getattr(declared.get("device"), "default", "cpu")
    return str(task.options.get("device", default)).startswith("cuda")


def portable(task: FuseTask) -> FuseTask:
    """The task with absolute paths, so that workers started elsewhere find the files."""
    pairs = tuple(dataclasses.replace(p, path_a=p.path_a.absolute(), path_b=p.path_b.absolute())
                  for p in task.pairs)
    return dataclasses.replace(task, pairs=pairs, out_dir=str(Path(task.out_dir).absolute()),
                               cache_dir=str(Path(task.cache_dir).absolute()))


def failed_outcomes(task: FuseTask, error: BaseException) -> list[PairOutcome]:
    """Every pair of a task that Dask gave up on, as a failure (a rerun resumes it)."""
    message = f"dask task failed: {type(error).__name__}: {error}"
    return [PairOutcome(task.method, pair.key, fused_key(task.fingerprint, input_hash), message)
            for pair, input_hash in zip(task.pairs, task.input_hashes)]


def _gpu_workers(client: Client) -> int:
    workers = client.scheduler_info()["workers"].values()
    return sum(1 for worker in workers if worker.get("resources", {}).get(GPU))


class DaskExecutor:
    """Runs tasks on the Dask scheduler at ``scheduler``, or on a LocalCluster of ``jobs``
    single-threaded worker processes started (and closed) for each :meth:`run`.

    On a scheduler, tasks of methods whose ``device`` is CUDA ask for one ``GPU`` resource,
    so start one worker per GPU with ``--nthreads 1 --resources GPU=1``.
    """

    def __init__(self, scheduler: str | None = None, jobs: int = 1, retries: int = 2) -> None:
        if jobs < 1:
            raise ValueError("--jobs must be at least 1")
        self.scheduler = scheduler
        self.jobs = jobs
        self.retries = retries

    def _client(self, stack: ExitStack) -> Client:
        if self.scheduler:
            return stack.enter_context(Client(self.scheduler, set_as_default=False))
        cluster = stack.enter_context(LocalCluster(
            n_workers=self.jobs, threads_per_worker=1, processes=True, dashboard_address=None))
        return stack.enter_context(Client(cluster, set_as_default=False))

    def _submit(self, client: Client, task: FuseTask, resources: dict[str, Any] | None) -> Future:
        return client.submit(run_fuse_task, portable(task), retries=self.retries,
                             key=f"fuse-{task.method}-{uuid.uuid4().hex}", resources=resources)

    def run(self, tasks: list[FuseTask]) -> Iterator[list[PairOutcome]]:
        if not tasks:
            return
        if any(task.timeout for task in tasks):
            warnings.warn("--timeout is not enforced on Dask workers (SIGALRM needs a main "
                          "thread)", RuntimeWarning, stacklevel=2)
        with ExitStack() as stack:
            client = self._client(stack)
            resources = [{GPU: 1} if self.scheduler and uses_gpu(task) else None for task in tasks]
            if any(resources) and not _gpu_workers(client):
                raise RuntimeError(
                    f"a method runs on cuda but no worker of {self.scheduler} declares a {GPU} "
                    f"resource; start one worker per GPU with `dask worker {self.scheduler} "
                    f"--nthreads 1 --resources {GPU}=1`")
            futures = {self._submit(client, task, need): task for task, need in zip(tasks, resources)}
            for future in as_completed(list(futures), loop=client.loop):
                try:
                    yield future.result()
                except Exception as error:  # retries spent, or its workers died too often
                    yield failed_outcomes(futures[future], error)
