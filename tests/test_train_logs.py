"""DM-FNet training logs print below its progress bar, never inside it."""
from __future__ import annotations

import io
import re

import torch
from test_dmfnet import write_dataset

from mmif_bench import logs
from mmif_bench.methods.dmfnet.presets import TINY
from mmif_bench.methods.dmfnet.train import Trainer


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_training_log_lines_start_on_their_own_line(tmp_path, monkeypatch) -> None:
    data = write_dataset(tmp_path / "data")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr("sys.stderr", terminal)
    logs.configure(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Trainer(TINY, 1, data, tmp_path / "run", steps=2).run()
    finally:
        torch.set_num_threads(threads)
    text = terminal.getvalue()
    assert "dmfnet stage 1" in text
    records = [m.start() for m in re.finditer(r'\{"step"', text)]
    assert records
    assert all(text[i - 1] in "\r\n" for i in records), text
