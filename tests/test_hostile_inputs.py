"""Hostile and careless inputs (issue 26), each built here in a temporary folder: names that
are paths, colliding image names, files that are not files, images too large to decode."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmif_bench.cli import main
from mmif_bench.names import check_name, strip_roots
from mmif_bench.runner import RunConfig, run
from mmif_bench.scores import fused_image_path


def _image(path: Path, seed: int, size: tuple[int, int] = (64, 64)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def _dataset(root: Path, names: list[str], pair_type: str = "MRI-CT") -> Path:
    first, second = pair_type.split("-")
    for i, name in enumerate(names):
        _image(root / pair_type / first / name, 2 * i)
        _image(root / pair_type / second / name, 2 * i + 1)
    return root


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mmif-bench: error:"), err
    return err[0]


# --- 3. names are names, not paths ---------------------------------------------------------

PATH_NAMES = ["../../../x", "../../ds2", "..", ".", "mean/.", "a/b", "a\\b", "/abs", ".hidden",
              "-dash", "a\nb", "a\x00b", "a\x1bb", "a b", "x" * 65, "a..b", ""]


@pytest.mark.parametrize("name", PATH_NAMES, ids=repr)
def test_fused_name_that_is_a_path_is_refused(tmp_path, capsys, name) -> None:
    data = _dataset(tmp_path / "ds", ["1.png"])
    folder = tmp_path / "mine"
    _image(folder / "MRI-CT" / "1.png", 9)
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    before = _files(tmp_path)
    code = main(["run", "--dataset", str(data), "--methods", "mean", "--metrics", "EN",
                 "--out", str(work / "out"), f"--fused={name}={folder}", "--no-report"])
    assert code == 2
    line = _one_error_line(capsys)
    assert "name" in line
    assert _files(tmp_path) == before  # nothing written anywhere


@pytest.mark.parametrize("name", ["../evil", ".", "a/b", "x\ny"], ids=repr)
def test_method_name_that_is_a_path_is_refused(tmp_path, capsys, name) -> None:
    data = _dataset(tmp_path / "ds", ["1.png"])
    assert main(["run", "--dataset", str(data), "--methods", name, "--out",
                 str(tmp_path / "out")]) == 2
    assert "method name" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_registered_method_with_a_path_name_is_left_out_of_a_default_run(caplog) -> None:
    from mmif_bench.registry import register_method
    from mmif_bench.runner import _importable_methods

    register_method(lambda a, b: a, name="../escape")
    with caplog.at_level("INFO", logger="mmif_bench"):
        assert "../escape" not in _importable_methods()
    notes = [record.getMessage() for record in caplog.records]
    assert any("'../escape' is not allowed" in note for note in notes)


@pytest.mark.parametrize("name", ["mean", "U2Fusion", "ours-a", "dmfnet_cpu32", "a.b+c"])
def test_ordinary_names_pass(name) -> None:
    assert check_name("method", name) == name


@pytest.mark.parametrize("parts", [("..", "x", "1"), ("m", "..", "1"), ("m", "x", "../../1"),
                                   ("m", "a/b", "1"), ("m", ".", "1"), ("", "x", "1")])
def test_output_paths_stay_inside_out(tmp_path, parts) -> None:
    with pytest.raises(ValueError, match="not a plain file or folder name"):
        fused_image_path(tmp_path, *parts)


def test_cache_dir_inside_the_dataset_is_refused(tmp_path, capsys) -> None:
    data = _dataset(tmp_path / "ds", ["1.png"])
    assert main(["run", "--dataset", str(data), "--methods", "mean", "--out",
                 str(tmp_path / "out"), "--cache-dir", str(data / "MRI-CT" / ".c")]) == 2
    assert "--cache-dir" in _one_error_line(capsys)
    assert not (data / "MRI-CT" / ".c").exists()


def test_out_that_is_a_file_is_one_line(tmp_path, capsys) -> None:
    data = _dataset(tmp_path / "ds", ["1.png"])
    (tmp_path / "out").write_text("my notes\n")
    assert main(["run", "--dataset", str(data), "--methods", "mean", "--out",
                 str(tmp_path / "out")]) == 2
    assert "is a file, not a folder" in _one_error_line(capsys)
    assert (tmp_path / "out").read_text() == "my notes\n"


# --- 5. no silent loss ---------------------------------------------------------------------

def test_colliding_image_names_are_both_skipped_and_counted(tmp_path) -> None:
    data = _dataset(tmp_path / "ds", ["a.png", "a.tif", "b.png", "c.bmp"])
    summary = run(RunConfig(dataset=str(data), methods=["mean", "max"], metrics=["EN"],
                            out=tmp_path / "out", report=False))
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    clashes = [s for s in record["skipped"] if "a.png" in s["message"]]
    assert len(clashes) == 1 and "a.tif" in clashes[0]["message"], record["skipped"]
    assert summary.pairs == 2 and summary.exit_code == 3
    # every listed pair is scored, skipped or failed: none is lost
    stems = {"a", "b", "c"}
    assert summary.pairs + len(clashes) == len(stems)
    for method in ("mean", "max"):
        scored = {(s.pair, s.image) for s in _scores(tmp_path / "out") if s.method == method}
        failed = [f for f in summary.failures if f["method"] == method]
        assert len(scored) + len(failed) == summary.pairs


def _scores(out: Path):
    from mmif_bench.scores import read_scores

    return read_scores(out / "scores.csv")


# --- 4. files that are not files, images too large to decode ----------------------------

def _cli(args: list[str], cwd: Path, timeout: float = 120,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmif_bench", *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                    reason="needs FIFOs and /dev/zero")
@pytest.mark.slow
def test_fifo_and_device_files_are_skipped_never_read(tmp_path) -> None:
    data = _dataset(tmp_path / "ds", ["1.png", "2.png"])
    os.mkfifo(data / "MRI-CT" / "MRI" / "3.png")
    _image(data / "MRI-CT" / "CT" / "3.png", 5)
    (data / "MRI-CT" / "MRI" / "4.png").symlink_to("/dev/zero")
    (data / "MRI-CT" / "CT" / "4.png").symlink_to("/dev/zero")
    folder = tmp_path / "mine"
    _image(folder / "MRI-CT" / "1.png", 7)
    os.mkfifo(folder / "MRI-CT" / "2.png")
    (folder / "MRI-CT" / "extra.png").symlink_to("/dev/zero")
    os.mkfifo(folder / "notes.txt")
    result = _cli(["run", "--dataset", str(data), "--split", "all", "--methods", "mean",
                   "--metrics", "EN", "--fused", f"mine={folder}", "--out", "out",
                   "--no-report"], tmp_path, timeout=120)
    assert result.returncode == 3, result.stderr
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    skipped = {s["where"]: s["message"] for s in record["skipped"]}
    assert "FIFO" in skipped["MRI-CT/MRI/3.png"]
    assert "character device (through a symbolic link)" in skipped["MRI-CT/MRI/4.png"]
    assert "character device (through a symbolic link)" in skipped["MRI-CT/CT/4.png"]
    failures = {f["image"]: f["message"] for f in record["failures"]}
    assert set(failures) == {"2"} and "FIFO" in failures["2"]
    notes = " ".join(record["methods"]["mine"]["notes"])
    assert "extra.png (a character device" in notes and "notes.txt (a FIFO" in notes
    assert str(tmp_path) not in (tmp_path / "out" / "run.json").read_text()


def test_image_above_the_pixel_limit_is_skipped_with_its_reason(tmp_path, monkeypatch) -> None:
    data = _dataset(tmp_path / "ds", ["1.png"])
    _image(data / "MRI-CT" / "MRI" / "2.png", 3, (80, 80))
    _image(data / "MRI-CT" / "CT" / "2.png", 4, (80, 80))
    monkeypatch.setenv("MMIF_BENCH_MAX_PIXELS", str(70 * 70))
    summary = run(RunConfig(dataset=str(data), split="all", methods=["mean"], metrics=["EN"],
                            out=tmp_path / "out", report=False))
    assert summary.pairs == 1
    (skip,) = summary.skipped
    assert "80x80 is 6400 pixels, above the limit of 4900" in skip.message
    assert "MMIF_BENCH_MAX_PIXELS" in skip.message


def _blank_png(path: Path, width: int, height: int) -> None:
    """A gray PNG of zeros written row by row (a few hundred KB on disk, whatever its size)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    compressor, parts = zlib.compressobj(9), []
    row = b"\x00" * (width + 1)
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


@pytest.mark.slow
def test_huge_image_is_refused_before_it_is_decoded(tmp_path) -> None:
    """A 12000x12000 PNG (144 M pixels, under Pillow's own bomb limit) costs no memory."""
    path = tmp_path / "huge.png"
    _blank_png(path, 12000, 12000)
    assert path.stat().st_size < 1_000_000
    probe = (
        "import resource, sys\n"
        "from mmif_bench.imageio import ImageError, read_image\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_image(sys.argv[1]); print('decoded')\n"
        "except ImageError as error:\n"
        "    print(error)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                            text=True, timeout=120,
                            env={k: v for k, v in os.environ.items()
                                 if k != "MMIF_BENCH_MAX_PIXELS"})
    message, grown_mb = result.stdout.strip().splitlines()
    assert "above the limit of 16777216" in message, result
    assert int(grown_mb) < 20  # decoding it would take 144 MB


def test_messages_name_files_relative_to_their_folder(tmp_path) -> None:
    root = tmp_path / "ds"
    message = f"{root}/MRI-CT/MRI/1.png: not a readable image; partner {root.resolve()}/x.png"
    assert strip_roots(message, [root]) == ("MRI-CT/MRI/1.png: not a readable image; partner "
                                            "x.png")


# --- 7. one-line errors and recomputed cache entries ---------------------------------------

def test_unreadable_cache_entry_is_recomputed(tmp_path, caplog) -> None:
    config = dict(dataset="phantom", methods=["mean"], metrics=["EN"], out=tmp_path / "out",
                  report=False)
    assert run(RunConfig(**config)).exit_code == 0
    before = (tmp_path / "out" / "scores.csv").read_bytes()
    entries = sorted(p for p in (tmp_path / "out" / ".cache").glob("*/*") if p.is_file())
    for entry in entries[:2]:  # a folder where the entry was: reading it raises an OSError
        entry.unlink()
        (entry / "inside").mkdir(parents=True)
    with caplog.at_level("INFO", logger="mmif_bench"):
        again = run(RunConfig(**config))
    notes = [record.getMessage() for record in caplog.records]
    assert again.exit_code == 0
    assert any("recomputed 2 corrupt or unreadable cache entries" in n for n in notes)
    assert (tmp_path / "out" / "scores.csv").read_bytes() == before
    assert all(entry.is_file() for entry in entries[:2])


def test_names_with_control_characters_are_skipped_at_listing(tmp_path) -> None:
    data = _dataset(tmp_path / "ds", ["1.png", "two\nlines.png"])
    _dataset(data, ["1.png"], pair_type="MRI-P\tET")
    summary = run(RunConfig(dataset=str(data), split="all", methods=["mean"], metrics=["EN"],
                            out=tmp_path / "out", report=False))
    assert summary.pairs == 1 and not summary.failures
    reasons = [p.message for p in summary.skipped]
    assert len(reasons) == 3 and all("control characters" in r for r in reasons), reasons
