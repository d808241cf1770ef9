"""MATR: the multiscale adaptive transformer for medical fusion (PyTorch), authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8, save_as_uint8

WEIGHTS = WeightFile(
    "MATR-model_10.pth", repository="tthinking/MATR",
    commit="b427644d4dab600a805cf2711d8a31232aaa2ca5", path="models/model_10.pth",
    size=87176, sha256="523f6be0ef0330a84c473a7ad2e037a7eb1a98584021c4772dfd317c1c0ddaab",
    git_blob="9b4f7f97ff7250b221da4f752e0b82fd312af24d",
    licence="none stated: research use, do not redistribute")
CHANNELS = 16  # feature channels, also the transformer's token dimension
LATENT = 5  # int(3 * 3 / 2 + 1): the adaptive conv's latent size
DEPTH = 3  # transformer blocks
BRANCHES = 3  # branch k applies the shared conv k times before the transformer


class AdaptiveConv2d(nn.Conv2d):
    """The authors' adaptive 3 x 3 convolution (``layers.Conv2d``), keys as published.

    Per image, p = the 3 x 3 adaptive average pool of x (9 values per channel) and
    e = ce(p) (9 -> 5). A spatial pattern per input channel, s = gd(ReLU(ce_bn(e))),
    and one per output channel, o = gd2(ReLU(ci_bn(ci(ReLU(ci_bn2(e)))))) with ci mixing
    the input channels, modulate the static kernel: K[o, c] = W[o, c] * sigmoid(s[c] +
    o[o]). K is applied as a zero-padded correlation by unfolding x and multiplying, as
    the authors do (a grouped convolution sums in another order, which moves a few
    truncated output pixels by one level); unlike theirs, any image shape works.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(c_in, c_out, 3, padding=1, bias=False)
        self.ce = nn.Linear(9, LATENT, bias=False)
        self.ce_bn = nn.BatchNorm1d(c_in)
        self.ci_bn2 = nn.BatchNorm1d(c_in)
        self.ci = nn.Linear(c_in, c_out, bias=False)
        self.ci_bn = nn.BatchNorm1d(c_out)
        self.gd = nn.Linear(LATENT, 9, bias=False)
        self.gd2 = nn.Linear(LATENT, 9, bias=False)

    def kernels(self, x: torch.Tensor) -> torch.Tensor:
        """N x C_out x C_in x 3 x 3: the kernel adapted to each image of ``x``."""
        count, channels = x.shape[:2]
        latent = self.ce(F.adaptive_avg_pool2d(x, 3).view(count, channels, 9))
        spatial = self.gd(F.relu(self.ce_bn(latent)))
        mixed = self.ci(F.relu(self.ci_bn2(latent)).transpose(1, 2)).transpose(1, 2)
        per_output = self.gd2(F.relu(self.ci_bn(mixed.contiguous())))
        gate = torch.sigmoid(spatial.view(count, 1, channels, 3, 3)
                             + per_output.view(count, -1, 1, 3, 3))
        return gate * self.weight.unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count, channels, height, width = x.shape
        kernels = self.kernels(x).view(count, self.out_channels, channels * 9)
        return torch.matmul(kernels, F.unfold(x, 3, padding=1)).view(count, -1, height, width)


class Basic3x3(nn.Module):
    """Adaptive 3 x 3 conv, batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = AdaptiveConv2d(c_in, c_out)
        self.bn1 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn1(self.conv1(x)))


class Basic1x1(nn.Module):
    """1 x 1 conv without bias, tanh."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv1(x))


class WindowAttention(nn.Module):
    """Window attention with window size 1, as published (8 heads, dim 16).

    A window holds one token, so the softmax over its single key is exactly 1 and the
    output is proj(v): the query, the key, the relative-position bias (kept only so the
    published file loads) and the mask have no effect. Only the value rows of ``qkv``
    are computed.
    """

    def __init__(self, dim: int, heads: int = 8) -> None:
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(1, heads))
        self.register_buffer("relative_position_index", torch.zeros(1, 1, dtype=torch.long))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        dim = tokens.shape[-1]
        value = F.linear(tokens, self.qkv.weight[2 * dim:], self.qkv.bias[2 * dim:])
        return self.proj(value)


class Mlp(nn.Module):
    """fc1 (16 -> 64), exact GELU, fc2 (64 -> 16)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class TransformerBlock(nn.Module):
    """t <- t + attn(LN1(t)); t <- t + MLP(LN2(t)) on 16-value tokens.

    The authors' block takes the N x C x H x W features and reinterprets their memory as
    N x H x W x C with ``view`` (not ``permute``), so a token is 16 consecutive values of
    the feature tensor: 16 horizontally adjacent pixels of one row of one channel (for
    widths that are multiples of 16). Kept as published: this is the trained network.
    """

    def __init__(self, dim: int = CHANNELS, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp_ratio * dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = tokens + self.attn(self.norm1(tokens))
        return tokens + self.mlp(self.norm2(tokens))


class BasicLayer(nn.Module):
    """The three transformer blocks, on the features' memory read as 16-value tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock() for _ in range(DEPTH))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, CHANNELS)  # the authors' view(B, H, W, C) of B x C x H x W
        for block in self.blocks:
            tokens = block(tokens)
        return tokens.view(x.shape)


class MATRNet(nn.Module):
    """MATR (16 channels, 3 blocks, window 1), keys as in the published ``model_10.pth``.

    c0 = convInput(x) on the 2-channel [functional, MRI] stack; branch k applies the
    shared ``conv`` k times, the shared transformer blocks and ``conv`` once more; the
    branches are summed and mapped to one channel by a 1 x 1 conv and tanh.
    """

    def __init__(self) -> None:
        super().__init__()
        self.convInput = Basic3x3(2, CHANNELS)
        self.conv = Basic3x3(CHANNELS, CHANNELS)
        self.convolutional_out = Basic1x1(CHANNELS, 1)
        self.basicLayer = BasicLayer()
        # never used in forward; present in the published file (LayerNorm of 96)
        self.patch_embed = nn.Module()
        self.patch_embed.norm = nn.LayerNorm(96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # branch k's input is conv applied k times to c0; conv(conv(c0)) = conv(branch 1),
        # so each is computed once (the authors recompute the chain per branch)
        inputs = [self.conv(self.convInput(x))]
        for _ in range(BRANCHES - 1):
            inputs.append(self.conv(inputs[-1]))
        # one branch at a time: stacking them as one batch changes float rounding
        outs = [self.conv(self.basicLayer(branch)) for branch in inputs]
        return self.convolutional_out(sum(outs[1:], outs[0]))  # (b1 + b2) + b3, as theirs


class MATRFusion(PublishedNetwork):
    """MATR with the authors' published weights (one model for every pair type).

    As the authors' ``Test.py`` does: each source is read as 8-bit luma (PIL
    ``convert('L')``; the pipeline's luma is rounded to 1/255) and scaled to [0, 1]
    (``ToTensor``, no normalisation); the input is the 2-channel stack [functional or
    CT, MRI]; float32, batch norm in eval mode. The output is saved as their
    ``(out * 255).astype(np.uint8)``: truncated, not rounded, and not clipped, so a value
    at or below -1/255 wraps around to a bright 246..255 (on the 72 Harvard test pairs:
    4 pairs, 99 pixels). That is a bug of the saving step; ``wrap_negatives=false`` makes
    those pixels 0 instead. The method returns the 8-bit image / 255.

    The authors' code runs on square images only (it reshapes to sqrt(L) x sqrt(L)); the
    port computes the same sums for any shape. Their transformer reinterprets the feature
    memory (16 adjacent pixels of a row form a token, see :class:`TransformerBlock`);
    with window size 1 its attention reduces to a linear map of the value.

    Weights: ``model_10.pth`` from tthinking/MATR (``models/``). The repository has no
    licence: research material, cite the paper, never redistribute. Trained by the
    authors on Harvard SPECT-MRI / PET-MRI pairs (and GFP-PC images).

    Parameters
    ----------
    weights : path
        The state dict; default ``MATR-model_10.pth`` in ``$MMIF_BENCH_WEIGHTS`` or the
        fetched store (``mmif-bench fetch weights matr``).
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.
    wrap_negatives : bool
        Keep the authors' uint8 wrap-around of negative outputs (default true).

    References
    ----------
    W. Tang, F. He, Y. Liu and Y. Duan, "MATR: Multimodal medical image fusion via
    multiscale adaptive transformer", IEEE Transactions on Image Processing 31,
    5134-5149, 2022, doi:10.1109/TIP.2022.3193288.
    """

    name = "matr"
    display_name = "MATR"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"model_10.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
        "wrap_negatives": Option(True, "keep the authors' uint8 wrap-around of outputs "
                                       "<= -1/255 (false: they become 0)", "bool"),
    }
    bibtex: ClassVar[str] = """@article{tang2022matr,
  author  = {Tang, Wei and He, Fazhi and Liu, Yu and Duan, Yansong},
  title   = {{MATR}: Multimodal Medical Image Fusion via Multiscale Adaptive Transformer},
  journal = {IEEE Transactions on Image Processing},
  volume  = {31},
  pages   = {5134--5149},
  year    = {2022},
  doi     = {10.1109/TIP.2022.3193288}
}"""

    def build_network(self) -> nn.Module:
        return MATRNet()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        sources = np.stack([luma_uint8(b), luma_uint8(a)], axis=1)
        x = torch.from_numpy(sources).to(self.device).float() / 255.0
        fused = self.net(x)[:, 0]
        return save_as_uint8(fused, bool(self.config["wrap_negatives"])) / np.float32(255.0)
