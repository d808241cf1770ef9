"""Stage II fusion network of DM-FNet (He et al., TMM 2025): multi-step aggregation,
attention fusion and cross-scale aggregation over the UNet's five decoder scales, then a
tanh head that outputs the fused image in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv_pair(c_in: int, c_out: int) -> nn.Sequential:
    """1x1 conv + ReLU + 3x3 conv + ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))


class MultiStepAggregation(nn.Module):
    """Merge one source's features from ``steps`` noise steps (stacked on channels) into C."""

    def __init__(self, channels: int, steps: int) -> None:
        super().__init__()
        self.body = _conv_pair(channels * steps, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class AttentionFusion(nn.Module):
    """Fuse two feature maps with channel + spatial attention refined to a pixel attention.

    s = x + y; channel attention (GAP, 1x1 down by 8, ReLU, 1x1) plus spatial attention
    (channel mean and max, reflect-padded 7x7 conv), interleaved channel-wise with s, give
    through a grouped 3x3 conv and a sigmoid the pixel attention P; w = s * P and the fused
    feature is w * x + (1 - w) * y + x + y.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channel = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, max(channels // 8, 1), 1),
            nn.ReLU(inplace=True), nn.Conv2d(max(channels // 8, 1), channels, 1))
        self.spatial = nn.Conv2d(2, 1, 7)
        self.pixel = nn.Conv2d(2 * channels, channels, 3, padding=1, groups=channels)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        s = x + y
        pooled = torch.cat([s.mean(1, keepdim=True), s.amax(1, keepdim=True)], 1)
        # Reflect padding needs more than 3 pixels; tiny maps (images < 64 px) replicate.
        mode = "reflect" if min(s.shape[-2:]) > 3 else "replicate"
        spatial = self.spatial(F.pad(pooled, (3, 3, 3, 3), mode=mode))
        coarse = self.channel(s) + spatial
        interleaved = torch.stack([s, coarse], dim=2).flatten(1, 2)
        w = s * torch.sigmoid(self.pixel(interleaved))
        return w * x + (1 - w) * y + x + y


class FusionNet(nn.Module):
    """The Stage II head.

    Parameters
    ----------
    channels
        Channels of the UNet decoder features, coarse to fine (paper: 256, 128 x 4).
    steps
        Number of noise steps whose features are stacked per source (paper: 3).
    """

    def __init__(self, channels: list[int], steps: int) -> None:
        super().__init__()
        self.aggregate = nn.ModuleList(MultiStepAggregation(c, steps) for c in channels)
        self.fuse = nn.ModuleList(AttentionFusion(c) for c in channels)
        out_channels = channels[1:] + channels[-1:]
        self.scale_out = nn.ModuleList(_conv_pair(c, o) for c, o in zip(channels, out_channels))
        # Cross-scale path from two scales above, used from the third scale on.
        self.skip2 = nn.ModuleList(_conv_pair(out_channels[i - 2], channels[i])
                                   for i in range(2, len(channels)))
        last = channels[-1]
        self.head = nn.Sequential(
            nn.Conv2d(last, last // 2, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(last // 2, 1, 3, padding=1), nn.Tanh())

    def forward(self, feats_a: list[torch.Tensor], feats_b: list[torch.Tensor]) -> torch.Tensor:
        """Fused image N x 1 x H x W in [-1, 1] from per-source multi-step features
        (as returned by :func:`~.features.extract_features`)."""
        outs: list[torch.Tensor] = []
        for i, (fa, fb) in enumerate(zip(feats_a, feats_b)):
            h = self.fuse[i](self.aggregate[i](fa), self.aggregate[i](fb))
            if i >= 1:
                h = h + F.interpolate(outs[-1], scale_factor=2.0, mode="bilinear",
                                      align_corners=False)
            if i >= 2:
                h = h + F.interpolate(self.skip2[i - 2](outs[-2]), scale_factor=4.0,
                                      mode="bilinear", align_corners=False)
            outs.append(self.scale_out[i](h))
        return self.head(outs[-1])
