"""U2Fusion: the unified unsupervised fusion network, with its authors' TF1 weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .tf_layers import load_tf_variables, lrelu, reflect_conv, run_network
from .torchnet import DEVICE_OPTION, PublishedNetwork

_PUBLISHED = {"repository": "hanna-xu/U2Fusion",
              "commit": "0a5882140df67b3e0b588e1f2233e18cf944f1a4", "licence": "none stated"}
WEIGHTS = WeightFile(  # the TF1 checkpoint, named by its .index
    "U2Fusion/model.ckpt.index", path="model/model.ckpt.index", size=905,
    sha256="15b7d283a1de8f616cc42978346bd24d47a9c380d624370368b956beb593014e",
    git_blob="5c201d8d80bdd78de72efa316caba34bf1ff05d9", **_PUBLISHED, companions=(
        WeightFile("U2Fusion/model.ckpt.data-00000-of-00001",
                   path="model/model.ckpt.data-00000-of-00001", size=2636868,
                   sha256="e50cada8d4ec92f2577ad5db5d212fba521dffb35d04e00a20364b43512c64c8",
                   git_blob="70083a119d1450610b192b93fdfc5b0e42e4858e", **_PUBLISHED),
        WeightFile("U2Fusion/model.ckpt.meta", path="model/model.ckpt.meta", size=74008,
                   sha256="36a7c21e5d760df4ec968ad46a8bf6db9b8688d1d9d50e84bf6e5896e85f0b8f",
                   git_blob="c532e31d11a60ed9b153f8030eade1468f5750e7", **_PUBLISHED)))
GROWTH = 44  # channels each encoder layer adds (the authors' n)
DENSE_LAYERS = 5
DECODER = (("conv2_1", 6 * GROWTH, 128), ("conv2_2", 128, 64), ("conv2_3", 64, 32),
           ("conv2_4", 32, 1))


class U2FusionNet(nn.Module):
    """The U2Fusion generator (DenseNet encoder, plain decoder), named as the authors'
    variable scopes: ``Generator/encoder/{conv1_1, dense_block_conv1..5}`` and
    ``Generator_1/decoder/conv2_1..4`` (TF's name for the decoder's reused scope).

    Every convolution is 3 x 3 on a reflect padding, followed by a leaky ReLU (0.2)
    except the last, which is followed by ``tanh(x) / 2 + 0.5``. Each dense layer puts
    its 44 new channels in front of all earlier ones (widths 44 -> 264).
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.ModuleDict(
            {"conv1_1": reflect_conv(2, GROWTH)}
            | {f"dense_block_conv{k}": reflect_conv(k * GROWTH, GROWTH)
               for k in range(1, DENSE_LAYERS + 1)})
        self.decoder = nn.ModuleDict({name: reflect_conv(i, o) for name, i, o in DECODER})

    @staticmethod
    def tf_names() -> dict[str, str]:
        """State-dict key -> variable name in the authors' checkpoint."""
        scopes = {"encoder": "Generator/encoder", "decoder": "Generator_1/decoder"}
        layers = [("encoder", "conv1_1")] + [
            ("encoder", f"dense_block_conv{k}") for k in range(1, DENSE_LAYERS + 1)
        ] + [("decoder", name) for name, _, _ in DECODER]
        return {f"{part}.{layer}.{param}": f"{scopes[part]}/{layer}/{tf_param}"
                for part, layer in layers
                for param, tf_param in (("weight", "kernel"), ("bias", "bias"))}

    def forward(self, functional: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        """N x 1 x H x W sources in [0, 1] -> fused N x 1 x H x W in (0, 1)."""
        x = lrelu(self.encoder["conv1_1"](torch.cat([functional, mri], dim=1)))
        for k in range(1, DENSE_LAYERS + 1):
            x = torch.cat([lrelu(self.encoder[f"dense_block_conv{k}"](x)), x], dim=1)
        for name, _, _ in DECODER[:-1]:
            x = lrelu(self.decoder[name](x))
        return torch.tanh(self.decoder["conv2_4"](x)) / 2 + 0.5


def divide_by_max(fused: np.ndarray) -> np.ndarray:
    """N x H x W outputs saved as the authors' ``scipy.misc.toimage(Y, cmin=0,
    cmax=max(Y))``: ``Y * 255 / max(Y)`` clipped, + 0.5, truncated to uint8; / 255."""
    scale = np.float32(255) / fused.max(axis=(1, 2), keepdims=True)
    return np.floor(np.clip(fused * scale, 0, 255) + np.float32(0.5)) / np.float32(255)


class U2Fusion(PublishedNetwork):
    """U2Fusion with the authors' published weights (one model for every fusion task).

    As the authors' test script (``test_main.py``) runs it on medical pairs: the two
    sources scaled to [0, 1], a colour source as its full-range BT.601 luma
    ``0.299 R + 0.587 G + 0.114 B`` unrounded (the pipeline's luma), stacked as channels
    [functional (CT, PET or SPECT), MRI]; the network maps them straight to the fused
    image (no fusion rule at test time); the output is saved as
    ``round_half_up(255 * Y / max(Y))``, so its maximum becomes 255 and its minimum is
    not stretched. The method returns that 8-bit image / 255.

    Parameters
    ----------
    weights : path
        The checkpoint's ``model.ckpt.index`` (its ``.data`` shard beside it); default:
        ``U2Fusion/model.ckpt.index`` in ``$MMIF_BENCH_WEIGHTS`` or the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    Notes
    -----
    Weights: hanna-xu/U2Fusion (``model/``), no licence stated; research use, cite the
    paper, not redistributed here. Trained one task after another (visible-infrared,
    medical PET-MRI, multi-exposure, multi-focus) with elastic weight consolidation.

    References
    ----------
    H. Xu, J. Ma, J. Jiang, X. Guo and H. Ling, "U2Fusion: A unified unsupervised image
    fusion network", IEEE Transactions on Pattern Analysis and Machine Intelligence
    44(1), 502-518, 2022.
    """

    name = "u2fusion"
    display_name = "U2Fusion"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"U2Fusion checkpoint .index; default ${WEIGHTS_ENV}/"
                          f"{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{xu2022u2fusion,
  title   = {{U2Fusion}: A Unified Unsupervised Image Fusion Network},
  author  = {Xu, Han and Ma, Jiayi and Jiang, Junjun and Guo, Xiaojie and Ling, Haibin},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume  = {44},
  number  = {1},
  pages   = {502--518},
  year    = {2022},
  doi     = {10.1109/TPAMI.2020.3012548}
}"""

    def load_weights(self) -> None:
        net = load_tf_variables(U2FusionNet(), self.weight_path("weights"),
                                U2FusionNet.tf_names(), self.name)
        self.net = net.to(self.device, memory_format=torch.channels_last)

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        return divide_by_max(run_network(self.net, [b, a], self.device, min_size=2))
