"""A weight file that is not plain tensors is refused, saying so, and never advises loading
it with ``weights_only=False`` (issue 26); an unreadable one is named in one line."""
from __future__ import annotations

from fractions import Fraction

import pytest

from mmif_bench.cli import main
from mmif_bench.weights import UntrustedWeightsError, load_torch_file


def _untrusted(path) -> None:
    import torch

    torch.save({"conv.weight": torch.zeros(1), "note": Fraction(1, 3)}, path)


def test_untrusted_file_is_refused_without_the_weights_only_hint(tmp_path) -> None:
    path = tmp_path / "IFCNN-MAX.pth"
    _untrusted(path)
    with pytest.raises(UntrustedWeightsError) as caught:
        load_torch_file(path)
    message = str(caught.value)
    assert "is not a plain weight file" in message and "refused" in message
    assert "fractions.Fraction" in message and "weights_only" not in message


@pytest.mark.parametrize("make,expected", [
    (_untrusted, "is not a plain weight file"),
    (lambda path: path.write_bytes(b"PK\x03\x04 truncated"), "is not a readable torch weight file"),
], ids=["untrusted", "corrupt"])
def test_a_run_names_the_refused_file_in_one_line(tmp_path, capsys, make, expected) -> None:
    path = tmp_path / "weights.pth"
    make(path)
    code = main(["run", "--dataset", "phantom", "--methods", "ifcnn", "-o",
                 f"ifcnn:weights={path}", "--out", str(tmp_path / "out"), "--no-report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert expected in err[0] and str(path) in err[0]
    assert "weights_only=False" not in err[0]
