"""Shared fixtures: data locations relative to the repository root (never absolute)."""
from __future__ import annotations

import importlib.util
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


SLOW_FIXTURES = {"harvard_root", "small_harvard", "weights_dir", "reference_outputs",
                 "fixtures_dir", "authors_ckpt", "benchmark"}
"""A test that needs the Harvard data, the published weights, the authors' fixtures or
times code (pytest-benchmark) is in the slow tier."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers: ``pytest`` runs everything; ``pytest -m "not slow"`` is the development tier,
    without the tests that use :data:`SLOW_FIXTURES`, benchmarks, and those marked slow."""
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & SLOW_FIXTURES or item.get_closest_marker("benchmark"):
            item.add_marker(pytest.mark.slow)


def _locate(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else default


@pytest.fixture(scope="session", autouse=True)
def empty_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``$MMIF_BENCH_CACHE`` for the session (subprocesses inherit it): tests never
    see, or write into, the user's fetched data and weights."""
    root = tmp_path_factory.mktemp("user-cache")
    os.environ["MMIF_BENCH_CACHE"] = str(root)
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def harvard_root() -> Path:
    """The Harvard AANLIB pairs: ``$MMIF_BENCH_DATA`` or ``../shared/datasets/harvard``."""
    root = _locate("MMIF_BENCH_DATA", SHARED / "datasets" / "harvard")
    if not (root / "MRI-CT").is_dir():
        pytest.skip(f"Harvard data not found at {root}; set MMIF_BENCH_DATA")
    return root


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """Published weights: ``$MMIF_BENCH_WEIGHTS`` or ``../shared/weights``."""
    root = _locate("MMIF_BENCH_WEIGHTS", SHARED / "weights")
    if not root.is_dir() or not any(root.iterdir()):
        pytest.skip(f"no weights folder at {root} (missing or empty); set MMIF_BENCH_WEIGHTS")
    return root


@pytest.fixture(scope="session")
def reference_outputs(weights_dir) -> Path:
    """The authors' own fused images of a few Harvard test pairs per deep method
    (``<weights>/reference_outputs/<method>/<PAIR>_<NAME>.png``; see its README)."""
    root = weights_dir / "reference_outputs"
    if not root.is_dir():
        pytest.skip(f"authors' reference outputs not found at {root}")
    return root


@pytest.fixture(scope="session")
def classical_root() -> Path:
    """The classical canon's data (the learned dictionaries of CSR and CSMCA under
    ``data/``) and what the authors' MATLAB writes for a few Harvard test pairs
    (``reference_outputs/<method>/``): ``$MMIF_BENCH_CLASSICAL`` or ``../shared/classical``."""
    root = _locate("MMIF_BENCH_CLASSICAL", SHARED / "classical")
    if not (root / "data").is_dir() or not (root / "reference_outputs").is_dir():
        pytest.skip(f"classical data and reference outputs not found at {root}; "
                    f"set MMIF_BENCH_CLASSICAL")
    return root


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Checkpoints in the authors' released formats and what the authors' inference writes
    for them: ``$MMIF_BENCH_FIXTURES`` or ``../shared/fixtures/authors_format``."""
    root = _locate("MMIF_BENCH_FIXTURES", SHARED / "fixtures" / "authors_format")
    if not (root / "authors_ckpt.py").is_file():
        pytest.skip(f"authors-format fixtures not found at {root}; set MMIF_BENCH_FIXTURES")
    return root


@pytest.fixture(scope="session")
def metric_canon_dir() -> Path:
    """Worked values of the metric canon (Liu, MEFB and Tang's MATLAB code run in Octave on
    three Harvard test pairs; its README): ``$MMIF_BENCH_METRIC_CANON``, else the
    ``metric_canon`` folder beside ``$MMIF_BENCH_FIXTURES``, else
    ``../shared/fixtures/metric_canon``."""
    fixtures = os.environ.get("MMIF_BENCH_FIXTURES")
    default = (Path(fixtures).parent if fixtures else SHARED / "fixtures") / "metric_canon"
    root = _locate("MMIF_BENCH_METRIC_CANON", default)
    if not (root / "worked_values.csv").is_file():
        pytest.skip(f"metric-canon worked values not found at {root}; set MMIF_BENCH_METRIC_CANON")
    return root


@dataclass(frozen=True)
class CanonCase:
    """One worked value: the reference code's ``metric`` on ``pair``/``image`` fused by
    ``fusion``, and the images it was computed on (F, A, B as float64 0..255)."""

    pair: str
    image: str
    fusion: str
    reference: str
    metric: str
    value: float
    images: tuple[np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="session")
def metric_canon_cases(metric_canon_dir, harvard_root) -> list[CanonCase]:
    """Every row of ``worked_values.csv`` with its images, read as its README says: A the
    MRI PNG as stored, B the CT PNG or the OpenCV luma (YCrCb Y) of the PET/SPECT PNG,
    F = max(A, B) or the mean rounded half to even."""
    import csv

    import cv2

    def triple(pair: str, image: str, fusion: str):
        a = cv2.imread(str(harvard_root / pair / "MRI" / image), cv2.IMREAD_GRAYSCALE)
        second = harvard_root / pair / pair.split("-")[1] / image
        if pair == "MRI-CT":
            b = cv2.imread(str(second), cv2.IMREAD_GRAYSCALE)
        else:
            b = cv2.cvtColor(cv2.imread(str(second), cv2.IMREAD_COLOR), cv2.COLOR_BGR2YCrCb)[..., 0]
        a, b = a.astype(np.float64), b.astype(np.float64)
        fused = np.maximum(a, b) if fusion == "max" else np.round((a + b) / 2.0)
        return fused, a, b

    cases, images = [], {}
    with open(metric_canon_dir / "worked_values.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            key = (row["pair"], row["image"], row["fusion"])
            if key not in images:
                images[key] = triple(*key)
            cases.append(CanonCase(*key, row["reference"], row["metric"], float(row["value"]),
                                   images[key]))
    return cases


@pytest.fixture(scope="session")
def authors_ckpt(fixtures_dir) -> ModuleType:
    """The fixtures' checkpoint generator (``make(kind, keys_json, seed)``), imported from
    the fixtures folder (it is not part of this repository)."""
    spec = importlib.util.spec_from_file_location("authors_ckpt", fixtures_dir / "authors_ckpt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def small_harvard(harvard_root, tmp_path_factory) -> Path:
    """A copy of the first two test pairs of each Harvard modality pair (6 pairs)."""
    import shutil

    root = tmp_path_factory.mktemp("small_harvard")
    for pair_dir in sorted(p for p in harvard_root.iterdir() if p.is_dir()):
        names = (pair_dir / "test.txt").read_text().split()[:2]
        modalities = [m for m in pair_dir.name.split("-")]
        for modality in modalities:
            (root / pair_dir.name / modality).mkdir(parents=True)
            for name in names:
                shutil.copyfile(pair_dir / modality / name, root / pair_dir.name / modality / name)
        (root / pair_dir.name / "test.txt").write_text("".join(f"{n}\n" for n in names))
        (root / pair_dir.name / "train.txt").write_text("")
    return root


@pytest.fixture(scope="session")
def wide_report(tmp_path_factory) -> Path:
    """The Markdown, LaTeX, BibTeX and HTML reports and the CD diagram (not the 26 metric
    charts: seconds each) of 16 methods x 13 metrics on synthetic scores (no data needed)."""
    from _report_results import make_wide_results

    from mmif_bench.reporting.citations import write_bib
    from mmif_bench.reporting.figures import CD_DIAGRAM, cd_diagram
    from mmif_bench.reporting.html import write_html
    from mmif_bench.reporting.loading import load_results
    from mmif_bench.reporting.render import render_to
    from mmif_bench.reporting.tables import build_leaderboard

    out = make_wide_results(tmp_path_factory.mktemp("wide") / "run")
    board = build_leaderboard(load_results(out))
    for name in ("leaderboard.md", "leaderboard.tex"):
        render_to(out / name, f"{name}.j2", board=board)
    write_bib(board.citations, out / "leaderboard.bib")
    cd_diagram(board, out / "figures" / CD_DIAGRAM)
    write_html(board, out / "leaderboard.html", out / "figures", images_missing="synthetic scores")
    return out


@pytest.fixture(autouse=True)
def _runtime_registrations_undone():
    """Every test leaves the run-time plugin registry as it found it."""
    from mmif_bench.registry import isolated_registrations

    with isolated_registrations():
        yield


class Handler(SimpleHTTPRequestHandler):
    """Files of a folder; ``/cut/NAME`` announces NAME's full length, sends half, hangs up."""

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        if not self.path.startswith("/cut/"):
            return super().do_GET()
        data = (Path(self.directory) / self.path[len("/cut/"):]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The base URL of a loopback server and the folder it serves."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", folder
    server.shutdown()
    server.server_close()
