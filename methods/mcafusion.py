"""MCAFusion: the multichannel aggregated network for medical fusion, authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .fusion_blocks import AttentionResidualBlock, DCTChannelAttention, EdgeDenseBlock
from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8, save_as_uint8, studio_luma_uint8

WEIGHTS = WeightFile(
    "MCAFusion-model_25.pth", repository="JasonWong30/MCAFusion",
    commit="68bc388d5503c220ee74d8382539105543838e22", path="models/model_25.pth", size=1066591,
    sha256="3fee3a3ff922a3627e4cdaa8cd68bdc8d4fc76f0b474f853ef8eb90d6f8c9010",
    git_blob="08b8b211b93526f2cea7b826741f7e40e6b4f106",
    licence="none stated: research use, do not redistribute")
CHANNELS = 16
DENSE_LAYERS = 3  # the residual dense block: 16 -> 32 -> 48 -> 64 channels, 1 x 1 back to 16
SCALES = 3  # scale k applies the shared residual dense block k times
FUNCTIONAL = ("PET", "SPECT")  # read as studio-range luma, as the authors' Y_PET/Y_SPECT


class Basic3x3(nn.Module):
    """3 x 3 conv (zero pad 1, bias), batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn1(self.conv1(x)))


class Basic1x1(nn.Module):
    """1 x 1 conv (bias), tanh."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv1(x))


class DenseLayer(nn.Module):
    """3 x 3 conv, batch norm, ReLU; the output concatenated to the input."""

    def __init__(self, c_in: int, growth: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, growth, 3, padding=1)
        self.bn = nn.BatchNorm2d(growth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, F.relu(self.bn(self.conv(x)))), dim=1)


class ResidualDenseBlock(nn.Module):
    """x + conv_1x1(three dense layers of x)."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.residual_dense_layers = nn.Sequential(*(
            DenseLayer(channels * (k + 1), channels) for k in range(DENSE_LAYERS)))
        self.conv_1x1 = nn.Conv2d(channels * (DENSE_LAYERS + 1), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_1x1(self.residual_dense_layers(x)) + x


class BasicLayer(nn.Module):
    """The three attention channels on the same input, concatenated (48 channels):
    spatial (SAM: hour-glass residual block), channel (CAM: DCT attention with a hidden
    width of 1) and gradient (GAM: edge-enhanced dense block)."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.SAM = AttentionResidualBlock(channels, "leakyrelu")
        self.CAM = DCTChannelAttention(channels, reduction=16)
        self.GAM = EdgeDenseBlock(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.SAM(x), self.CAM(x), self.GAM(x)), dim=1)


class MCAFusionNet(nn.Module):
    """MCAFusion (16 features, DCT 7 x 7), keys as in ``model_25.pth`` without its
    ``module.`` prefix.

    c0 = convInput(x) on the 2-channel [functional, MRI] stack; scale k applies the shared
    residual dense block k times, then the shared basic layer; the three scale outputs are
    summed and mapped to one channel by a 1 x 1 conv and tanh.
    """

    def __init__(self) -> None:
        super().__init__()
        self.convInput = Basic3x3(2, CHANNELS)
        self.conv = Basic3x3(3 * CHANNELS, 3 * CHANNELS)  # in the file, never used
        self.Rconv = ResidualDenseBlock()
        self.basicLayer = BasicLayer()
        self.convolutional_out = Basic1x1(3 * CHANNELS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # R(R(c0)) is R applied to scale 1's input: each chain is computed once (the
        # authors recompute it from c0 per scale; the values are the same)
        scale = self.convInput(x)
        outs = []
        for _ in range(SCALES):
            scale = self.Rconv(scale)
            outs.append(self.basicLayer(scale))
        return self.convolutional_out(outs[0] + outs[1] + outs[2])


class DataParallelLayout(nn.Module):
    """A network as ``nn.DataParallel`` saved it: every key under ``module.``."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


class MCAFusion(PublishedNetwork):
    """MCAFusion with the authors' published weights (one model for CT, PET and SPECT).

    As the authors' ``Test.py`` does: both sources are read as 8-bit gray (PIL
    ``convert('L')``) and scaled to [0, 1] (``ToTensor``, no normalisation); the input is
    the 2-channel stack [functional or CT, MRI]; float32, batch norm in eval mode. The
    PET/SPECT image goes in as the authors feed it, a pre-computed **studio-range**
    (16-235) luma: the pipeline's BT.601 luma y becomes round(16 + 219 y) (MATLAB's
    ``rgb2ycbcr``); CT and MRI stay full range. The tanh output is saved as
    ``(out * 255).astype(np.uint8)``: truncated, not clipped, so values at or below -1/255
    wrap around to bright 228..255 (293 pixels of the 72 Harvard test pairs);
    ``wrap_negatives=false`` makes them 0. The method returns the 8-bit image / 255.
    Without a ``modality`` the second image is read as full-range gray (as a CT).

    Fully convolutional; the hour glass halves the size twice (H and W multiples of 4
    avoid its nearest resizes, as in the authors' code).

    Weights: ``models/model_25.pth`` from JasonWong30/MCAFusion (the same file is in
    JasonWong30/MACAN), saved from ``nn.DataParallel`` (keys prefixed ``module.``). The
    repository has no licence: research material, cite the paper, never redistribute.
    One model trained by the authors for MRI-CT, MRI-PET and MRI-SPECT.

    Parameters
    ----------
    weights : path
        The state dict; default ``MCAFusion-model_25.pth`` in ``$MMIF_BENCH_WEIGHTS`` or
        the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.
    wrap_negatives : bool
        Keep the authors' uint8 wrap-around of negative outputs (default true).

    References
    ----------
    J. Huang, X. Li, H. Tan and X. Cheng, "Multimodal medical image fusion based on
    multichannel aggregated network", International Conference on Image and Graphics
    (ICIG 2023), LNCS 14358, 14-25, Springer, 2023, doi:10.1007/978-3-031-46317-4_2.
    """

    name = "mcafusion"
    display_name = "MCAFusion"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"model_25.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
        "wrap_negatives": Option(True, "keep the authors' uint8 wrap-around of outputs "
                                       "<= -1/255 (false: they become 0)", "bool"),
    }
    bibtex: ClassVar[str] = """@inproceedings{huang2023mcafusion,
  author    = {Huang, Jingxue and Li, Xiaosong and Tan, Haishu and Cheng, Xiaoqi},
  title     = {Multimodal Medical Image Fusion Based on Multichannel Aggregated Network},
  booktitle = {Image and Graphics (ICIG 2023)},
  series    = {Lecture Notes in Computer Science},
  volume    = {14358},
  pages     = {14--25},
  publisher = {Springer},
  year      = {2023},
  doi       = {10.1007/978-3-031-46317-4_2}
}"""

    def build_network(self) -> nn.Module:
        return DataParallelLayout(MCAFusionNet())

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        other = studio_luma_uint8(b) if modality in FUNCTIONAL else luma_uint8(b)
        sources = np.stack([other, luma_uint8(a)], axis=1)
        x = torch.from_numpy(sources).to(self.device).float() / 255.0
        fused = self.net(x)[:, 0]
        return save_as_uint8(fused, bool(self.config["wrap_negatives"])) / np.float32(255.0)
