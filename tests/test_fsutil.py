"""``atomic_write_bytes``: whole files with the mode ``open()`` would give them."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mmif_bench.fsutil import atomic_write_bytes, current_umask


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_respect_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        assert current_umask() == umask
        atomic_write_bytes(tmp_path / "scores.csv", b"method\n")
        (tmp_path / "plain.csv").write_bytes(b"method\n")
    finally:
        os.umask(previous)
    mode = (tmp_path / "scores.csv").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask == (tmp_path / "plain.csv").stat().st_mode & 0o777
    assert (tmp_path / "scores.csv").read_bytes() == b"method\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
