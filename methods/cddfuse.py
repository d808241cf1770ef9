"""CDDFuse (Zhao et al., CVPR 2023) with the authors' medical checkpoint ``CDDFuse_MIF.pth``.

The network follows the authors' ``net.py`` (Zhaozixiang1228/MMIF-CDDFuse @ fd8da1f) at
its class defaults; modules and parameters carry the authors' names, so their state dicts
load as released:

- ``DIDF_Encoder``: a 3 x 3 patch embedding, four Restormer blocks (shared shallow
  features), then the Lite-Transformer base branch and the INN detail branch;
- ``BaseFuseLayer`` / ``DetailFuseLayer``: one more Lite-Transformer block on the sum
  of the two sources' base features, one INN node on the sum of their detail features;
- ``DIDF_Decoder``: four Restormer blocks and a convolutional head ending in a sigmoid.

Attention is Restormer's transposed attention: a softmax over the channel-by-channel
map of L2-normalised queries and keys (per head, 8 x 8), so its cost is linear in the
number of pixels; the convolutions are what costs.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmif_bench.method import Option
from mmif_bench.methods.torchnet import DEVICE_OPTION, PublishedNetwork, first_mismatch, luma_uint8
from mmif_bench.weights import WEIGHTS_ENV, WeightFile, load_torch_file

WEIGHTS = WeightFile(
    "CDDFuse_MIF.pth", repository="Zhaozixiang1228/MMIF-CDDFuse",
    commit="fd8da1f39d8d403b7343e577bd5a30cba38c7b7b", path="models/CDDFuse_MIF.pth",
    git_blob="072e39abce5979c0568ee510713c123c28160f12", licence="none stated")
DIM = 64  # feature channels (class defaults of the authors' net.py)
HEADS = 8
# checkpoint entry -> attribute of CDDFuseMIF, in the order of the released file
GROUPS = {"DIDF_Encoder": "encoder", "DIDF_Decoder": "decoder",
          "BaseFuseLayer": "base_fuse", "DetailFuseLayer": "detail_fuse"}
DATAPARALLEL_PREFIX = "module."


class LayerNorm(nn.Module):
    """Layer norm over the channels of each pixel of an N x C x H x W map: the authors'
    ``WithBias_LayerNorm`` (biased variance, eps 1e-5 inside the square root), whose
    parameters live in ``body``. On a channels-last map the permutes copy nothing."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def channel_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      temperature: torch.Tensor) -> torch.Tensor:
    """Transposed (channel) self-attention of Restormer's MDTA, per head.

    ``q``, ``k``, ``v``: N x C x H x W; ``temperature``: heads x 1 x 1. Each head's
    C/heads x HW queries and keys are L2-normalised over the pixels; the softmax of
    their C/heads x C/heads product, times the temperature, weights the values.

    The norms sum over all H x W pixels. ``F.normalize`` (``linalg.vector_norm``), on
    these strided rows, accumulates sequentially in float32: with thousands of equal
    background values it is off by up to 3e-4 relative, and the output's min-max
    scaling turns that into 1e-3 of the fused image. :func:`unit_norm` sums by
    ``sum``'s cascade summation, which keeps the whole network within 1e-5 of a
    float64 forward pass.
    """
    n, c, h, w = q.shape
    heads = temperature.shape[0]
    # N x HW x heads x C/heads views of channels-last maps (no copies)
    q, k, v = (t.permute(0, 2, 3, 1).reshape(n, h * w, heads, c // heads) for t in (q, k, v))
    q, k = (unit_norm(t, dim=1) for t in (q, k))
    gram = torch.stack([q[:, :, i].transpose(1, 2) @ k[:, :, i] for i in range(heads)], dim=1)
    weights = (gram * temperature).softmax(dim=-1).to(v.dtype)
    out = torch.stack([v[:, :, i] @ weights[:, i].transpose(1, 2) for i in range(heads)], dim=2)
    return out.reshape(n, h, w, c).permute(0, 3, 1, 2)


def unit_norm(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``F.normalize(x, dim=dim)`` (L2, norm clamped at 1e-12) through ``sum``, whose
    reduction over an outer dimension is much faster than ``linalg.vector_norm``'s."""
    return x / x.square().sum(dim=dim, keepdim=True).sqrt().clamp_min(1e-12)


class Pointwise(nn.Conv2d):
    """A 1 x 1 convolution, computed as a matrix product over the channels of each
    pixel (a channels-last map needs no copy)."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = x.permute(0, 2, 3, 1)
        return F.linear(pixels, self.weight[:, :, 0, 0], self.bias).permute(0, 3, 1, 2)


class Attention(nn.Module):
    """Multi-Dconv head transposed attention (MDTA): 1 x 1 then depthwise 3 x 3 qkv."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = Pointwise(dim, dim * 3)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=False)
        self.project_out = Pointwise(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
        return self.project_out(channel_attention(q, k, v, self.temperature))


class GatedFeedForward(nn.Module):
    """Gated depthwise-conv feed-forward network: ``GELU(x1) * x2`` of a 1 x 1 expansion
    to 2 x hidden channels and a 3 x 3 grouped conv with ``groups`` groups."""

    def __init__(self, dim: int, hidden: int, groups: int) -> None:
        super().__init__()
        self.project_in = Pointwise(dim, hidden * 2)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=groups, bias=False)
        self.project_out = Pointwise(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1).mul_(x2))


class TransformerBlock(nn.Module):
    """Restormer block: ``x + MDTA(LN(x))``, then ``x + GDFN(LN(x))`` (expansion 2)."""

    def __init__(self, dim: int = DIM, heads: int = HEADS) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = LayerNorm(dim)
        self.ffn = GatedFeedForward(dim, hidden=dim * 2, groups=dim * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x.add_(self.ffn(self.norm2(x)))


class AttentionBase(nn.Module):
    """The Lite Transformer's attention: qkv by a 1 x 1 then a full 3 x 3 convolution.

    Both are bias-free and the 3 x 3 one zero-pads, so they compose exactly into one
    3 x 3 convolution from ``dim`` channels (a third of the multiply-adds); the forward
    pass applies that composed kernel.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv1 = Pointwise(dim, dim * 3)
        self.qkv2 = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, bias=False)
        self.proj = Pointwise(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = torch.einsum("oikl,im->omkl", self.qkv2.weight, self.qkv1.weight[:, :, 0, 0])
        q, k, v = F.conv2d(x, kernel, padding=1).chunk(3, dim=1)
        return self.proj(channel_attention(q, k, v, self.scale))


class BaseFeatureExtraction(nn.Module):
    """Lite Transformer (LT) block for the low-frequency base features (MLP ratio 1)."""

    def __init__(self, dim: int = DIM, heads: int = HEADS) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim)
        self.attn = AttentionBase(dim, heads)
        self.norm2 = LayerNorm(dim)
        self.mlp = GatedFeedForward(dim, hidden=dim, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x.add_(self.mlp(self.norm2(x)))


class InvertedResidualBlock(nn.Module):
    """MobileNetV2 bottleneck without batch norm: 1 x 1 (x2), ReLU6, reflect-padded
    depthwise 3 x 3, ReLU6, 1 x 1 (no residual connection)."""

    def __init__(self, channels: int = DIM // 2, expansion: int = 2) -> None:
        super().__init__()
        hidden = channels * expansion
        self.bottleneckBlock = nn.Sequential(
            Pointwise(channels, hidden),
            nn.ReLU6(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(hidden, hidden, 3, groups=hidden, bias=False),
            nn.ReLU6(inplace=True),
            Pointwise(hidden, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneckBlock(x)


class DetailNode(nn.Module):
    """One affine-coupling INN node: a 1 x 1 channel mixing (with bias), then
    ``z2 += phi(z1)`` and ``z1 = z1 * exp(rho(z2)) + eta(z2)``."""

    def __init__(self, channels: int = DIM) -> None:
        super().__init__()
        self.theta_phi = InvertedResidualBlock(channels // 2)
        self.theta_rho = InvertedResidualBlock(channels // 2)
        self.theta_eta = InvertedResidualBlock(channels // 2)
        self.shffleconv = Pointwise(channels, channels, bias=True)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z1, z2 = self.shffleconv(torch.cat((z1, z2), dim=1)).chunk(2, dim=1)
        z2 = z2 + self.theta_phi(z1)
        z1 = z1 * torch.exp(self.theta_rho(z2)) + self.theta_eta(z2)
        return z1, z2


class DetailFeatureExtraction(nn.Module):
    """INN branch for the high-frequency detail features: ``nodes`` coupling nodes on
    the two channel halves of the input."""

    def __init__(self, nodes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(*(DetailNode() for _ in range(nodes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z1, z2 = x.chunk(2, dim=1)
        for node in self.net:
            z1, z2 = node(z1, z2)
        return torch.cat((z1, z2), dim=1)


class PatchEmbed(nn.Module):
    """Overlapped patch embedding: a bias-free 3 x 3 convolution, 1 -> ``dim`` channels."""

    def __init__(self, dim: int = DIM) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class Encoder(nn.Module):
    """``Restormer_Encoder``: shared Restormer features split into base and detail."""

    def __init__(self, blocks: int = 4) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.encoder_level1 = nn.Sequential(*(TransformerBlock() for _ in range(blocks)))
        self.baseFeature = BaseFeatureExtraction()
        self.detailFeature = DetailFeatureExtraction(nodes=3)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shallow = self.encoder_level1(self.patch_embed(image))
        return self.baseFeature(shallow), self.detailFeature(shallow)


class Decoder(nn.Module):
    """``Restormer_Decoder`` without the residual image input (the medical path)."""

    def __init__(self, blocks: int = 4) -> None:
        super().__init__()
        self.reduce_channel = Pointwise(DIM * 2, DIM)
        self.encoder_level2 = nn.Sequential(*(TransformerBlock() for _ in range(blocks)))
        self.output = nn.Sequential(
            nn.Conv2d(DIM, DIM // 2, 3, padding=1, bias=False),
            nn.LeakyReLU(0.01),
            nn.Conv2d(DIM // 2, 1, 3, padding=1, bias=False),
        )

    def forward(self, base: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        features = self.encoder_level2(self.reduce_channel(torch.cat((base, detail), dim=1)))
        return torch.sigmoid(self.output(features))


class CDDFuseMIF(nn.Module):
    """The four networks of ``CDDFuse_MIF.pth`` and the authors' medical forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.base_fuse = BaseFeatureExtraction()
        self.detail_fuse = DetailFeatureExtraction(nodes=1)

    def forward(self, mri: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """Sigmoid output (N x 1 x H x W) for MRI and second images (N x 1 x H x W, [0, 1]);
        the encoder sees both sources as one batch."""
        n = len(mri)
        base, detail = self.encoder(torch.cat((mri, other)))
        return self.decoder(self.base_fuse(base[:n] + base[n:]),
                            self.detail_fuse(detail[:n] + detail[n:]))

    def load_checkpoint(self, checkpoint: Any, source: str) -> None:
        """Load the released dict of four DataParallel state dicts (``module.`` prefixes
        optional); a mismatch raises ValueError naming ``source`` and the first key."""
        if not isinstance(checkpoint, Mapping) or set(checkpoint) != set(GROUPS):
            found = sorted(checkpoint) if isinstance(checkpoint, Mapping) else type(checkpoint)
            raise ValueError(f"{source}: not a CDDFuse checkpoint: expected a dict with entries "
                             f"{', '.join(GROUPS)} (the authors' {WEIGHTS.name}), found {found}")
        for group, attribute in GROUPS.items():
            module = getattr(self, attribute)
            state = {key.removeprefix(DATAPARALLEL_PREFIX): value
                     for key, value in checkpoint[group].items()}
            mismatch = first_mismatch(
                {DATAPARALLEL_PREFIX + key: value for key, value in state.items()},
                {DATAPARALLEL_PREFIX + key: value for key, value in module.state_dict().items()})
            if mismatch:
                raise ValueError(f"{source}: {group} does not fit CDDFuse's {attribute}: "
                                 f"{mismatch}")
            module.load_state_dict(state)


def min_max_255(fused: torch.Tensor) -> torch.Tensor:
    """The authors' output scaling, per image: ``(x - min) / (max - min) * 255``
    (float32). A constant map, where their code divides 0 by 0, gives 0."""
    flat = fused.flatten(1)
    low, high = flat.min(dim=1).values, flat.max(dim=1).values
    span = torch.where(high > low, high - low, torch.ones_like(high))
    return ((flat - low[:, None]) / span[:, None] * 255).reshape(fused.shape)


def imageio_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit image as the authors' writer makes it from a float array (skimage 0.19 ->
    imageio v2 ``image_as_uint``): ``(x - min) / (max - min) * 255 + 0.499999999`` in
    float64, truncated; i.e. round half up, except that an exact .5 goes down."""
    x = image.astype(np.float64)
    low, high = x.min(), x.max()
    span = high - low if high > low else 1.0
    return ((x - low) / span * 255.0 + 0.499999999).astype(np.uint8)


@contextlib.contextmanager
def full_fp32(device: torch.device) -> Iterator[None]:
    """On CUDA, disable TF32 in convolutions and matmuls (torch allows it in cuDNN
    convolutions by default), so that GPU results keep float32 accuracy."""
    if device.type != "cuda":
        yield
        return
    matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True,
                                        allow_tf32=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32


class CDDFuseFusion(PublishedNetwork):
    """CDDFuse with the authors' medical weights, computed as their test_MIF.py does.

    The MRI is the authors' "VIS" input and the CT (or the Y channel of PET/SPECT) their
    "IR" input, both gray in [0, 1]. One encoder turns each into base (low-frequency,
    Lite Transformer) and detail (high-frequency, INN) features; the base sums and the
    detail sums are fused by one more LT block and one INN node; the decoder (without
    the residual image input, the medical setting) ends in a sigmoid. That map is
    min-max normalised, times 255, and written to 8 bit as the authors' image writer
    does (:func:`imageio_uint8`); the method returns that image / 255.
    :meth:`fuse_batch_float` returns the float array before the 8-bit conversion.

    One exact rewrite for speed: the Lite Transformer's 1 x 1 and 3 x 3 qkv convolutions
    are composed into one (see :class:`AttentionBase`).

    - Weights: ``CDDFuse_MIF.pth`` from Zhaozixiang1228/MMIF-CDDFuse (``models/``),
      ``mmif-bench fetch weights cddfuse``. The repository states no licence.
    - Trained for: medical image fusion (MRI-CT, MRI-PET, MRI-SPECT); the authors'
      ``CDDFuse_MIF`` model. The repository does not document its training data.
    - Deterministic: yes (no sampling, evaluation mode throughout).

    Parameters
    ----------
    weights : path
        ``CDDFuse_MIF.pth`` as released (a dict of four DataParallel state dicts);
        default: that file in ``$MMIF_BENCH_WEIGHTS`` or the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto`` (CUDA when torch sees a GPU).

    References
    ----------
    Z. Zhao, H. Bai, J. Zhang, Y. Zhang, S. Xu, Z. Lin, R. Timofte and L. Van Gool,
    "CDDFuse: Correlation-driven dual-branch feature decomposition for multi-modality
    image fusion", CVPR 2023, 5906-5916.
    """

    name = "cddfuse"
    display_name = "CDDFuse"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"{WEIGHTS.name}; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@InProceedings{Zhao_2023_CVPR,
    author    = {Zhao, Zixiang and Bai, Haowen and Zhang, Jiangshe and Zhang, Yulun and
                 Xu, Shuang and Lin, Zudi and Timofte, Radu and Van Gool, Luc},
    title     = {CDDFuse: Correlation-Driven Dual-Branch Feature Decomposition for
                 Multi-Modality Image Fusion},
    booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
    month     = {June},
    year      = {2023},
    pages     = {5906-5916}
}"""

    def load_weights(self) -> None:
        path = self.weight_path("weights")
        self.net = CDDFuseMIF()
        self.net.load_checkpoint(load_torch_file(path),
                                 str(path))
        self.net.to(self.device, memory_format=torch.channels_last).eval()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        fused = self.forward_float(a, b)
        return np.stack([imageio_uint8(image) for image in fused]).astype(np.float32) / 255

    def fuse_batch_float(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """N x H x W float32 in [0, 255]: what the authors' script hands to its writer."""
        return self.in_passes(self.forward_float, a, b)

    def forward_float(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """:meth:`fuse_batch_float` of one forward pass."""
        if min(a.shape[1:]) < 2:
            raise ValueError(f"cddfuse needs images of at least 2 x 2 pixels (its reflection "
                             f"padding), got {a.shape[1]} x {a.shape[2]}")
        # the authors read 8-bit images and scale them by 1/255 in float32
        mri, other = (torch.from_numpy(luma_uint8(x)[:, None]).to(self.device).float() / 255.0
                      for x in (a, b))
        with full_fp32(self.device):
            fused = min_max_255(self.net(mri, other))
        return fused[:, 0].cpu().numpy()
