"""Blocks that several published fusion networks share, with the submodule names of their
authors' state dicts: the hour-glass spatial-attention residual block (MCAFusion's SAM,
MACAN's SA), FcaNet's multi-spectral DCT channel attention (MCAFusion's CAM, MACAN's CA)
and the edge-enhanced dense block (MCAFusion's GAM, GeSeNet's EEM)."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

HOURGLASS_CHANNELS = 64
# FcaNet's "top16" frequencies (u, v) of a 7 x 7 DCT, in its order
TOP16_FREQUENCIES = ((0, 0), (0, 1), (6, 0), (0, 5), (0, 2), (1, 0), (1, 2), (4, 0), (5, 0),
                     (1, 6), (3, 0), (0, 4), (0, 6), (0, 3), (3, 5), (2, 2))
DCT_SIZE = 7


def activation(kind: str, channels: int) -> nn.Module:
    """``prelu`` (one slope per channel), ``leakyrelu`` (slope 0.2) or ``none``."""
    if kind == "prelu":
        return nn.PReLU(channels)
    if kind == "leakyrelu":
        return nn.LeakyReLU(0.2)
    return nn.Identity()


class Activation(nn.Module):
    """The authors' ``ReluLayer``: the activation as its ``func``."""

    def __init__(self, kind: str, channels: int) -> None:
        super().__init__()
        self.func = activation(kind, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.func(x)


class BatchNorm(nn.Module):
    """The authors' ``NormLayer``: batch norm as its ``norm``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class ConvLayer(nn.Module):
    """Optional nearest x2 upsampling (``up``), reflection pad 1, 3 x 3 conv (stride 2 when
    ``down``; bias only without batch norm), batch norm, activation."""

    def __init__(self, c_in: int, c_out: int, scale: str = "none", norm: bool = True,
                 act: str = "none") -> None:
        super().__init__()
        self.up = scale == "up"
        self.conv2d = nn.Conv2d(c_in, c_out, 3, 2 if scale == "down" else 1, bias=not norm)
        self.norm = BatchNorm(c_out) if norm else nn.Identity()
        self.relu = Activation(act, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.relu(self.norm(self.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"))))


class HourGlass(nn.Module):
    """Hour-glass spatial attention of depth 2 (64 middle channels): one sigmoid map for
    all channels, multiplied into the input.

    Level 2: b1_2(t) + b3_2(level 1 of b2_2(t)); level 1 on d: b1_1(d) +
    b3_1(b2_plus_1(b2_1(d))). ``b2_*`` halve the size, ``b3_*`` double it (a nearest resize
    reconciles odd sizes, as the authors' code does).
    """

    def __init__(self, channels: int, act: str) -> None:
        super().__init__()
        mid = HOURGLASS_CHANNELS
        self.b1_2 = ConvLayer(channels, mid, act=act)
        self.b2_2 = ConvLayer(channels, mid, "down", act=act)
        self.b1_1 = ConvLayer(mid, mid, act=act)
        self.b2_1 = ConvLayer(mid, mid, "down", act=act)
        self.b2_plus_1 = ConvLayer(mid, mid, act=act)
        self.b3_1 = ConvLayer(mid, mid, "up", act=act)
        self.b3_2 = ConvLayer(mid, mid, "up", act=act)
        self.out_block = nn.Sequential(ConvLayer(mid, 1, norm=False), nn.Sigmoid())

    @staticmethod
    def _join(up: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        if up.shape[2:] != low.shape[2:]:
            low = F.interpolate(low, up.shape[2:])
        return up + low

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        down = self.b2_2(t)
        level1 = self._join(self.b1_1(down), self.b3_1(self.b2_plus_1(self.b2_1(down))))
        return t * self.out_block(self._join(self.b1_2(t), self.b3_2(level1)))


class AttentionResidualBlock(nn.Module):
    """The authors' ``ResidualBlock`` (pre-activation, batch norm): x + HG(conv2(conv1(act(
    BN(x))))), conv1 with activation, conv2 without."""

    def __init__(self, channels: int, act: str) -> None:
        super().__init__()
        self.preact_func = nn.Sequential(BatchNorm(channels), Activation(act, channels))
        self.conv1 = ConvLayer(channels, channels, act=act)
        self.conv2 = ConvLayer(channels, channels)
        self.att_func = HourGlass(channels, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.att_func(self.conv2(self.conv1(self.preact_func(x))))


def dct_bases(channels: int) -> torch.Tensor:
    """channels x 7 x 7 DCT-II bases of FcaNet's top-16 frequencies, channels // 16
    consecutive channels per frequency."""
    def basis(frequency: int) -> list[float]:
        scale = math.sqrt(2) if frequency else 1.0
        return [math.cos(math.pi * frequency * (pos + 0.5) / DCT_SIZE) / math.sqrt(DCT_SIZE)
                * scale for pos in range(DCT_SIZE)]

    per = channels // len(TOP16_FREQUENCIES)
    bases = [torch.tensor(basis(u), dtype=torch.float64)[:, None]
             * torch.tensor(basis(v), dtype=torch.float64)[None, :]
             for u, v in TOP16_FREQUENCIES for _ in range(per)]
    return torch.stack(bases).float()


class DCTLayer(nn.Module):
    """The fixed DCT bases as the buffer ``weight``; each channel's 7 x 7 map is reduced
    to its coefficient on its basis."""

    weight: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("weight", dct_bases(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x * self.weight, dim=[2, 3])


class DCTChannelAttention(nn.Module):
    """FcaNet's multi-spectral channel attention: the input pooled to 7 x 7, one DCT
    coefficient per channel, sigmoid(fc2(ReLU(fc1(.)))) (no biases) as channel gates."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.dct_layer = DCTLayer(channels)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False),
                                nn.ReLU(), nn.Linear(channels // reduction, channels,
                                                     bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x if x.shape[2:] == (DCT_SIZE, DCT_SIZE) else F.adaptive_avg_pool2d(
            x, DCT_SIZE)
        return x * self.fc(self.dct_layer(pooled))[:, :, None, None]


class Conv(nn.Module):
    """A convolution kept as its ``conv`` (zero padding that keeps the size), followed by a
    leaky ReLU when ``slope`` is given."""

    def __init__(self, c_in: int, c_out: int, kernel: int, slope: float | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out if self.slope is None else F.leaky_relu(out, self.slope)


class DenseBlock(nn.Module):
    """Two 3 x 3 conv + leaky ReLU (0.2) layers, each output concatenated to its input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = Conv(channels, channels, 3, 0.2)
        self.conv2 = Conv(2 * channels, channels, 3, 0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat((x, self.conv1(x)), dim=1)
        return torch.cat((x, self.conv2(x)), dim=1)


class Sobel(nn.Module):
    """|convx(x)| + |convy(x)|: depthwise 3 x 3 convolutions without bias, initialised as
    Sobel kernels by the authors and trained (their learned values are loaded)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convx = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.convy = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(self.convx(x)) + torch.abs(self.convy(x))


class EdgeDenseBlock(nn.Module):
    """The authors' ``RGBD``: leaky ReLU (0.1) of convdown(dense(x)) + convup(sobel(x)),
    both 1 x 1 convolutions to ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.dense = DenseBlock(c_in)
        self.convdown = Conv(3 * c_in, c_out, 1)
        self.sobelconv = Sobel(c_in)
        self.convup = Conv(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.convdown(self.dense(x)) + self.convup(self.sobelconv(x)), 0.1)
