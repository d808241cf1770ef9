"""One ``mmif_bench`` logger: the command line sets its level (``-q``, ``-v``)."""
from __future__ import annotations

from mmif_bench.cli import main


def _run(tmp_path, name: str, *flags: str) -> list[str]:
    return [*flags, "run", "--dataset", "phantom", "--methods", "mean", "--metrics", "EN",
            "--out", str(tmp_path / name), "--no-report"]


def test_quiet_leaves_out_the_notes_and_the_default_shows_them(tmp_path, capsys) -> None:
    assert main(_run(tmp_path, "quiet", "-q")) == 0
    quiet = capsys.readouterr().err
    assert "dataset: phantom" not in quiet and "6 pairs x 1 methods" not in quiet
    assert main(_run(tmp_path, "default")) == 0  # also restores the default level
    default = capsys.readouterr().err
    assert "dataset: phantom" in default and "phantom: 6 pairs x 1 methods" in default
