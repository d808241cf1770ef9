"""Stage II fusion network of DM-FNet (He et al., TMM 2025): multi-step aggregation,
attention fusion and cross-scale aggregation over the UNet's five decoder scales, then a
tanh head that outputs the fused image in [-1, 1].

Module names and the forward pass follow the authors' release (HeDan-11/DM-FNet,
``models/fs_modules/fs_head.py``, class ``Fusion_Head``), so their ``MIF.pth`` loads as
published: ``decoder.{2i}`` aggregates the steps of scale i, ``decoder.{2i+1}`` fuses the
two sources and mixes in the coarser scales, ``rgb_decode2``/``rgb_decode1`` are the head.
The channel, spatial and pixel attention come from DEA-Net (Chen et al., IEEE TIP 2024).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

HEAD_WIDTH = 64
"""Output channels of ``rgb_decode2``; fixed at 64 in the authors' code."""


def _conv_pair(c_in: int, c_out: int) -> nn.Sequential:
    """1x1 conv + ReLU + 3x3 conv + ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU())


def _pad(x: torch.Tensor, p: int) -> torch.Tensor:
    """Reflect padding by ``p``; maps of ``p`` pixels or less (only in images under 64 px,
    where reflection is undefined) are replicate-padded instead."""
    return F.pad(x, (p, p, p, p), mode="reflect" if min(x.shape[-2:]) > p else "replicate")


def _up2(x: torch.Tensor) -> torch.Tensor:
    """Bilinear x2 with ``align_corners=True``, as everywhere in the authors' head."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)


class MultiStepAggregation(nn.Module):
    """Merge one source's features from ``steps`` noise steps (stacked on channels) into C.
    Shared by both sources."""

    def __init__(self, channels: int, steps: int) -> None:
        super().__init__()
        self.block = _conv_pair(channels * steps, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class SpatialAttention(nn.Module):
    """Channel mean and max through a reflect-padded 7x7 conv: one map."""

    def __init__(self) -> None:
        super().__init__()
        self.sa = nn.Conv2d(2, 1, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return self.sa(_pad(pooled, 3))


class ChannelAttention(nn.Module):
    """Global average pool, 1x1 conv down by ``reduction``, ReLU, 1x1 conv: one weight per
    channel."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.ca = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(),
                                nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ca(x.mean((2, 3), keepdim=True))


class PixelAttention(nn.Module):
    """x and the coarse attention interleaved channel-wise, a grouped reflect-padded 3x3
    conv and a sigmoid: the pixel attention P."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pa2 = nn.Conv2d(2 * channels, channels, 3, groups=channels)

    def forward(self, x: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        interleaved = torch.stack([x, coarse], dim=2).flatten(1, 2)
        return torch.sigmoid(self.pa2(_pad(interleaved, 1)))


class PixelWeight(nn.Module):
    """w = s * P, with P refined from channel + spatial attention of s."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.sa = SpatialAttention()
        self.ca = ChannelAttention(channels, reduction)
        self.pa = PixelAttention(channels)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return s * self.pa(s, self.sa(s) + self.ca(s))


class FusionBlock(nn.Module):
    """Attention fusion of two sources and cross-scale aggregation at one scale.

    fused = w x + (1 - w) y + x + y with w from s = x + y; from the second scale on the
    previous scale's output (x2) is added, from the third on also the output of two scales
    above, upsampled x2, through 1x1 + 3x3 conv (``block1``) and upsampled x2 again; then
    1x1 + 3x3 conv (``block``) to the next scale's channel count.
    """

    def __init__(self, channels: int, out_channels: int, two_above: int | None) -> None:
        super().__init__()
        self.att = PixelWeight(channels)
        if two_above is not None:
            self.block1 = _conv_pair(two_above, channels)
        self.block = _conv_pair(channels, out_channels)

    def forward(self, x: torch.Tensor, y: torch.Tensor,
                upsampled: list[torch.Tensor]) -> torch.Tensor:
        """``upsampled``: the x2-upsampled outputs of the coarser scales so far."""
        w = self.att(x + y)
        fused = w * x + (1 - w) * y + x + y
        if upsampled:
            fused = fused + upsampled[-1]
        if len(upsampled) >= 2:
            fused = fused + _up2(self.block1(upsampled[-2]))
        return self.block(fused)


class ConvActivation(nn.Module):
    """3x3 conv (``conv``) and an activation."""

    def __init__(self, c_in: int, c_out: int,
                 activation: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.conv(x))


def _leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class FusionNet(nn.Module):
    """The Stage II head (the authors' ``Fusion_Head``).

    Parameters
    ----------
    channels
        Channels of the UNet decoder features, coarse to fine (paper: 256, 128 x 4).
    steps
        Number of noise steps whose features are stacked per source (paper: 3).
    head_width
        Output channels of ``rgb_decode2`` (authors: 64).
    """

    def __init__(self, channels: list[int], steps: int, head_width: int = HEAD_WIDTH) -> None:
        super().__init__()
        self.channels = list(channels)
        out_channels = channels[1:] + channels[-1:]
        layers: list[nn.Module] = []
        for i, (c, o) in enumerate(zip(channels, out_channels)):
            layers.append(MultiStepAggregation(c, steps))
            layers.append(FusionBlock(c, o, out_channels[i - 2] if i >= 2 else None))
        self.decoder = nn.ModuleList(layers)
        self.rgb_decode2 = ConvActivation(channels[-1], head_width, _leaky_relu)
        self.rgb_decode1 = ConvActivation(head_width, 1, torch.tanh)

    def forward(self, feats_a: list[torch.Tensor], feats_b: list[torch.Tensor]) -> torch.Tensor:
        """Fused image N x 1 x H x W in [-1, 1] from per-source multi-step features
        (as returned by :func:`~.features.extract_features`)."""
        upsampled: list[torch.Tensor] = []
        for i, (fa, fb) in enumerate(zip(feats_a, feats_b)):
            aggregate, fuse = self.decoder[2 * i], self.decoder[2 * i + 1]
            out = fuse(aggregate(fa), aggregate(fb), upsampled)
            if i < len(feats_a) - 1:
                upsampled.append(_up2(out))
        return self.rgb_decode1(self.rgb_decode2(out))
