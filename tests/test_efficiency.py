"""Efficiency measured for the methods a run runs: parameters of every network a method
holds, FLOPs of one 256 x 256 pair (torch's FlopCounterMode), seconds per pair timed in
the run, recorded in run.json and shown in every report."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import mmif_bench
from mmif_bench import Method
from mmif_bench.efficiency import NO_NETWORK, network_measures, networks
from mmif_bench.registry import register_method


class TinyConvFusion(Method):
    """One 3 x 3 conv over the stacked pair (19 parameters), and the same conv again in a
    dict of per-modality models: a network held twice is counted once."""

    name = "tiny_conv_fusion"

    def __init__(self, **config):
        super().__init__(**config)
        torch.manual_seed(0)
        self.net = nn.Conv2d(2, 1, 3, padding=1)
        self.models = {"CT": self.net, "PET": nn.Sequential(self.net)}

    def fuse(self, a, b, *, modality=None):
        x = torch.from_numpy(np.stack([a, b])[None].astype(np.float32))
        with torch.no_grad():
            y = torch.sigmoid(self.models.get(modality, self.net)(x))
        return y[0, 0].numpy()


def test_parameters_count_each_network_once_and_flops_are_torchs_count() -> None:
    method = TinyConvFusion()
    assert set(networks(method)) == {"models[PET]"}  # the Sequential holds the conv
    measures = network_measures(method)
    assert measures["parameters"] == 2 * 9 + 1
    assert measures["flops"] == 2 * 256 * 256 * 2 * 9  # 2 per multiply-add, no bias
    assert "flop_counter" in measures["flops_note"]


def test_a_method_without_a_network_is_not_run_and_is_na() -> None:
    class Classical(Method):
        name = "classical_eff"

        def fuse(self, a, b, *, modality=None):
            raise AssertionError("not to be run for efficiency")

    assert network_measures(Classical()) == {"parameters": None, "networks": {}, "flops": None,
                                             "flops_note": NO_NETWORK}


def test_the_run_records_timings_and_every_report_has_the_table(small_harvard: Path,
                                                                  tmp_path: Path) -> None:
    register_method(TinyConvFusion)
    result = mmif_bench.run(dataset=str(small_harvard), methods=["mean", "tiny_conv_fusion"],
                            out=tmp_path / "run")
    tiny = result.record["methods"]["tiny_conv_fusion"]["efficiency"]
    assert tiny["parameters"] == 19 and tiny["flops"] == 2 * 256 * 256 * 2 * 9
    assert tiny["pairs_timed"] == 6 and 0 < tiny["seconds_per_pair"] <= tiny["seconds_total"]
    assert tiny["device"] == "cpu" and tiny["threads"] >= 1 and tiny["batch"] == 8
    mean = result.record["methods"]["mean"]["efficiency"]
    assert mean["parameters"] is None and mean["pairs_timed"] == 6
    again = mmif_bench.run(dataset=str(small_harvard), methods=["tiny_conv_fusion"],
                           out=tmp_path / "run", report=False)
    cached = again.record["methods"]["tiny_conv_fusion"]["efficiency"]
    assert cached["pairs_timed"] == 0 and cached["seconds_per_pair"] is None
    assert cached["flops"] == tiny["flops"]
    md = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "## Efficiency" in md and "| tiny_conv_fusion<sup>c</sup> | 0.000 | 0.00 |" in md
    assert "| Mean<sup>c</sup> | n/a | n/a |" in md
    assert 'id="efficiency-table"' in (tmp_path / "run" / "leaderboard.html").read_text()
    assert r"\label{tab:mmif-efficiency}" in (tmp_path / "run" / "leaderboard.tex").read_text()


def test_weights_held_as_plain_tensors_count_as_the_network(weights_dir: Path) -> None:
    from mmif_bench import create_method

    if not (weights_dir / "IFCNN-MAX.pth").is_file():
        pytest.skip("IFCNN-MAX.pth not in the weights folder")
    ifcnn = create_method("ifcnn")
    measures = network_measures(ifcnn)
    assert set(measures["networks"]) == {"params"}
    # conv1 summed over its 3 input channels, batch norm folded into conv2 and conv3
    assert measures["parameters"] == 64 * 7 * 7 + 2 * (64 * 64 * 9 + 64) + 3 * 64 + 3
    assert measures["flops"] > 0
