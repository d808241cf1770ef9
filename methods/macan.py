"""MACAN: the multiple attention channels aggregated network for medical fusion, with its
authors' re-parameterised (deploy-form) weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .fusion_blocks import AttentionResidualBlock, DCTChannelAttention
from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8

WEIGHTS = WeightFile(
    "MACAN-test_checkpoint.pth", repository="JasonWong30/MACAN",
    commit="9dcfc6c46a2e988300f95e1eed7285829faa0d0b",
    path="test_checkpoint/test_checkpoint.pth", size=4036689,
    sha256="d22763d0fe03b8d53418b6b387a68af95c426bfb1cc108e2ae7632392fcba3ba",
    git_blob="25a483d59c47916860c7e246c8fe9a236dc63508",
    licence="none stated: research use, do not redistribute")
CHANNELS = 32
HEADS = 2
WINDOW = (2, 4)  # rows x columns of the first half's windows; the second half's are 4 x 2
FFN_EXPANSION = 4
# BT.601 luma weights applied to the three channels in the order the array holds them
LUMA = (0.299, 0.587, 0.114)


def gated_channels(dim: int) -> nn.Sequential:
    """Channel map: global average pool, 1 x 1 dim -> dim/8, BN, GELU, 1 x 1 back."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, dim // 8, 1),
                         nn.BatchNorm2d(dim // 8), nn.GELU(), nn.Conv2d(dim // 8, dim, 1))


def gated_pixels(dim: int) -> nn.Sequential:
    """Spatial map: 1 x 1 dim -> dim/16, BN, GELU, 1 x 1 to one channel."""
    return nn.Sequential(nn.Conv2d(dim, dim // 16, 1), nn.BatchNorm2d(dim // 16), nn.GELU(),
                         nn.Conv2d(dim // 16, 1, 1))


def depthwise_branch(dim: int) -> nn.Sequential:
    """Depthwise 3 x 3 conv, BN, GELU (the attention blocks' convolution branch)."""
    return nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, groups=dim), nn.BatchNorm2d(dim),
                         nn.GELU())


def as_image(tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """B x HW x C tokens (row-major) to B x C x H x W."""
    return tokens.transpose(-2, -1).contiguous().view(tokens.shape[0], -1, height, width)


class DynamicPosBias(nn.Module):
    """DAT's dynamic position bias: pos3(pos2(pos1(pos_proj(offsets)))), each posN a
    LayerNorm, ReLU and Linear. At width 16 / 4 / 4 = 1 every LayerNorm returns its bias,
    so the bias is one constant per window (it cancels in the softmax); computed as
    published all the same."""

    def __init__(self, width: int = 1) -> None:
        super().__init__()
        self.pos_proj = nn.Linear(2, width)
        self.pos1, self.pos2, self.pos3 = (nn.Sequential(
            nn.LayerNorm(width), nn.ReLU(), nn.Linear(width, width)) for _ in range(3))

    def forward(self, offsets: torch.Tensor) -> torch.Tensor:
        return self.pos3(self.pos2(self.pos1(self.pos_proj(offsets))))


class WindowAttention(nn.Module):
    """One head of 16 channels attending within rows x cols windows (scale 1/4), with the
    dynamic position bias."""

    rpe_biases: torch.Tensor
    relative_position_index: torch.Tensor

    def __init__(self, dim: int, rows: int, cols: int) -> None:
        super().__init__()
        self.rows, self.cols, self.scale = rows, cols, dim ** -0.5
        self.pos = DynamicPosBias()
        dy, dx = torch.meshgrid(torch.arange(1 - rows, rows), torch.arange(1 - cols, cols),
                                indexing="ij")
        self.register_buffer("rpe_biases", torch.stack([dy, dx]).flatten(1).T.float())
        y, x = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
        y, x = y.flatten(), x.flatten()
        index = (y[:, None] - y[None, :] + rows - 1) * (2 * cols - 1) + (x[:, None] - x[None, :]
                                                                         + cols - 1)
        self.register_buffer("relative_position_index", index)

    def windows(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """B x HW x C to (B windows) x 1 x (rows cols) x C."""
        image = as_image(tokens, height, width)
        count, dim = image.shape[:2]
        image = image.view(count, dim, height // self.rows, self.rows, width // self.cols,
                           self.cols)
        return image.permute(0, 2, 4, 3, 5, 1).reshape(-1, 1, self.rows * self.cols, dim)

    def forward(self, qkv: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """3 x B x HW x C -> B x H x W x C."""
        q, k, v = (self.windows(part, height, width) for part in qkv)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        size = self.rows * self.cols
        bias = self.pos(self.rpe_biases)[self.relative_position_index.view(-1)]
        attn = attn + bias.view(size, size, -1).permute(2, 0, 1).unsqueeze(0)
        out = (F.softmax(attn, dim=-1) @ v).transpose(1, 2).reshape(-1, size, q.shape[-1])
        count = out.shape[0] // (height * width // size)
        out = out.view(count, height // self.rows, width // self.cols, self.rows, self.cols, -1)
        return out.permute(0, 1, 3, 2, 4, 5).reshape(count, height, width, -1)


class SpatialAttention(nn.Module):
    """DAT's adaptive spatial self-attention (no shift in this block): half the channels
    in 2 x 4 windows, half in 4 x 2; the attention is gated by a channel map of the
    convolution branch, the convolution branch by a spatial map of the attention."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        rows, cols = WINDOW
        self.attns = nn.ModuleList([WindowAttention(dim // 2, rows, cols),
                                    WindowAttention(dim // 2, cols, rows)])
        self.dwconv = depthwise_branch(dim)
        self.channel_interaction = gated_channels(dim)
        self.spatial_interaction = gated_pixels(dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        count, length, dim = x.shape
        qkv = self.qkv(x).reshape(count, -1, 3, dim).permute(2, 0, 1, 3)
        v = as_image(qkv[2], height, width)
        step = max(WINDOW)  # zero padding on the right and bottom to whole windows
        pad_r, pad_b = (step - width % step) % step, (step - height % step) % step
        qkv = qkv.reshape(3 * count, height, width, dim).permute(0, 3, 1, 2)
        qkv = F.pad(qkv, (0, pad_r, 0, pad_b)).reshape(3, count, dim, -1).transpose(-2, -1)
        size = (height + pad_b, width + pad_r)
        halves = [attn(qkv[..., k * dim // 2:(k + 1) * dim // 2], *size)[:, :height, :width]
                  for k, attn in enumerate(self.attns)]
        attended = torch.cat([h.reshape(count, length, dim // 2) for h in halves], dim=2)
        conv = self.dwconv(v)
        channel_map = self.channel_interaction(conv).permute(0, 2, 3, 1).reshape(count, 1, dim)
        spatial_map = self.spatial_interaction(as_image(attended, height, width))
        conv = (torch.sigmoid(spatial_map) * conv).permute(0, 2, 3, 1).reshape(count, length, dim)
        return self.proj(attended * torch.sigmoid(channel_map) + conv)


class ChannelAttention(nn.Module):
    """DAT's adaptive channel self-attention (XCiT): per head, q and k L2-normalised along
    the pixels, a 16 x 16 channel attention scaled by a learned temperature; the attention
    is gated by a spatial map of the convolution branch, the convolution branch by a
    channel map of the attention."""

    def __init__(self, dim: int = CHANNELS, heads: int = HEADS) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dwconv = depthwise_branch(dim)
        self.channel_interaction = gated_channels(dim)
        self.spatial_interaction = gated_pixels(dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        count, length, dim = x.shape
        qkv = self.qkv(x).reshape(count, length, 3, self.heads, dim // self.heads)
        q, k, v = (part.transpose(-2, -1) for part in qkv.permute(2, 0, 3, 1, 4))
        v_image = v.reshape(count, dim, length).contiguous().view(count, dim, height, width)
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        attended = (attn @ v).permute(0, 3, 1, 2).reshape(count, length, dim)
        conv = self.dwconv(v_image)
        channel_map = self.channel_interaction(as_image(attended, height, width))
        spatial_map = self.spatial_interaction(conv).permute(0, 2, 3, 1).reshape(
            count, length, 1)
        conv = (conv * torch.sigmoid(channel_map)).permute(0, 2, 3, 1).reshape(
            count, length, dim)
        return self.proj(attended * torch.sigmoid(spatial_map) + conv)


class SpatialGate(nn.Module):
    """x1 * dwconv(LayerNorm(x2)) of the two channel halves, x2 read as an image."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=-1)
        gate = self.conv(as_image(self.norm(x2), height, width)).flatten(2).transpose(-1, -2)
        return x1 * gate


class SGFN(nn.Module):
    """Spatial-gate feed-forward network: fc1 (x4), GELU, spatial gate, fc2."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        hidden = FFN_EXPANSION * dim
        self.fc1 = nn.Linear(dim, hidden)
        self.sg = SpatialGate(hidden // 2)
        self.fc2 = nn.Linear(hidden // 2, dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return self.fc2(self.sg(F.gelu(self.fc1(x)), height, width))


class TransformerBlock(nn.Module):
    """x + attn(norm1(x)), then x + ffn(norm2(x)) (drop path is the identity at test time)."""

    def __init__(self, attn: nn.Module, dim: int = CHANNELS) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = attn
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = SGFN(dim)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), height, width)
        return x + self.ffn(self.norm2(x), height, width)


class ResidualGroup(nn.Module):
    """A spatial-attention block, then a channel-attention block. ``conv`` is in the file
    but unused (the authors commented the residual convolution out)."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([TransformerBlock(SpatialAttention(dim)),
                                     TransformerBlock(ChannelAttention(dim))])
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, height, width)
        return x


class Tokens(nn.Module):
    """B x C x H x W to B x HW x C (row-major pixels)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)


class DualAggregationTransformer(nn.Module):
    """The DAT branch: tokens, LayerNorm, one residual group, LayerNorm, back to an image."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.before_RG = nn.Sequential(Tokens(), nn.LayerNorm(dim))
        self.TAM = nn.ModuleList([ResidualGroup(dim)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        tokens = self.TAM[0](self.before_RG(x), height, width)
        return as_image(self.norm(tokens), height, width)


class RepConv(nn.Module):
    """A Diverse Branch Block in deploy form: one 3 x 3 conv with bias, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.dbb_reparam = nn.Conv2d(c_in, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.dbb_reparam(x))


class SCM(nn.Module):
    """Spatial then channel attention: ca(sa(x)), sa the hour-glass residual block (PReLU),
    ca the DCT channel attention (hidden width 2)."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.sa = AttentionResidualBlock(dim, "prelu")
        self.ca = DCTChannelAttention(dim, reduction=16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ca(self.sa(x))


class ResidualSCM(nn.Module):
    """x + SCM(x)."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([SCM(dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks[0](x) + x


class BasicLayer(nn.Module):
    """ReLU(conv([SCM(x), DAT(x)])): the convolutional and the transformer attention
    channels side by side, merged by a 3 x 3 conv 64 -> 32."""

    def __init__(self, dim: int = CHANNELS) -> None:
        super().__init__()
        self.SCM = ResidualSCM(dim)
        self.DAT = DualAggregationTransformer(dim)
        self.conv = RepConv(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat((self.SCM(x), self.DAT(x)), dim=1))


class InputConv(nn.Module):
    """``friconv``: a 3 x 3 conv with bias, no activation."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.friconv = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.friconv(x)


class OutputHead(nn.Module):
    """``output``: 3 x 3 conv to a third of the channels, 1 x 1 conv to one, tanh; then
    (t + 1) / 2."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.output = nn.Sequential(nn.Conv2d(c_in, c_in // 3, 3, padding=1),
                                    nn.Conv2d(c_in // 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.output(x) + 1) / 2


class MACANNet(nn.Module):
    """MACAN in deploy form (32 features, 2 heads, DCT 7 x 7), keys as in the published
    ``test_checkpoint.pth``.

    c = convInput([functional, MRI]) (no activation); three scales: basicLayer1(c),
    basicLayer2(conv2_1(c)), basicLayer3(conv3_2(conv3_1(c))); the head maps their
    concatenation (96 channels) through a 3 x 3 conv to 32 and a 1 x 1 conv to 1, then
    (tanh + 1) / 2.
    """

    def __init__(self) -> None:
        super().__init__()
        self.convInput = InputConv(2, CHANNELS)
        self.conv2_1 = RepConv(CHANNELS, CHANNELS)
        self.conv3_1 = RepConv(CHANNELS, CHANNELS)
        self.conv3_2 = RepConv(CHANNELS, CHANNELS)
        self.basicLayer1 = BasicLayer()
        self.basicLayer2 = BasicLayer()
        self.basicLayer3 = BasicLayer()
        self.convolutional_out = OutputHead(3 * CHANNELS)

    def forward(self, functional: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        c = self.convInput(torch.cat([functional, mri], dim=1))
        scales = (self.basicLayer1(c), self.basicLayer2(self.conv2_1(c)),
                  self.basicLayer3(self.conv3_2(self.conv3_1(c))))
        return self.convolutional_out(torch.cat(scales, dim=1))


def functional_luma(rgb: torch.Tensor, swap_red_blue: bool) -> torch.Tensor:
    """N x 3 x H x W in [0, 1] to the N x 1 x H x W luma of the authors' ``RGB2YCrCb``
    (float32, clamped to [0, 1]); with ``swap_red_blue`` the weights go to the channels in
    OpenCV's B, G, R order, as the authors' script reads the file."""
    first, green, last = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    if swap_red_blue:
        first, last = last, first
    return (LUMA[0] * first + LUMA[1] * green + LUMA[2] * last).clamp(0.0, 1.0)


def stretch_and_truncate(fused: torch.Tensor) -> np.ndarray:
    """The authors' saving: clamp to [0, 1], min-max stretch per image, x 255, truncate."""
    images = fused.clamp(0.0, 1.0).cpu().numpy()
    low = images.min(axis=(1, 2), keepdims=True)
    high = images.max(axis=(1, 2), keepdims=True)
    return (255.0 * ((images - low) / (high - low))).astype(np.uint8)


class MACAN(PublishedNetwork):
    """MACAN with the authors' published deploy-form weights (one model for every pair type).

    As the authors' ``Test2.py`` does: PET/SPECT are read as colour and their luma is
    computed in float32 with the weights 0.299, 0.587, 0.114, clamped to [0, 1]; but the
    script reads the file with OpenCV (B, G, R) and treats the array as R, G, B, so its
    luma is **0.299 B + 0.587 G + 0.114 R**. That swap is kept by default (it is what
    the published model computes, and it changes its output by 1.9-3.0 grey levels on
    average); ``swap_red_blue=false`` gives the true BT.601 luma. The method therefore
    takes the colour image itself (``colour_input``); a gray second image (CT) goes in as
    it is. MRI and CT are 8-bit gray / 255. The call is ``model(functional, MRI)``;
    float32, batch norm in eval mode. The output ((tanh + 1) / 2) is clamped to [0, 1],
    min-max stretched per image, x 255 and truncated, as the script saves it; the method
    returns that 8-bit image / 255.

    The windows need H and W to be multiples of 4 (otherwise zero padding, as in the
    authors' code) and the hour glass halves the size twice.

    Weights: ``test_checkpoint/test_checkpoint.pth`` from JasonWong30/MACAN, every
    Diverse Branch Block already merged into one 3 x 3 conv (``dbb_reparam``). The
    repository has no licence: research material, cite the paper, never redistribute.

    Parameters
    ----------
    weights : path
        The state dict; default ``MACAN-test_checkpoint.pth`` in ``$MMIF_BENCH_WEIGHTS`` or
        the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.
    swap_red_blue : bool
        Compute the functional luma from the channels in the authors' swapped order
        (default true, as published); false: the true BT.601 luma.

    References
    ----------
    J. Huang, T. Tan, X. Li, T. Ye and Y. Wu, "Multiple attention channels aggregated
    network for multimodal medical image fusion", Medical Physics, 2024,
    doi:10.1002/mp.17607.
    """

    name = "macan"
    display_name = "MACAN"
    colour_input = True
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"test_checkpoint.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}",
                          "path"),
        "device": DEVICE_OPTION,
        "swap_red_blue": Option(True, "functional luma 0.299 B + 0.587 G + 0.114 R as the "
                                      "authors' script computes it (false: BT.601)", "bool"),
    }
    bibtex: ClassVar[str] = """@article{huang2024macan,
  author  = {Huang, Jingxue and Tan, Tianshu and Li, Xiaosong and Ye, Tao and Wu, Yanxiong},
  title   = {Multiple attention channels aggregated network for multimodal medical image fusion},
  journal = {Medical Physics},
  year    = {2024},
  doi     = {10.1002/mp.17607}
}"""

    def build_network(self) -> nn.Module:
        return MACANNet()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        mri = torch.from_numpy(luma_uint8(a)[:, None]).to(self.device).float() / 255.0
        if b.ndim == 4:  # N x H x W x 3 colour
            rgb = torch.from_numpy(np.rint(b * 255.0).astype(np.uint8)).to(self.device)
            other = functional_luma(rgb.permute(0, 3, 1, 2).float() / 255.0,
                                    bool(self.config["swap_red_blue"]))
        else:
            other = torch.from_numpy(luma_uint8(b)[:, None]).to(self.device).float() / 255.0
        return stretch_and_truncate(self.net(other, mri)[:, 0]) / np.float32(255.0)
