"""Run :class:`~mmif_bench.fusion.FuseTask` shards on a Dask cluster (``--executor dask``).

Each task becomes one future that runs :func:`~mmif_bench.fusion.run_fuse_task` on a worker
(after checking that the worker's method has the client's fingerprint).
Workers read the pairs, write fused PNGs and cache entries into ``OUT`` themselves (a
shared file system or the same paths on every machine); the client only reads the cache
back, keyed by (method, pair), so completion order and retried tasks change nothing. A
task lost with its worker is rescheduled by the scheduler; a task that raises is retried
``retries`` times. Per-pair ``--timeout`` is not enforced on workers: it relies on SIGALRM,
which works only on a main thread. See ``docs/dask.md``.
"""
from __future__ import annotations

import dataclasses
import json
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed

from .fusion import FuseTask, PairOutcome, fused_key, load_method, run_fuse_task
from .method import method_fingerprint
from .registry import PluginSpec

GPU = "GPU"  # the worker resource GPU tasks ask for: `dask worker ... --resources GPU=1`

_worker_fingerprints: dict[tuple[PluginSpec, str], str] = {}


def _declared_options(task: FuseTask) -> dict[str, Any]:
    return getattr(task.spec.load(), "options", None) or {}


def uses_gpu(task: FuseTask) -> bool:
    """Whether the task's method declares that it needs a GPU
    (:meth:`~mmif_bench.Method.needs_gpu` of its options)."""
    return bool(task.spec.load().needs_gpu(task.options))


def portable(task: FuseTask) -> FuseTask:
    """The task with absolute paths (pairs, ``OUT``, cache, ``path`` options such as
    weights), so that workers started in another folder find the same files."""
    pairs = tuple(dataclasses.replace(p, path_a=p.path_a.absolute(), path_b=p.path_b.absolute())
                  for p in task.pairs)
    declared = _declared_options(task)
    options = {key: str(Path(value).expanduser().absolute())
               if getattr(declared.get(key), "kind", "") == "path" and value else value
               for key, value in task.options.items()}
    return dataclasses.replace(task, pairs=pairs, options=options,
                               out_dir=str(Path(task.out_dir).absolute()),
                               cache_dir=str(Path(task.cache_dir).absolute()))


def failed_outcomes(task: FuseTask, message: str) -> list[PairOutcome]:
    """Every pair of a task as a failure with ``message`` (a rerun retries them)."""
    return [PairOutcome(task.method, pair.key, fused_key(task.fingerprint, input_hash), message)
            for pair, input_hash in zip(task.pairs, task.input_hashes)]


def run_checked_task(task: FuseTask) -> list[PairOutcome]:
    """:func:`run_fuse_task` on a worker, once the method the worker builds is known to
    have the client's fingerprint (same version, options and weight files), so that a
    worker with other weights or another mmif-bench never fills the cache under that key."""
    key = (task.spec, json.dumps(task.options, sort_keys=True, default=str))
    if key not in _worker_fingerprints:
        try:
            _worker_fingerprints[key] = method_fingerprint(load_method(task))
        except Exception:
            return run_fuse_task(task)  # which reports the method failing to start
    if _worker_fingerprints[key] != task.fingerprint:
        return failed_outcomes(task, (
            "the method on this Dask worker differs from the client's (mmif-bench version, "
            "options or weight files): install the same version on every worker and make "
            "the weights reachable at the same path ($MMIF_BENCH_WEIGHTS)"))
    return run_fuse_task(task)


def _has_gpu_workers(dask_scheduler: Any) -> bool:
    """Run on the scheduler: whether a connected worker declares a GPU resource."""
    return any(worker.resources.get(GPU) for worker in dask_scheduler.workers.values())


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
        cluster = stack.enter_context(LocalCluster(  # its HTTP server on any free local port
            n_workers=self.jobs, threads_per_worker=1, processes=True,
            dashboard_address="127.0.0.1:0"))
        return stack.enter_context(Client(cluster, set_as_default=False))

    def _submit(self, client: Client, task: FuseTask, resources: dict[str, Any] | None) -> Future:
        return client.submit(run_checked_task, portable(task), retries=self.retries,
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
            if any(resources) and not client.run_on_scheduler(_has_gpu_workers):
                raise RuntimeError(
                    f"a method runs on cuda but no worker of {self.scheduler} declares a {GPU} "
                    f"resource; start one worker per GPU with `dask worker {self.scheduler} "
                    f"--nthreads 1 --resources {GPU}=1`")
            futures = {self._submit(client, task, need): task for task, need in zip(tasks, resources)}
            for future in as_completed(list(futures), loop=client.loop):
                try:
                    yield future.result()
                except Exception as error:  # retries spent, or its workers died too often
                    yield failed_outcomes(futures[future],
                                          f"dask task failed: {type(error).__name__}: {error}")
