"""The Dask executor against a real scheduler and workers started as separate processes.

The worker processes import this module (``tests/`` is on their PYTHONPATH) for the
test-only methods below. Workers run in their own folder, so relative paths given to the
client must reach them as absolute paths.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
from distributed import Client  # noqa: E402

from mmif_bench import registry  # noqa: E402
from mmif_bench.dask_executor import DaskExecutor, portable, run_checked_task, uses_gpu  # noqa: E402
from mmif_bench.dataset import content_hash  # noqa: E402
from mmif_bench.fusion import FuseTask  # noqa: E402
from mmif_bench.method import Method, Option, method_fingerprint  # noqa: E402
from mmif_bench.registry import create_dataset  # noqa: E402
from mmif_bench.runner import RunConfig, run  # noqa: E402

TESTS = Path(__file__).resolve().parent
MARKERS_ENV = "MMIF_TEST_DASK_MARKERS"  # set on workers: where test methods log their pid
STALL_ENV = "MMIF_TEST_DASK_STALL"  # set on workers: the file StallMean's first call creates
METRICS = "EN,SD,SF"
PAIRS_PER_TYPE = 3


def _mark() -> None:
    """Leave a file named after this worker's pid, one per fused pair."""
    folder = os.environ.get(MARKERS_ENV)
    if folder:
        Path(folder, f"{os.getpid()}-{uuid.uuid4().hex}").touch()


class StallMean(Method):
    """The pixel-wise mean; on the test workers, the first call of all creates the file
    ``$MMIF_TEST_DASK_STALL`` holding its pid and stalls there until it is killed."""

    name = "stallmean"

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _mark()
        stall = os.environ.get(STALL_ENV)
        if stall:
            try:
                handle = os.open(stall, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(handle, f"{os.getpid()}\n".encode())
                os.close(handle)
                time.sleep(120)
        return (a + b) / 2


class GpuMean(Method):
    """The pixel-wise mean declaring a CUDA device and weights (it uses neither)."""

    name = "gpumean"
    options = {"device": Option("cuda", "torch device"), "weights": Option("", "unused", "path")}

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _mark()
        return (a + b) / 2


def _marker_pids(folder: Path) -> list[int]:
    return [int(p.name.split("-")[0]) for p in folder.iterdir()]


class DaskCluster:
    """A scheduler and workers as subprocesses on loopback, logging to ``root/*.log``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.markers = root / "markers"
        self.markers.mkdir(parents=True)
        self.stall = root / "stalled-pid"
        self.processes: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.address = ""

    def start_scheduler(self) -> None:
        scheduler_file = self.root / "scheduler.json"
        scheduler = self._spawn("scheduler", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 60
        while not self.address:
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler did not start; see {self.root}/scheduler.log")
            try:
                self.address = json.loads(scheduler_file.read_text())["address"]
            except (OSError, ValueError):  # not written yet
                time.sleep(0.1)

    def _spawn(self, name: str, module: str, *args: str,
               env: dict[str, str] | None = None) -> subprocess.Popen:
        cwd = self.root / name
        cwd.mkdir()
        with open(self.root / f"{name}.log", "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd,
                                       env={**os.environ, **(env or {})},
                                       stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def add_workers(self, count: int, *args: str) -> None:
        """Start ``count`` single-threaded workers without nannies (a killed one stays dead)."""
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
               MARKERS_ENV: str(self.markers), STALL_ENV: str(self.stall)}
        for _ in range(count):
            name = f"worker{len(self.workers)}"
            self.workers.append(self._spawn(
                name, "distributed.cli.dask_worker", self.address, "--name", name,
                "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                "--local-directory", str(self.root / name), *args, env=env))
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(sum(w.poll() is None for w in self.workers), timeout=60)

    def close(self) -> None:
        """Stop the workers, then the scheduler (killed if SIGTERM is not enough)."""
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def dask_cluster(root: Path, workers: int) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` workers, all stopped on exit."""
    cluster = DaskCluster(root)
    try:
        cluster.start_scheduler()
        cluster.add_workers(workers)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask"), 2) as cluster:
        yield cluster


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    """For a test that kills a worker."""
    with dask_cluster(tmp_path / "dask", 2) as cluster:
        yield cluster


@pytest.fixture
def subset(harvard_root: Path, tmp_path: Path) -> Path:
    """A few Harvard test pairs of each type, copied to ``tmp_path/data``."""
    root = tmp_path / "data"
    for pair_dir in sorted(p for p in harvard_root.iterdir() if p.is_dir() and "-" in p.name):
        names = (pair_dir / "test.txt").read_text().split()[:PAIRS_PER_TYPE]
        for modality in pair_dir.name.split("-"):
            (root / pair_dir.name / modality).mkdir(parents=True)
            for name in names:
                shutil.copy(pair_dir / modality / name, root / pair_dir.name / modality / name)
        (root / pair_dir.name / "test.txt").write_text("\n".join(names) + "\n")
    return root


@pytest.fixture
def test_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register this module's methods for the test only (conftest undoes it)."""
    registry.register("methods", StallMean)
    registry.register("methods", GpuMean)


def _config(subset: Path, methods: list[str], **options: object) -> RunConfig:
    return RunConfig(dataset="harvard", data_root=subset, methods=methods,
                     metrics=METRICS.split(","), report=False, **options)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def _same_scores(tmp_path: Path) -> bool:
    return (tmp_path / "out-dask/scores.csv").read_bytes() == (tmp_path / "out-local/scores.csv").read_bytes()


def test_scheduler_and_two_workers_match_local(subset: Path, tmp_path: Path,
                                               shared_cluster: DaskCluster) -> None:
    methods = ["mean", "max", "dwt", "gff"]
    fused = len(methods) * 3 * PAIRS_PER_TYPE
    run(_config(subset, methods, out=tmp_path / "out-local"))
    cli = subprocess.run(  # relative paths, from another folder than the workers'
        [sys.executable, "-m", "mmif_bench", "run", "--dataset", "harvard", "--data-root", "data",
         "--methods", ",".join(methods), "--metrics", METRICS, "--no-report", "--out", "out-dask",
         "--executor", "dask", "--scheduler", shared_cluster.address],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert f"fused {fused} (cached 0)" in cli.stderr
    assert _same_scores(tmp_path)
    assert _files(tmp_path / "out-dask/fused") == _files(tmp_path / "out-local/fused")
    assert len(_files(tmp_path / "out-dask/fused")) == fused

    rerun = run(_config(subset, methods, out=tmp_path / "out-dask", executor="dask",
                        scheduler=shared_cluster.address))
    assert (rerun.exit_code, rerun.fused_now, rerun.fused_cached) == (0, 0, fused)
    assert _same_scores(tmp_path)


def test_killed_worker_task_is_retried(subset: Path, tmp_path: Path, test_methods: None,
                                       own_cluster: DaskCluster) -> None:
    killed: list[int] = []

    def kill_stalled_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            text = own_cluster.stall.read_text() if own_cluster.stall.is_file() else ""
            if text.endswith("\n"):
                killed.append(int(text))
                os.kill(killed[0], signal.SIGKILL)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_stalled_worker)
    killer.start()
    methods = ["stallmean", "max"]
    summary = run(_config(subset, methods, out=tmp_path / "out-dask", shard_size=1,
                          executor="dask", scheduler=own_cluster.address))
    killer.join()
    run(_config(subset, methods, out=tmp_path / "out-local", shard_size=1))

    assert killed and killed[0] in [w.pid for w in own_cluster.workers if w.poll() == -signal.SIGKILL]
    pairs = 3 * PAIRS_PER_TYPE
    assert len(_marker_pids(own_cluster.markers)) > pairs, "the killed worker's pair was not redone"
    assert (summary.exit_code, summary.failures) == (0, [])
    assert (summary.fused_now, summary.scored_now) == (2 * pairs, 2 * pairs)  # none twice
    assert _same_scores(tmp_path)


def test_gpu_tasks_need_and_go_to_gpu_workers(subset: Path, tmp_path: Path, test_methods: None,
                                              shared_cluster: DaskCluster) -> None:
    config = _config(subset, ["gpumean"], out=tmp_path / "out", shard_size=1, executor="dask",
                     scheduler=shared_cluster.address)
    with pytest.raises(RuntimeError, match="--resources GPU=1"):
        run(config)
    shared_cluster.add_workers(1, "--resources", "GPU=1")
    assert run(config).exit_code == 0
    assert set(_marker_pids(shared_cluster.markers)) == {shared_cluster.workers[-1].pid}


def test_local_cluster_without_scheduler(subset: Path, tmp_path: Path) -> None:
    summary = run(_config(subset, ["mean", "dwt"], out=tmp_path / "out-dask", executor="dask",
                          jobs=2))
    run(_config(subset, ["mean", "dwt"], out=tmp_path / "out-local"))
    assert (summary.exit_code, summary.fused_now) == (0, 2 * 3 * PAIRS_PER_TYPE)
    assert _same_scores(tmp_path)


def test_task_helpers(subset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pair = create_dataset("harvard", "data").list_pairs("test").pairs[0]
    a, b = pair.load()
    spec = registry.PluginSpec("methods", "gpumean", f"{__name__}:GpuMean")
    task = FuseTask("gpumean", spec, {"weights": "w.pth"}, method_fingerprint(GpuMean()), (pair,),
                    (content_hash(a.pixels, b.pixels),), "out", "out/.cache")
    assert uses_gpu(task) and not uses_gpu(dataclasses.replace(task, options={"device": "cpu"}))
    moved = portable(task)
    assert moved.out_dir == str(tmp_path / "out") and moved.options == {"weights": str(tmp_path / "w.pth")}
    assert moved.pairs[0].path_a == tmp_path / pair.path_a

    [outcome] = run_checked_task(dataclasses.replace(moved, options={}))
    assert outcome.error is None and (tmp_path / "out/fused/gpumean").is_dir()
    [outcome] = run_checked_task(dataclasses.replace(moved, options={"device": "cpu"}))
    assert "differs from the client's" in outcome.error
    with pytest.raises(ValueError):
        DaskExecutor(jobs=0)
