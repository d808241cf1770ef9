"""GIFNet: one task-agnostic fusion model (low-level task interaction), authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8

WEIGHTS = WeightFile(
    "GIFNet-Final.model", repository="AWCXV/GIFNet",
    commit="c8ad04ae3bfefcebfa9abe94d1d5895c8db56a44", path="model/Final.model", size=3408450,
    sha256="bfc1dfef0d5b386b0c04f172daf8f6af52ba395f26dc3dd5757425fd32eb1038",
    git_blob="6f46be326d831b14aea26a53d876197a905c51dc",
    licence="none stated: research use, do not redistribute")
GROWTH = 32  # channels each dense conv of the shared extractor adds
FEATURES = 2 + 3 * GROWTH  # the shared features F = [x, x1, x2, x3]: 98 channels
HEADS = 2
WINDOW = 8
PATCH = 4  # the transformer reflect-pads H and W to multiples of this
DECODER_WIDTHS = (64, 32, 16, 1)  # both decoders: args.n = 64, halved, to one channel
# the authors' float64 RGB -> Y row (their rgb_to_ycbcr matrix, first row)
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.5], [0.5, -0.419, -0.081]])


def relative_positions(window: int = WINDOW) -> torch.Tensor:
    """sign(d) ln(1 + |d|) of the (row, col) offsets between the tokens of a window
    (window^2 x window^2 x 2), the input of the position-bias MLP."""
    rows, cols = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    coords = torch.stack([rows.flatten(), cols.flatten()])
    offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).float()
    return torch.sign(offsets) * torch.log1p(offsets.abs())


def reflect_conv(c_in: int, c_out: int, kernel: int = 3, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups,
                     padding_mode="reflect")


class ConvLayer(nn.Module):
    """Reflection pad 1, 3 x 3 conv, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv2d = nn.Conv2d(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect")))


class SharedFeatureExtractor(nn.Module):
    """Dense CNN on the 2-channel [functional, MRI] stack: F = [x, x1, x2, x3] (98 ch)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_1 = ConvLayer(2, GROWTH)
        self.conv_2 = ConvLayer(2 + GROWTH, GROWTH)
        self.conv_3 = ConvLayer(2 + 2 * GROWTH, GROWTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.conv_1(x)
        x2 = self.conv_2(torch.cat((x, x1), 1))
        return torch.cat((x, x1, x2, self.conv_3(torch.cat((x, x1, x2), 1))), 1)


class RLN(nn.Module):
    """Revised LayerNorm (DehazeFormer): x normalised by its mean and std over the whole
    C x H x W image, times ``weight`` plus ``bias`` per channel; also returns the
    rescale ``meta1(std)`` and rebias ``meta2(mean)`` the block applies to its output."""

    def __init__(self, dim: int = FEATURES, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones((1, dim, 1, 1)))
        self.bias = nn.Parameter(torch.zeros((1, dim, 1, 1)))
        self.meta1 = nn.Conv2d(1, dim, 1)
        self.meta2 = nn.Conv2d(1, dim, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = torch.sqrt((x - mean).pow(2).mean(dim=(1, 2, 3), keepdim=True) + self.eps)
        return (x - mean) / std * self.weight + self.bias, self.meta1(std), self.meta2(mean)


class WindowAttention(nn.Module):
    """The learned relative-position bias of an 8 x 8 window (one 64 x 64 map per head):
    ``meta`` (Linear 2 -> 256, ReLU, Linear 256 -> heads) of the log-spaced offsets."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("relative_positions", relative_positions())
        self.meta = nn.Sequential(nn.Linear(2, 256), nn.ReLU(True), nn.Linear(256, HEADS))

    def bias(self) -> torch.Tensor:
        return self.meta(self.relative_positions).permute(2, 0, 1)


def to_windows(qkv: torch.Tensor, shift: int) -> tuple[torch.Tensor, int, int]:
    """N x 3C x H x W -> (q, k, v) as 3 x (N windows) x heads x 64 x C/heads, after the
    authors' reflect padding to whole windows (shifted windows: ``shift`` reflected
    pixels before, the rest after; no cyclic roll, no mask); also the padded size."""
    height, width = qkv.shape[2:]
    pad_h, pad_w = (-height) % WINDOW, (-width) % WINDOW
    if shift:
        pads = (shift, (WINDOW - shift + pad_w) % WINDOW, shift, (WINDOW - shift + pad_h) % WINDOW)
    else:
        pads = (0, pad_w, 0, pad_h)
    qkv = F.pad(qkv, pads, mode="reflect")
    count, channels, rows, cols = qkv.shape
    dim = channels // 3
    qkv = qkv.view(count, 3, HEADS, dim // HEADS, rows // WINDOW, WINDOW, cols // WINDOW, WINDOW)
    qkv = qkv.permute(1, 0, 4, 6, 2, 5, 7, 3).reshape(3, -1, HEADS, WINDOW**2, dim // HEADS)
    return qkv, rows, cols


def from_windows(x: torch.Tensor, count: int, rows: int, cols: int, shift: int,
                 height: int, width: int) -> torch.Tensor:
    """The attended windows (windows x heads x 64 x C/heads) back to an N x C x H x W
    map, the inverse of :func:`to_windows`, cropped to the unpadded H x W."""
    head_dim = x.shape[-1]
    x = x.view(count, rows // WINDOW, cols // WINDOW, HEADS, WINDOW, WINDOW, head_dim)
    x = x.permute(0, 3, 6, 1, 4, 2, 5).reshape(count, HEADS * head_dim, rows, cols)
    return x[:, :, shift:shift + height, shift:shift + width]


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
           bias: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + bias) v per window and head, q scaled first as the
    authors do."""
    q = q * q.shape[-1] ** -0.5
    return torch.softmax(q @ k.transpose(-2, -1) + bias, dim=-1) @ v


class Attention(nn.Module):
    """Window attention of both branches (``*_mfif``: the multi-focus one), each with its
    V and QK (1 x 1), a depthwise 5 x 5 conv on V (reflect) and an output ``proj``; the
    two share the position bias."""

    def __init__(self, shift: int) -> None:
        super().__init__()
        self.shift = shift
        for suffix in ("", "_mfif"):
            self.add_module(f"conv{suffix}", reflect_conv(FEATURES, FEATURES, 5, FEATURES))
            self.add_module(f"V{suffix}", nn.Conv2d(FEATURES, FEATURES, 1))
            self.add_module(f"proj{suffix}", nn.Conv2d(FEATURES, FEATURES, 1))
            self.add_module(f"QK{suffix}", nn.Conv2d(FEATURES, 2 * FEATURES, 1))
        self.attn = WindowAttention()

    def branch(self, x: torch.Tensor, suffix: str,
               query: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """proj(conv(V) + attention) of one branch on its normalised input, attending with
        ``query`` (windowed) instead of its own query when given; also its own query."""
        v = getattr(self, f"V{suffix}")(x)
        (q, k, v_windows), rows, cols = to_windows(
            torch.cat([getattr(self, f"QK{suffix}")(x), v], dim=1), self.shift)
        attended = attend(q if query is None else query, k, v_windows, self.attn.bias())
        attended = from_windows(attended, len(x), rows, cols, self.shift, *x.shape[2:])
        return getattr(self, f"proj{suffix}")(getattr(self, f"conv{suffix}")(v) + attended), q


class Mlp(nn.Module):
    """1 x 1 conv 98 -> 196, ReLU, 1 x 1 conv 196 -> 98."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(FEATURES, 2 * FEATURES, 1), nn.ReLU(True),
                                 nn.Conv2d(2 * FEATURES, FEATURES, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class TransformerBlock(nn.Module):
    """Per branch: x + attn(RLN(x)) * rescale + rebias, then x + mlp(x) (no second norm)."""

    def __init__(self, shift: int) -> None:
        super().__init__()
        self.norm1, self.norm1_mfif = RLN(), RLN()
        self.attn = Attention(shift)
        self.mlp, self.mlp_mfif = Mlp(), Mlp()

    def branch(self, x: torch.Tensor, suffix: str,
               query: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One branch's block output (attending with ``query`` when given), and its query."""
        normed, rescale, rebias = getattr(self, f"norm1{suffix}")(x)
        attended, own_query = self.attn.branch(normed, suffix, query)
        x = x + attended * rescale + rebias
        return x + getattr(self, f"mlp{suffix}")(x), own_query


class BasicLayer(nn.Module):
    """Two blocks (shift 0, then 4), on the authors' multi-focus path (``trainingTag ==
    2``): in block 0 both branches run and the IVIF branch attends with the **MFIF
    query**; then the MFIF features take ``weights_mfif[0]`` times the IVIF ones; block 1
    runs the MFIF branch only (its IVIF output is discarded by the authors, so it is not
    computed; ``weights`` and ``weights_mfif[1]`` are never used)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[TransformerBlock] = nn.ModuleList(  # type: ignore[assignment]
            [TransformerBlock(0), TransformerBlock(WINDOW // 2)])
        self.weights = nn.ParameterList([nn.Parameter(torch.zeros(1)) for _ in range(2)])
        self.weights_mfif = nn.ParameterList([nn.Parameter(torch.zeros(1)) for _ in range(2)])

    def forward(self, x_ivif: torch.Tensor, x_mfif: torch.Tensor) -> torch.Tensor:
        first, second = self.blocks
        x_mfif, query = first.branch(x_mfif, "_mfif")
        x_ivif = first.branch(x_ivif, "", query)[0]
        return second.branch(x_mfif + self.weights_mfif[0] * x_ivif, "_mfif")[0]


class PatchEmbed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = reflect_conv(FEATURES, FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class PatchUnEmbed(nn.Module):
    """3 x 3 reflect conv (the authors' PixelShuffle(1) after it is the identity)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Sequential(reflect_conv(FEATURES, FEATURES), nn.PixelShuffle(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class TransformerNet(nn.Module):
    """The transformer branch: reflect pad to multiples of 4, embed each branch, the
    two-block layer, unembed, crop."""

    def __init__(self) -> None:
        super().__init__()
        self.patch_embed_ivif = PatchEmbed()
        self.patch_embed_mfif = PatchEmbed()
        self.layer1 = BasicLayer()
        self.patch_unembed = PatchUnEmbed()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        height, width = features.shape[2:]
        x = F.pad(features, (0, (-width) % PATCH, 0, (-height) % PATCH), mode="reflect")
        x = self.layer1(self.patch_embed_ivif(x), self.patch_embed_mfif(x))
        return self.patch_unembed(x)[:, :, :height, :width]


class TransformerSpecificExtractor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.SwinTransformerSpecific = TransformerNet()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.SwinTransformerSpecific(features)


def decoder(c_in: int, last: nn.Module) -> nn.Sequential:
    """Four (reflection pad 1, 3 x 3 conv, activation): ReLU, then ``last``."""
    layers: list[nn.Module] = []
    for k, c_out in enumerate(DECODER_WIDTHS):
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3),
                   last if k == len(DECODER_WIDTHS) - 1 else nn.ReLU(True)]
        c_in = c_out
    return nn.Sequential(*layers)


class ComplementFeatureFusionModule(nn.Module):
    """Per-pixel MLP of [F, G]: 1 x 1 196 -> 98 (no bias), ReLU, 1 x 1 98 -> 128."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(2 * FEATURES, FEATURES, 1, bias=False), nn.ReLU(),
                                 nn.Conv2d(FEATURES, 2 * DECODER_WIDTHS[0], 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class CNNspecificDecoder(nn.Module):
    """The fusion decoder: feature fusion MLP, four convs, tanh / 2 + 0.5."""

    def __init__(self) -> None:
        super().__init__()
        self.fuseComplementFeatures = ComplementFeatureFusionModule()
        self.decoder = decoder(2 * DECODER_WIDTHS[0], nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fuseComplementFeatures(x)) / 2 + 0.5


class ReconstructionDecoder(nn.Module):
    """The training-time reconstruction head (in the file, never used at test time)."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = decoder(FEATURES, nn.Tanh())


class GIFNetNet(nn.Module):
    """GIFNet (``TwoBranchesFusionNet(s=3, n=64, channel=1, stride=1)``), keys as in the
    published ``Final.model``.

    F = getSharedFeatures([functional, MRI]); G = the transformer branch on F as both
    its IVIF and its MFIF input, run on the multi-focus path; fused = cnnDecoder([F, G]).
    """

    def __init__(self) -> None:
        super().__init__()
        self.getSharedFeatures = SharedFeatureExtractor()
        self.decoder_rec = ReconstructionDecoder()
        self.extractor_multask = TransformerSpecificExtractor()
        self.cnnDecoder = CNNspecificDecoder()

    def forward(self, functional: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        features = self.getSharedFeatures(torch.cat((functional, mri), 1))
        return self.cnnDecoder(torch.cat((features, self.extractor_multask(features)), 1))


def authors_luma(rgb: np.ndarray) -> np.ndarray:
    """N x H x W x 3 8-bit RGB to the script's input Y: the float64 BT.601 product,
    clipped to [0, 255] and truncated to uint8."""
    y = np.dot(rgb.astype(np.float64), YCBCR.T)[..., 0]
    return np.clip(y, 0, 255).astype(np.uint8)


class GIFNet(PublishedNetwork):
    """GIFNet with the authors' one task-agnostic model (the same file for CT, PET, SPECT).

    As the authors' ``test.py`` does (its README's medical command): the call is
    (functional, MRI) -- the script's "infrared" and "visible" inputs -- each an 8-bit
    gray image / 255, float32, no normalisation, no resizing. A colour PET/SPECT image
    (``--IR_IS_RGB``) goes in as the script's own Y: float64 ``0.299 R + 0.587 G +
    0.114 B`` clipped and **truncated**, computed here from the RGB itself
    (``colour_input``); a gray second image (CT) is read as it is. Inference takes the
    multi-focus path of the transformer branch (see :class:`Attention`,
    :class:`BasicLayer`). The output tanh / 2 + 0.5 is scaled by 255 and saved as the
    script saves it: a gray result (gray second image) **truncated** to uint8; a colour
    one (RGB second image) rounded half to even, as its YCbCr -> RGB step rounds a pixel
    of zero chroma. The method returns that 8-bit Y / 255 (the pipeline recombines the
    chroma).

    Inputs of any size of at least 5 x 5 (reflect paddings).

    Weights: ``model/Final.model`` from AWCXV/GIFNet. The repository has no licence:
    research material, cite the paper, never redistribute. One model trained by the
    authors on infrared-visible and multi-focus data (no medical training data).

    Parameters
    ----------
    weights : path
        The state dict; default ``GIFNet-Final.model`` in ``$MMIF_BENCH_WEIGHTS`` or the
        fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    References
    ----------
    C. Cheng, T. Xu, Z. Feng, X. Wu, Z. Tang, H. Li, Z. Zhang, S. Atito, M. Awais and
    J. Kittler, "One model for ALL: Low-level task interaction is a key to task-agnostic
    image fusion", Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern
    Recognition (CVPR), 28102-28112, 2025.
    """

    name = "gifnet"
    display_name = "GIFNet"
    colour_input = True
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"Final.model; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@inproceedings{cheng2025gifnet,
  author    = {Cheng, Chunyang and Xu, Tianyang and Feng, Zhenhua and Wu, Xiaojun and
               Tang, Zhangyong and Li, Hui and Zhang, Zeyang and Atito, Sara and
               Awais, Muhammad and Kittler, Josef},
  title     = {One Model for {ALL}: Low-Level Task Interaction Is a Key to Task-Agnostic
               Image Fusion},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern
               Recognition (CVPR)},
  pages     = {28102--28112},
  year      = {2025}
}"""

    def load_weights(self) -> None:
        super().load_weights()
        self.net = self.net.to(memory_format=torch.channels_last)  # oneDNN's fast layout

    def build_network(self) -> nn.Module:
        return GIFNetNet()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        if min(a.shape[-2:]) < 5:
            raise ValueError(f"gifnet: images must be at least 5 x 5 pixels (reflect "
                             f"padding), got {a.shape[-1]}x{a.shape[-2]}")
        colour = b.ndim == 4
        other = authors_luma(np.rint(b * 255.0)) if colour else luma_uint8(b)
        sources = [(torch.from_numpy(image[:, None]).to(self.device).float() / 255.0)
                   .contiguous(memory_format=torch.channels_last)
                   for image in (other, luma_uint8(a))]
        levels = self.net(*sources)[:, 0] * 255.0
        levels = torch.round(levels.clamp(0.0, 255.0)) if colour else torch.trunc(levels)
        return levels.cpu().numpy() / np.float32(255.0)
