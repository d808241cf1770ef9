"""Stage I network of DM-FNet: an SR3-style UNet conditioned on the continuous noise level.

He et al., "DM-FNet", IEEE TMM 2025, Stage I; the architecture follows SR3 (Saharia et al.,
2021): sinusoidal encoding of sqrt(alpha_bar) through an MLP, residual blocks with GroupNorm,
Swish and dropout, self-attention in the bottleneck, ``res_blocks`` blocks per level going
down and ``res_blocks + 1`` going up with skip connections. For Stage II the UNet returns
the output of the first up-block of each decoder resolution, coarse to fine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """UNet sizes. The defaults are the paper's (about 20.7 M parameters)."""

    width: int = 128
    mults: tuple[int, ...] = (1, 1, 1, 1, 2)
    res_blocks: int = 2
    dropout: float = 0.2
    groups: int = 32

    @property
    def feature_channels(self) -> list[int]:
        """Channels of the decoder features returned for Stage II, coarse to fine."""
        return [self.width * m for m in reversed(self.mults)]

    @property
    def multiple(self) -> int:
        """Image sides must be a multiple of this (one halving per level but the last)."""
        return 2 ** (len(self.mults) - 1)


class NoiseLevelEncoding(nn.Module):
    """Sinusoidal encoding of the continuous noise level sqrt(alpha_bar) (SR3)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        half = dim // 2
        self.register_buffer(
            "freqs", torch.exp(-math.log(1e4) * torch.arange(half) / half), persistent=False)

    def forward(self, gamma: torch.Tensor) -> torch.Tensor:
        angles = gamma.float()[:, None] * self.freqs[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def _conv_block(dim: int, dim_out: int, groups: int, dropout: float = 0.0) -> nn.Sequential:
    """GroupNorm, Swish, optional dropout, 3x3 conv."""
    return nn.Sequential(
        nn.GroupNorm(groups, dim), nn.SiLU(),
        nn.Dropout(dropout) if dropout else nn.Identity(),
        nn.Conv2d(dim, dim_out, 3, padding=1))


class ResBlock(nn.Module):
    """Residual block; the embedded noise level is added after the first convolution."""

    def __init__(self, dim: int, dim_out: int, emb_dim: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.block1 = _conv_block(dim, dim_out, groups)
        self.noise = nn.Linear(emb_dim, dim_out)
        self.block2 = _conv_block(dim_out, dim_out, groups, dropout)
        self.skip = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x) + self.noise(emb)[:, :, None, None]
        return self.block2(h) + self.skip(x)


class SelfAttention(nn.Module):
    """Single-head spatial self-attention with a residual connection."""

    def __init__(self, dim: int, groups: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, dim)
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=False)
        self.out = nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, 1, c, h * w).transpose(-1, -2).unbind(1)
        y = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(y.transpose(-1, -2).reshape(n, c, h, w))


class Upsample(nn.Module):
    """Nearest-neighbour x2 then a 3x3 conv."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    """The diffusion UNet; predicts x0 from a noisy image and its noise level.

    Parameters
    ----------
    config
        Sizes (:class:`UNetConfig`).
    """

    def __init__(self, config: UNetConfig = UNetConfig()) -> None:
        super().__init__()
        self.config = config
        width, groups, dropout = config.width, config.groups, config.dropout
        emb = width
        self.noise_mlp = nn.Sequential(
            NoiseLevelEncoding(width), nn.Linear(width, width * 4), nn.SiLU(),
            nn.Linear(width * 4, emb))
        self.head = nn.Conv2d(1, width, 3, padding=1)

        skip_channels, channels = [width], width
        self.downs = nn.ModuleList()
        for level, mult in enumerate(config.mults):
            for _ in range(config.res_blocks):
                self.downs.append(ResBlock(channels, width * mult, emb, groups, dropout))
                channels = width * mult
                skip_channels.append(channels)
            if level < len(config.mults) - 1:
                self.downs.append(nn.Conv2d(channels, channels, 3, stride=2, padding=1))
                skip_channels.append(channels)

        self.mid1 = ResBlock(channels, channels, emb, groups, dropout)
        self.mid_attn = SelfAttention(channels, groups)
        self.mid2 = ResBlock(channels, channels, emb, groups, dropout)

        self.up_levels = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for level, mult in reversed(list(enumerate(config.mults))):
            blocks = nn.ModuleList()
            for _ in range(config.res_blocks + 1):
                blocks.append(ResBlock(channels + skip_channels.pop(), width * mult, emb, groups,
                                       dropout))
                channels = width * mult
            self.up_levels.append(blocks)
            self.upsamples.append(Upsample(channels) if level > 0 else nn.Identity())
        self.tail = _conv_block(channels, 1, groups)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor,
                features: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """Predict x0, or with ``features=True`` return the decoder features.

        Parameters
        ----------
        x
            Noisy images, N x 1 x H x W in [-1, 1]; H and W multiples of
            ``config.multiple``.
        gamma
            Continuous noise levels sqrt(alpha_bar), shape N.
        features
            Return the first up-block output of each decoder resolution (coarse to fine)
            instead of the x0 prediction; the remaining layers are skipped.
        """
        emb = self.noise_mlp(gamma)
        h = self.head(x)
        skips = [h]
        for layer in self.downs:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        collected = []
        for blocks, upsample in zip(self.up_levels, self.upsamples):
            for index, block in enumerate(blocks):
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
                if index == 0 and features:
                    collected.append(h)
                    if len(collected) == len(self.up_levels):
                        return collected
            h = upsample(h)
        return self.tail(h)
