"""Stage I network of DM-FNet: an SR3-style UNet conditioned on the continuous noise level.

He et al., "DM-FNet", IEEE TMM 2025, Stage I; the architecture follows SR3 (Saharia et al.,
2021): sinusoidal encoding of sqrt(alpha_bar) through an MLP, residual blocks with GroupNorm,
Swish and dropout, self-attention in the bottleneck, ``res_blocks`` blocks per level going
down and ``res_blocks + 1`` going up with skip connections. For Stage II the UNet returns
the output of the first up-block of each decoder resolution, coarse to fine.

Module names follow the state dict of the authors' release (HeDan-11/DM-FNet,
``models/sr3_modules/unet.py``), so their Stage I file loads as published once its
``denoise_fn.`` prefix is removed.
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
        step = torch.arange(half, dtype=torch.float32) / half
        self.register_buffer("freqs", torch.exp(-math.log(1e4) * step), persistent=False)

    def forward(self, gamma: torch.Tensor) -> torch.Tensor:
        angles = gamma.float()[:, None] * self.freqs[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Block(nn.Module):
    """GroupNorm, Swish, optional dropout, 3x3 conv (``block.0`` norm, ``block.3`` conv)."""

    def __init__(self, dim: int, dim_out: int, groups: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.GroupNorm(groups, dim), nn.SiLU(),
            nn.Dropout(dropout) if dropout else nn.Identity(),
            nn.Conv2d(dim, dim_out, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class NoiseShift(nn.Module):
    """The embedded noise level, linearly projected, added to every channel."""

    def __init__(self, emb_dim: int, dim_out: int) -> None:
        super().__init__()
        self.noise_func = nn.Sequential(nn.Linear(emb_dim, dim_out))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return x + self.noise_func(emb)[:, :, None, None]


class ResnetBlock(nn.Module):
    """Residual block; the embedded noise level is added after the first convolution."""

    def __init__(self, dim: int, dim_out: int, emb_dim: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.noise_func = NoiseShift(emb_dim, dim_out)
        self.block1 = Block(dim, dim_out, groups)
        self.block2 = Block(dim_out, dim_out, groups, dropout)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.block2(self.noise_func(self.block1(x), emb)) + self.res_conv(x)


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


class ResnetBlockWithAttn(nn.Module):
    """A residual block (``res_block``), optionally followed by self-attention (``attn``)."""

    def __init__(self, dim: int, dim_out: int, emb_dim: int, groups: int, dropout: float,
                 attn: bool = False) -> None:
        super().__init__()
        self.res_block = ResnetBlock(dim, dim_out, emb_dim, groups, dropout)
        self.attn = SelfAttention(dim_out, groups) if attn else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.attn(self.res_block(x, emb))


class Downsample(nn.Module):
    """3x3 conv with stride 2."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


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
        self.noise_level_mlp = nn.Sequential(
            NoiseLevelEncoding(width), nn.Linear(width, width * 4), nn.SiLU(),
            nn.Linear(width * 4, width))
        self.init_conv = nn.Conv2d(1, width, 3, padding=1)

        def res(dim: int, dim_out: int, attn: bool = False) -> ResnetBlockWithAttn:
            return ResnetBlockWithAttn(dim, dim_out, width, groups, dropout, attn)

        skip_channels, channels = [width], width
        downs: list[nn.Module] = []
        for level, mult in enumerate(config.mults):
            for _ in range(config.res_blocks):
                downs.append(res(channels, width * mult))
                channels = width * mult
                skip_channels.append(channels)
            if level < len(config.mults) - 1:
                downs.append(Downsample(channels))
                skip_channels.append(channels)
        self.downs = nn.ModuleList(downs)
        self.mid = nn.ModuleList([res(channels, channels, attn=True), res(channels, channels)])

        ups: list[nn.Module] = []
        for level, mult in reversed(list(enumerate(config.mults))):
            for _ in range(config.res_blocks + 1):
                ups.append(res(channels + skip_channels.pop(), width * mult))
                channels = width * mult
            if level > 0:
                ups.append(Upsample(channels))
        self.ups = nn.ModuleList(ups)
        self.final_conv = Block(channels, 1, groups)

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
        emb = self.noise_level_mlp(gamma)
        h = self.init_conv(x)
        skips = [h]
        for layer in self.downs:
            h = layer(h, emb) if isinstance(layer, ResnetBlockWithAttn) else layer(h)
            skips.append(h)
        for layer in self.mid:
            h = layer(h, emb)
        collected, first_of_level = [], True
        for layer in self.ups:
            if isinstance(layer, Upsample):
                h, first_of_level = layer(h), True
                continue
            h = layer(torch.cat([h, skips.pop()], dim=1), emb)
            if features and first_of_level:
                collected.append(h)
                if len(collected) == len(self.config.mults):
                    return collected
            first_of_level = False
        return self.final_conv(h)
