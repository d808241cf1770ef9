"""ALMFnet: the searched lightweight medical fusion network (PyTorch), authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8

WEIGHTS = WeightFile(
    "ALMFNet.pt", repository="RollingPlain/ALMFnet",
    commit="7801a02fa39c5b98454cf9a67894e4c3e3841daa", path="cache_train/ALMFNet.pt",
    size=282575, sha256="3947fceec8da13b823ecd45d4485e9c6cd7de1ba5bacd3a11f7cd40be117f050",
    git_blob="7a21f590fdd4c5756c5c48f344eb993accd00658",
    licence="MIT (the repository's; silent on the weights)")
CHANNELS = 16
# the searched architecture (genotype DAG_lat): per cell, its ops in order with the state
# each op reads; op 0 makes s1 from its state, ops 2t-3 and 2t-2 are summed into s_t
GENOTYPE = {
    "cell_f1": [("res_conv_3x3", 0), ("conv_5x1_1x5", 0), ("sep_conv_7x7", 1),
                ("den_conv_1x1", 0), ("conv_3x1_1x3", 1), ("SPAattention", 0),
                ("sep_conv_5x5", 1)],
    "cell_f2": [("sep_conv_1x1", 0), ("conv_3x1_1x3", 1), ("sep_conv_7x7", 0),
                ("conv_3x1_1x3", 0), ("sep_conv_7x7", 1), ("sep_conv_3x3", 2),
                ("res_conv_3x3", 0)],
    "cell_f": [("sep_conv_1x1", 0), ("conv_3x1_1x3", 1), ("sep_conv_1x1", 0),
               ("sep_conv_1x1", 2), ("sep_conv_1x1", 1), ("den_conv_1x1", 0),
               ("sep_conv_7x7", 3)],
}
DENSE_RESIDUAL = 0.333333  # the authors' constant, not 1/3


def _conv(c_in: int, c_out: int, kernel: int | tuple[int, int], *, groups: int = 1,
          dilation: int = 1) -> nn.Conv2d:
    """Stride-1 'same' zero-padded convolution without bias."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
    return nn.Conv2d(c_in, c_out, (kh, kw), padding=padding, dilation=dilation, groups=groups,
                     bias=False)


class _Wrapped(nn.Module):
    """A convolution under the attribute ``conv`` (the authors' ``BasicConv`` without
    batch norm or activation)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class SeparableConv(nn.Module):
    """sep_conv_k: depthwise k x k, 1 x 1 conv, BN, ReLU (no residual)."""

    def __init__(self, c: int, kernel: int) -> None:
        super().__init__()
        self.op = nn.Sequential(_conv(c, c, kernel, groups=c), _conv(c, c, 1),
                                nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def factorised_conv(c: int, kernel: int) -> nn.Sequential:
    """conv_kx1_1xk: full 1 x k conv, full k x 1 conv, BN, ReLU."""
    return nn.Sequential(_conv(c, c, (1, kernel)), _conv(c, c, (kernel, 1)),
                         nn.BatchNorm2d(c), nn.ReLU())


class ResidualConv(nn.Module):
    """res_conv_3x3: depthwise 3 x 3, depthwise 3 x 3 dilated 2, 1 x 1, BN, PReLU; plus x."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.op = nn.Sequential(_Wrapped(_conv(c, c, 3, groups=c)),
                                _conv(c, c, 3, groups=c, dilation=2), _conv(c, c, 1),
                                nn.BatchNorm2d(c), nn.PReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.op(x)


class DenseConv(nn.Module):
    """den_conv_1x1: three densely connected 1 x 1 convs sharing one PReLU;
    0.333333 x3 + x."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = _Wrapped(_conv(c, c, 1))
        self.conv2 = _Wrapped(_conv(2 * c, c, 1))
        self.conv3 = _Wrapped(_conv(3 * c, c, 1))
        self.lrelu = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        return x3 * DENSE_RESIDUAL + x


class _SpatialGate(nn.Module):
    """Per-pixel channel max and mean, 3 x 3 conv (2 -> 1), sigmoid: x times that map."""

    def __init__(self) -> None:
        super().__init__()
        self.spatial = _Wrapped(_conv(2, 1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat((x.amax(1, keepdim=True), x.mean(1, keepdim=True)), 1)
        return x * torch.sigmoid(self.spatial(pooled))


class SpatialAttention(nn.Module):
    """SPAattention: a = conv(x); b = conv'(P(a)); P(b * gate(b) + a), one PReLU P."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = _conv(c, c, 3)
        self.conv2 = _Wrapped(_conv(c, c, 3))
        self.se = _SpatialGate()
        self.relu = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv1(x)
        return self.relu(self.se(self.conv2(self.relu(a))) + a)


OPS = {
    "sep_conv_1x1": lambda c: SeparableConv(c, 1),
    "sep_conv_3x3": lambda c: SeparableConv(c, 3),
    "sep_conv_5x5": lambda c: SeparableConv(c, 5),
    "sep_conv_7x7": lambda c: SeparableConv(c, 7),
    "conv_3x1_1x3": lambda c: factorised_conv(c, 3),
    "conv_5x1_1x5": lambda c: factorised_conv(c, 5),
    "res_conv_3x3": ResidualConv,
    "den_conv_1x1": DenseConv,
    "SPAattention": SpatialAttention,
}


class _ReLUConvBN(nn.Module):
    """preprocess0 of a cell: ReLU, 1 x 1 conv, BN."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), _conv(c, c, 1), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Cell(nn.Module):
    """A searched cell: s0 = preprocess0(x); s1 = op0(s_i); s_t = op(s_i) + op'(s_j);
    output [s1, s2, s3, s4] (4C channels)."""

    def __init__(self, c: int, genotype: list[tuple[str, int]]) -> None:
        super().__init__()
        self.preprocess0 = _ReLUConvBN(c)
        self._ops = nn.ModuleList(OPS[name](c) for name, _ in genotype)
        self.inputs = [index for _, index in genotype]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(x)]
        states.append(self._ops[0](states[self.inputs[0]]))
        for first in range(1, len(self._ops), 2):
            states.append(self._ops[first](states[self.inputs[first]])
                          + self._ops[first + 1](states[self.inputs[first + 1]]))
        return torch.cat(states[1:], 1)


class ALMFNet(nn.Module):
    """ALMFnet (genotype DAG_lat, C = 16), keys as in the published ``ALMFNet.pt``.

    One stem (3 x 3 conv, BN) per source, a searched cell per source, concatenation,
    ``fusion1`` (3 x 3 conv to C, BN, ReLU), the fusion cell, ``fusion2`` (3 x 3 conv,
    BN, ReLU, 3 x 3 conv to 1, tanh).
    """

    def __init__(self, c: int = CHANNELS) -> None:
        super().__init__()
        self.stem1 = nn.Sequential(_conv(1, c, 3), nn.BatchNorm2d(c))
        self.stem2 = nn.Sequential(_conv(1, c, 3), nn.BatchNorm2d(c))
        self.fusion1 = nn.Sequential(_conv(8 * c, c, 3), nn.BatchNorm2d(c), nn.ReLU())
        self.fusion2 = nn.Sequential(_conv(4 * c, c, 3), nn.BatchNorm2d(c), nn.ReLU(),
                                     _conv(c, 1, 3), nn.Tanh())
        self.cell_f1 = Cell(c, GENOTYPE["cell_f1"])
        self.cell_f2 = Cell(c, GENOTYPE["cell_f2"])
        self.cell_f = Cell(c, GENOTYPE["cell_f"])

    def forward(self, mri: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        features = torch.cat([self.cell_f1(self.stem1(mri)), self.cell_f2(self.stem2(other))], 1)
        return self.fusion2(self.cell_f(self.fusion1(features)))


class ALMFnetFusion(PublishedNetwork):
    """ALMFnet with the authors' published weights (one model for CT, PET and SPECT).

    As the authors' ``eval.py`` does: each source is read as 8-bit luma (OpenCV BT.601 Y;
    the pipeline's luma is rounded to 1/255), scaled to [0, 1] with no normalisation, and
    the network is called as ``net(mri, other)`` in float32 with batch norm in eval mode.
    The tanh output is saved as OpenCV saves ``fused * 255``: rounded half to even and
    saturated to [0, 255], so the negative background becomes 0 (clipped, not stretched).
    The method returns that 8-bit image / 255.

    Weights: ``ALMFNet.pt`` from RollingPlain/ALMFnet (``cache_train/``), MIT licence
    (Copyright (c) 2022 Guanyao Wu; the licence does not mention the weight file); one
    model the authors trained for MRI-CT, MRI-PET and MRI-SPECT. Fully convolutional:
    any size.

    Parameters
    ----------
    weights : path
        The state dict; default ``ALMFNet.pt`` in ``$MMIF_BENCH_WEIGHTS`` or the fetched
        store (``mmif-bench fetch weights almfnet``).
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    References
    ----------
    P. Mu, G. Wu, J. Liu, Y. Zhang, X. Fan and R. Liu, "Learning to search a lightweight
    generalized network for medical image fusion", IEEE Transactions on Circuits and
    Systems for Video Technology, 2023 (IEEE document 10360160).
    """

    name = "almfnet"
    display_name = "ALMFnet"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"ALMFNet.pt; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{mu2023almfnet,
  author  = {Mu, Pan and Wu, Guanyao and Liu, Jinyuan and Zhang, Yuduo and Fan, Xin and Liu, Risheng},
  title   = {Learning to Search a Lightweight Generalized Network for Medical Image Fusion},
  journal = {IEEE Transactions on Circuits and Systems for Video Technology},
  year    = {2023},
  publisher = {IEEE}
}"""

    def build_network(self) -> nn.Module:
        return ALMFNet()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        mri, other = (torch.from_numpy(luma_uint8(x)[:, None]).to(self.device).float() / 255.0
                      for x in (a, b))
        fused = self.net(mri, other)[:, 0] * 255.0
        return (fused.round().clamp(0.0, 255.0) / 255.0).cpu().numpy()
