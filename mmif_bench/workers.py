"""Worker processes the runner owns: fusing isolated from the run, bounded in time.

Each worker is a fresh Python process that builds a task's method once and keeps it
(weights load once per worker), then fuses the shards it is handed. The parent waits on
every worker with a deadline of ``timeout`` x pairs per shard, counted from the moment the
worker has its method and starts fusing. Whatever a method does (swallows exceptions in a
loop, loops in C, calls ``os._exit``, segfaults, is killed by the out-of-memory killer),
the shard it held ends as failures of its pairs not yet fused, named with the cause, and a
fresh worker takes the next shard. Pairs fused before that are kept: a worker writes each
fused image to the cache as soon as it is made, and the parent looks there.

Workers die with the parent (``PR_SET_PDEATHSIG`` on Linux, else a watcher thread), ignore
SIGINT (Ctrl-C is the parent's to handle: it kills them) and record a ``KeyboardInterrupt``
or ``SystemExit`` raised by a method as a failure of its shard.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from .cache import Cache
from .fusion import FuseTask, PairOutcome, fused_key, load_method, run_fuse_task

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_GRACE = 2.0  # seconds an idle worker gets to exit before it is killed
TIMEOUT_GRACE = 1.0  # seconds on top of timeout x pairs: pair loading and PNG writing


def salvage(task: FuseTask, message: str) -> list[PairOutcome]:
    """The task's pairs after its worker stopped: those whose fused image reached the
    cache succeeded, the others failed with ``message`` (a rerun retries them)."""
    cache = Cache(task.cache_dir)
    outcomes = []
    for pair, input_hash in zip(task.pairs, task.input_hashes, strict=True):
        key = fused_key(task.fingerprint, input_hash)
        done = cache.get(key, "fused") is not None
        outcomes.append(PairOutcome(task.method, pair.key, key, None if done else message))
    return outcomes


def death_cause(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is None:
        return "the worker process vanished"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = {"SIGSEGV": ", a segmentation fault", "SIGKILL": ", often the out-of-memory killer",
               "SIGABRT": ", an abort", "SIGBUS": ", a bus error"}.get(name, "")
        return f"the worker process was killed by {name}{why}"
    return f"the worker process exited with code {exitcode} (os._exit or a crash of the method)"


def _die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends (Linux: the kernel sends SIGKILL)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before prctl
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _serve(connection: Connection, parent: int) -> None:
    """A worker's life: fuse the tasks the parent sends until it sends None or is gone."""
    _die_with_parent(parent)
    sys.path[:] = connection.recv()  # the parent's: plugins it can import, this one can
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            load_method(task)  # built once per process; run_fuse_task reports a failure
        except BaseException:  # noqa: B036 (a method's SystemExit is its failure)
            pass
        connection.send("fusing")
        try:
            outcomes = run_fuse_task(task)
        except BaseException as error:  # noqa: B036 (KeyboardInterrupt/SystemExit of a method)
            outcomes = salvage(task, f"{type(error).__name__}: {error}")
        connection.send(outcomes)


def main(argv: list[str]) -> None:
    """Entry of a worker process: ``WORKER_CODE FD PARENT_PID``."""
    _serve(Connection(int(argv[0])), int(argv[1]))


# SIGINT ignored first thing: Ctrl-C reaches the whole process group, and is the run's
WORKER_CODE = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
               "from mmif_bench.workers import main; main(sys.argv[1:])")


@dataclass
class Worker:
    """One worker process, its end of the pipe and the task it holds.

    A plain ``python -c`` process rather than multiprocessing's ``spawn``, which would
    import the parent's ``__main__`` (a user's script that calls ``run`` unguarded)."""

    process: subprocess.Popen[bytes]
    connection: Connection
    task: FuseTask | None = None
    deadline: float | None = None

    @classmethod
    def start(cls) -> Worker:
        ours, theirs = multiprocessing.Pipe()
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE, str(theirs.fileno()), str(os.getpid())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        theirs.close()
        ours.send(sys.path)
        return cls(process, ours)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def give(self, task: FuseTask) -> None:
        self.task, self.deadline = task, None
        try:
            self.connection.send(task)
        except OSError:
            pass  # it died while idle: its pipe reads as ended, and the task fails with why

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.connection.close()

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass
        try:
            self.process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.connection.close()


class WorkerPool:
    """Runs tasks on at most ``jobs`` worker processes; see the module docstring."""

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError("--jobs must be at least 1")
        self.jobs = jobs
        self.pids: list[int] = []  # every worker process started, for inspection

    def _start(self) -> Worker:
        worker = Worker.start()
        self.pids.append(worker.process.pid)
        return worker

    def _ended(self, worker: Worker) -> list[PairOutcome] | None:
        """The outcomes of a worker that has something to say or has died; None when it
        only reported that it started fusing (its deadline is set then)."""
        assert worker.task is not None
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            worker.process.wait()
            return salvage(worker.task, f"{death_cause(worker.process.returncode)}; the pairs "
                                        "of its shard not fused by then failed")
        if message == "fusing":
            if worker.task.timeout:
                worker.deadline = (time.monotonic() + TIMEOUT_GRACE
                                   + worker.task.timeout * len(worker.task.pairs))
            return None
        return message

    def _expired(self, worker: Worker) -> list[PairOutcome]:
        assert worker.task is not None and worker.task.timeout
        worker.kill()
        return salvage(worker.task, (
            f"took longer than the per-pair timeout of {worker.task.timeout:g} s "
            f"({len(worker.task.pairs)} pairs in its shard); the worker process was killed"))

    def run(self, tasks: list[FuseTask]) -> Generator[list[PairOutcome], None, None]:
        """Yield each task's outcomes as it finishes; every worker is gone on return, on
        an exception (Ctrl-C) and when the caller closes the generator."""
        pending = deque(tasks)
        idle: list[Worker] = []
        busy: list[Worker] = []
        try:
            while pending or busy:
                while pending and len(busy) < self.jobs:
                    worker = idle.pop() if idle else self._start()
                    worker.give(pending.popleft())
                    busy.append(worker)
                deadlines = [w.deadline for w in busy if w.deadline is not None]
                limit = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                wait([w.connection for w in busy], timeout=limit)
                for worker in list(busy):
                    outcomes = None
                    if worker.connection.poll():
                        outcomes = self._ended(worker)
                    elif worker.deadline is not None and time.monotonic() > worker.deadline:
                        outcomes = self._expired(worker)
                    if outcomes is None:
                        continue
                    busy.remove(worker)
                    if worker.alive:
                        idle.append(worker)
                    else:
                        worker.connection.close()
                    yield outcomes
        finally:
            for worker in busy:
                worker.kill()
            for worker in idle:
                worker.stop()
