"""A run shows progress (a bar on a terminal, log lines otherwise, nothing with ``-q``)
and says in one compact line each which methods it leaves out, after its plan."""
from __future__ import annotations

import io
import logging

from mmif_bench import logs
from mmif_bench.cli import main
from mmif_bench.runner import RunConfig, configure


def _run(tmp_path, name: str, *flags: str) -> list[str]:
    return [*flags, "run", "--dataset", "phantom", "--methods", "mean,max", "--metrics", "EN",
            "--out", str(tmp_path / name), "--no-report"]


def test_progress_lines_off_a_terminal_and_none_when_quiet(tmp_path, capsys) -> None:
    assert main(_run(tmp_path, "plain")) == 0
    plain = capsys.readouterr().err
    assert "fusing: 12/12 pairs (100%)" in plain and "left" in plain
    assert "scoring max: 12/12 images (100%)" in plain
    assert main(_run(tmp_path, "quiet", "-q")) == 0
    assert capsys.readouterr().err == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_with_eta_on_a_terminal(tmp_path, monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(_run(tmp_path, "bar")) == 0
    text = terminal.getvalue()
    assert "fusing:" in text and "pair/s" in text and "<" in text  # tqdm: elapsed<ETA
    assert "scoring" in text and "image/s" in text
    assert "fusing: 12/12 pairs (100%)" not in text  # a bar, not log lines


def test_not_run_notes_are_compact_and_after_the_plan(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path / "no-weights"))
    logs.configure(0)
    with caplog.at_level(logging.INFO, logger=logs.LOGGER):
        plan = configure(RunConfig(dataset="phantom", metrics=["EN"], out=tmp_path / "T"))
    assert plan.not_run
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    plan_at = next(i for i, m in enumerate(messages) if m.startswith("plan: "))
    notes = [m for m in messages if m.startswith("not run: ")]
    assert len(notes) == len(plan.not_run)
    assert all(messages.index(note) > plan_at for note in notes)
    for name, note in zip(plan.not_run, notes):
        assert note.startswith(f"not run: {name} (") and f"{name}: {name}:" not in note
        assert len(note) < 120 and f"mmif-bench fetch weights {name}" in note
