"""MUFusion: the memory-unit fusion network's Harvard model (PyTorch), authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8, min_max_stretch

WEIGHTS = WeightFile(
    "MUFusion-harvard.model", repository="AWCXV/MUFusion",
    commit="223134e6317081bbf57cf51d175e93b386bb7602", path="medical/models/harvard.model",
    size=2227655, sha256="f8537a378d5b980fc190897eb94981fc74ab8afb5d362e7aada86b672455584d",
    git_blob="0b2ad50c12f69c7985a3d9aa822cbc9eb3be9d80",
    licence="MIT (the repository's; silent on the weights)")
PATCH = 128  # the authors' PATCH_SIZE
STEP = PATCH - 4  # their patch step (overlap of 4 pixels)
PRECISIONS = {"float64": torch.float64, "float32": torch.float32}


MIN_SHIFTED_CHANNELS = 32  # below this many input channels torch's own conv is faster


class ShiftedConv2d(nn.Conv2d):
    """A float64 stride-1 unpadded convolution computed as one matrix product per tap.

    The input is flattened to C x (N H W); the tap (di, dj) of every output pixel reads
    the input shifted by di W + dj in that flat layout, so the convolution is a sum of
    k^2 products ``weight[:, :, di, dj] @ shifted view``, none of which copies the
    input. Outputs are computed on the whole input grid and cropped. Mathematically
    the same convolution; in float64 it is about 2x faster on CPU than torch's, which
    has no optimised float64 kernel (it unfolds the input per image). Other dtypes,
    strides and narrow inputs use torch's convolution.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.dtype != torch.float64 or self.stride != (1, 1)
                or self.in_channels < MIN_SHIFTED_CHANNELS):
            return super().forward(x)
        count, channels, height, width = x.shape
        kh, kw = self.kernel_size
        flat = x.transpose(0, 1).reshape(channels, -1)
        span = flat.shape[1] - (kh - 1) * width - (kw - 1)
        out = self.bias[:, None].expand(-1, span).clone()
        for di in range(kh):
            for dj in range(kw):
                shift = di * width + dj
                out.addmm_(self.weight[:, :, di, dj], flat[:, shift:shift + span])
        out = F.pad(out, (0, flat.shape[1] - span)).view(-1, count, height, width)
        return out[:, :, :height - kh + 1, :width - kw + 1].transpose(0, 1)


def _block(c_in: int, c_out: int, *, stride: int = 1, last: bool = False) -> nn.Sequential:
    """Reflection-pad 1, 3 x 3 conv with bias, ReLU (tanh for the last block)."""
    return nn.Sequential(nn.ReflectionPad2d(1), ShiftedConv2d(c_in, c_out, 3, stride=stride),
                         nn.Tanh() if last else nn.ReLU())


class TwoFusionNet(nn.Module):
    """MUFusion's network, keys as in the published ``harvard.model``.

    Encoder G11 = conv1(x), G21 = conv2(G11), G31 = conv3([G11, G21]) (stride 2),
    G41 = conv4(G31), G51 = conv5([G31, G41]), G61 = conv6([G31, G41, G51]); decoder
    D6 = conv66(G61), D5 = conv55([G51, D6]), D4 = conv44([G41, D5]),
    D3 = conv33([G31, D4]), D2 = conv22([G21, up(D3)]) (bicubic x2),
    out = conv11([G11, D2]) (tanh). ``x`` is the 2-channel [functional or CT, MRI] stack.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _block(2, 32)
        self.conv2 = _block(32, 32)
        self.conv3 = _block(64, 64, stride=2)
        self.conv4 = _block(64, 64)
        self.conv5 = _block(128, 64)
        self.conv6 = _block(192, 64)
        self.conv66 = _block(64, 64)
        self.conv55 = _block(128, 64)
        self.conv44 = _block(128, 64)
        self.conv33 = _block(128, 64)
        self.conv22 = _block(96, 32)
        self.conv11 = _block(64, 1, last=True)
        self.up = nn.Upsample(scale_factor=2, mode="bicubic")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g1 = self.conv1(x)
        g2 = self.conv2(g1)
        g3 = self.conv3(torch.cat([g1, g2], 1))
        g4 = self.conv4(g3)
        g5 = self.conv5(torch.cat([g3, g4], 1))
        g6 = self.conv6(torch.cat([g3, g4, g5], 1))
        d5 = self.conv55(torch.cat([g5, self.conv66(g6)], 1))
        d4 = self.conv44(torch.cat([g4, d5], 1))
        d3 = self.conv33(torch.cat([g3, d4], 1))
        d2 = self.conv22(torch.cat([g2, self.up(d3)], 1))
        return self.conv11(torch.cat([g1, d2], 1))


def patch_corners(height: int, width: int) -> list[tuple[int, int]]:
    """Top-left corners of the authors' 128-px patches, in their order: a grid of step
    124, a right column and a bottom row flush with the border, the bottom-right corner."""
    rows, cols = range(0, height - PATCH + 1, STEP), range(0, width - PATCH + 1, STEP)
    return ([(i, j) for i in rows for j in cols] + [(i, width - PATCH) for i in rows]
            + [(height - PATCH, j) for j in cols] + [(height - PATCH, width - PATCH)])


class MUFusionFusion(PublishedNetwork):
    """MUFusion's Harvard model with the authors' published weights.

    As the authors' gray script ``medical/test_image.py`` does: both sources are read as
    8-bit luma (PIL ``convert('L')``; the pipeline's luma is rounded to 1/255) and
    divided by 255 in float64; the input is the 2-channel stack [functional or CT, MRI]
    (their "infrared" first); the image is cut into 128 x 128 patches at step 124 (plus
    a right column, bottom row and corner flush with the border), all patches go
    through the network as one float64 batch, and each pixel is the mean of the patch
    outputs covering it. The result is saved as ``scipy.misc.imsave`` saves a float
    image: min-max stretched to 0..255 per image and rounded (the stretch also moves
    the black level: the raw output's minimum is slightly negative). The method returns
    that 8-bit image / 255. Images must be at least 128 x 128.

    The memory unit of the paper's title is a training device (the previous epoch's
    outputs as extra targets); at inference MUFusion is this network alone.

    Weights: ``harvard.model`` from AWCXV/MUFusion (``medical/models/``), MIT licence
    (Copyright (c) 2023 AWCXV; the licence does not mention the weight file), trained by
    the authors on Harvard medical image patches.

    Parameters
    ----------
    weights : path
        The state dict; default ``MUFusion-harvard.model`` in ``$MMIF_BENCH_WEIGHTS`` or
        the fetched store (``mmif-bench fetch weights mufusion``).
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.
    precision : str
        ``float64`` (default, as the authors run it) or ``float32`` (about 4x faster on
        CPU; on the 72 Harvard test pairs 46 pixels in all differ by 1 grey level). The
        patch outputs are merged and stretched in float64 either way.

    References
    ----------
    C. Cheng, T. Xu and X.-J. Wu, "MUFusion: A general unsupervised image fusion network
    based on memory unit", Information Fusion 92, 80-92, 2023.
    """

    name = "mufusion"
    display_name = "MUFusion"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"harvard.model; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
        "precision": Option("float64", "float64 (the authors') or float32 (about 4x faster on "
                                       "CPU; 46 pixels of the 72 Harvard test images differ "
                                       "by 1 grey level)"),
    }
    bibtex: ClassVar[str] = """@article{cheng2023mufusion,
  author  = {Cheng, Chunyang and Xu, Tianyang and Wu, Xiao-Jun},
  title   = {{MUFusion}: A general unsupervised image fusion network based on memory unit},
  journal = {Information Fusion},
  volume  = {92},
  pages   = {80--92},
  year    = {2023},
  publisher = {Elsevier}
}"""

    def build_network(self) -> nn.Module:
        precision = str(self.config["precision"])
        if precision not in PRECISIONS:
            raise ValueError(f"mufusion: precision must be float64 or float32, got {precision!r}")
        self.dtype = PRECISIONS[precision]
        return TwoFusionNet().to(self.dtype)

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        count, height, width = a.shape
        if height < PATCH or width < PATCH:
            raise ValueError(f"mufusion: images must be at least {PATCH} x {PATCH} (the "
                             f"authors' patch size), got {height} x {width}")
        sources = np.stack([luma_uint8(b), luma_uint8(a)], axis=1) / 255.0
        corners = patch_corners(height, width)
        patches = np.stack([sources[:, :, i:i + PATCH, j:j + PATCH] for i, j in corners], 1)
        patches = torch.from_numpy(patches.reshape(-1, 2, PATCH, PATCH))
        out = self.net(patches.to(self.device, self.dtype)).double()
        out = out.reshape(count, len(corners), PATCH, PATCH).cpu().numpy()
        total = np.zeros((count, height, width))
        covered = np.zeros((height, width))
        for k, (i, j) in enumerate(corners):
            total[:, i:i + PATCH, j:j + PATCH] += out[:, k]
            covered[i:i + PATCH, j:j + PATCH] += 1
        return np.stack([min_max_stretch(f) for f in total / covered]) / np.float32(255.0)
