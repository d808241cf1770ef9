"""GeSeNet: the general semantic-guided network with couple mask ensemble for medical
fusion, with its authors' weights, run as their test script runs it (training mode)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .fusion_blocks import Conv, EdgeDenseBlock
from .torchnet import DEVICE_OPTION, PublishedNetwork

WEIGHTS = WeightFile(
    "GeSeNet.pth", repository="lok-18/GeSeNet",
    commit="89f7fe97480ab9a115e8f7853e50853a6d4089db", path="model/GeSeNet.pth", size=991703,
    sha256="3ecbeb6321d190a088a96adac244fcb384506cbfaf31880f08462d2aba518909",
    git_blob="296a3bee57d0a96cf84d6f7887d70667b6ac2b44",
    licence="MIT (the repository's; silent on the weights)")
FEATURES = 32
MASK_LAYERS = 4
# the authors' RGB2YCrCb and YCrCb2RGB (float32; not OpenCV's constants)
LUMA = (0.299, 0.587, 0.114)
CR_SCALE, CB_SCALE = 0.713, 0.564
TO_RGB = ((1.0, 1.0, 1.0), (1.403, -0.714, 0.0), (0.0, -0.344, 1.773))  # rows: Y, Cr, Cb


@dataclass(frozen=True)
class GumbelNoise:
    """The uniform draws U of one branch's two Gumbel softmaxes: the spatial mask's
    (N x 2 x H x W) and the channel mask's (N x 32 x 4 x 2)."""

    spatial: torch.Tensor
    channel: torch.Tensor


def draw_uniform(shape: tuple[int, ...], generator: torch.Generator,
                 channels_last: bool = False) -> torch.Tensor:
    """``torch.rand_like`` of a tensor of ``shape`` as the authors' ``gumbel_softmax`` draws
    it: redrawn whole while any value is exactly 0; a channels-last tensor is filled in its
    memory order (N, H, W, C)."""
    def draw() -> torch.Tensor:
        if channels_last:
            n, c, h, w = shape
            return torch.rand(n, h, w, c, generator=generator).permute(0, 3, 1, 2)
        return torch.rand(shape, generator=generator)

    uniform = draw()
    while bool((uniform == 0).any()):
        uniform = draw()
    return uniform


def gumbel_softmax(logits: torch.Tensor, uniform: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax(logits + g) along ``dim`` with Gumbel noise g = -log(-log U) (tau = 1)."""
    return (logits + -(-uniform.log()).log()).softmax(dim)


class ChannelAttention(nn.Module):
    """RCAN's channel attention: x * sigmoid(conv(ReLU(conv(global average of x))))."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.conv_du = nn.Sequential(nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(),
                                     nn.Conv2d(channels // reduction, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv_du(F.adaptive_avg_pool2d(x, 1))


class MaskedConvolutions(nn.Module):
    """The authors' ``RMC`` in its training-mode form: four 3 x 3 convs (no bias) whose
    channels are split by a Gumbel-softmax channel mask (d, p) and whose "sparse" part is
    weighted by the spatial mask s; ``collect`` merges the four layer outputs.

    Layer 0: f = body0(x); f <- f p0 s + f d0. Layer i: a = body_i(f d_{i-1}), b =
    body_i(f p_{i-1}); f <- a p_i s + a d_i + b p_i s + b d_i s (the last term with s,
    as the authors wrote it). ReLU after each layer.
    """

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        self.ch_mask = nn.Parameter(torch.rand(1, channels, MASK_LAYERS, 2))
        self.body = nn.Sequential(*(nn.Conv2d(channels, channels, 3, padding=1, bias=False)
                                    for _ in range(MASK_LAYERS)))
        self.collect = nn.Conv2d(channels * MASK_LAYERS, channels, 1)

    def forward(self, x: torch.Tensor, spatial: torch.Tensor,
                uniform: torch.Tensor) -> torch.Tensor:
        mask = gumbel_softmax(self.ch_mask, uniform, 3)
        dense, sparse = mask[..., :1], mask[..., 1:]  # N x C x layers x 1 each
        # the authors' sums, left to right, written in place (the same values, fewer
        # full-size temporaries)
        fea = self.body[0](x)
        out = (fea * sparse[:, :, 0:1]).mul_(spatial).add_(fea.mul_(dense[:, :, 0:1]))
        outs = [out.relu_()]
        for i in range(1, MASK_LAYERS):
            d, p = dense[:, :, i:i + 1], sparse[:, :, i:i + 1]
            fea_d = self.body[i](outs[-1] * dense[:, :, i - 1:i])
            fea_s = self.body[i](outs[-1] * sparse[:, :, i - 1:i])
            out = (fea_d * p).mul_(spatial).add_(fea_d.mul_(d))
            out.add_((fea_s * p).mul_(spatial)).add_(fea_s.mul_(d).mul_(spatial))
            outs.append(out.relu_())
        return self.collect(torch.cat(outs, 1))


class RegionMask(nn.Module):
    """The authors' ``rmm``: a spatial mask (conv, ReLU, 2 x 2 average pool, conv, ReLU,
    transposed conv to 2 maps, Gumbel softmax over them; the second map), the masked
    convolutions, channel attention, plus the input."""

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        quarter = channels // 4
        self.spa_mask = nn.Sequential(
            nn.Conv2d(channels, quarter, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(quarter, quarter, 3, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(quarter, 2, 3, 2, 1, output_padding=1))
        self.body = MaskedConvolutions(channels)
        self.ca = ChannelAttention(channels)

    def forward(self, x: torch.Tensor, noise: GumbelNoise) -> torch.Tensor:
        spatial = gumbel_softmax(self.spa_mask(x), noise.spatial, 1)[:, 1:]
        return self.ca(self.body(x, spatial, noise.channel)) + x


class GlobalRefinement(nn.Module):
    """The authors' ``GRM`` (SFT): m = LReLU0.01(SFT2([x, scale(c)])) + shift(c), with
    scale and shift two-layer convs (3 x 3 and 1 x 1, LReLU 0.1) of the condition c."""

    def __init__(self) -> None:
        super().__init__()
        self.SFT_scale_conv0 = nn.Conv2d(FEATURES, FEATURES, 3, padding=1)
        self.SFT_scale_conv1 = nn.Conv2d(FEATURES, 2 * FEATURES, 3, padding=1)
        self.SFT_shift_conv0 = nn.Conv2d(FEATURES, FEATURES, 1)
        self.SFT_shift_conv1 = nn.Conv2d(FEATURES, 2 * FEATURES, 1)
        self.SFT2 = nn.Conv2d(4 * FEATURES, 2 * FEATURES, 3, padding=1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        scale = self.SFT_scale_conv1(F.leaky_relu(self.SFT_scale_conv0(condition), 0.1))
        m = F.leaky_relu(self.SFT2(torch.cat([x, scale], 1)))
        return m + self.SFT_shift_conv1(F.leaky_relu(self.SFT_shift_conv0(condition), 0.1))


class Decoder(nn.Module):
    """3 x 3 conv 32 -> 1, tanh / 2 + 0.5 (the batch norm in the file is never applied)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(FEATURES, 1, 3, padding=1)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x)) / 2 + 0.5


class GeSeNetNet(nn.Module):
    """GeSeNet, keys as in the published ``GeSeNet.pth``: ``vis_*`` is the functional
    (CT/PET/SPECT) branch, ``inf_*`` the MRI branch (no shared weights).

    Per branch: shallow conv (LReLU 0.2), edge-enhancement module, region mask module.
    The refinement of both masks' features is conditioned on the MRI's edge features; the
    decoder reads it with the functional branch's edge features.
    """

    def __init__(self) -> None:
        super().__init__()
        self.vis_conv, self.inf_conv = Conv(1, 16, 3, 0.2), Conv(1, 16, 3, 0.2)
        self.vis_eem, self.inf_eem = EdgeDenseBlock(16, FEATURES), EdgeDenseBlock(16, FEATURES)
        self.vis_rmm, self.inf_rmm = RegionMask(), RegionMask()
        self.sft = GlobalRefinement()
        self.decoder2 = Conv(3 * FEATURES, FEATURES, 3, 0.2)
        self.decoder1 = Decoder()

    def forward(self, functional: torch.Tensor, mri: torch.Tensor,
                noise: tuple[GumbelNoise, GumbelNoise]) -> torch.Tensor:
        vis = self.vis_eem(self.vis_conv(functional))
        inf = self.inf_eem(self.inf_conv(mri))
        masked = torch.cat((self.vis_rmm(vis, noise[0]), self.inf_rmm(inf, noise[1])), dim=1)
        return self.decoder1(self.decoder2(torch.cat((self.sft(masked, inf), vis), dim=1)))


def ycrcb(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The authors' ``RGB2YCrCb`` of N x H x W x 3 in [0, 1] (float32, unclamped)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b
    return y, (r - y) * CR_SCALE + 0.5, (b - y) * CB_SCALE + 0.5


def saved_levels(fused: torch.Tensor, cr: torch.Tensor, cb: torch.Tensor) -> np.ndarray:
    """The 8-bit Y of the authors' saving: fused Y with the functional Cr/Cb back to RGB
    (their ``YCrCb2RGB``), clamped to [0, 1], the range [m, M] over all three channels;
    then floor(255 (Y - m) / (M - m)), as that stretch and truncation apply to Y."""
    out = np.empty(fused.shape, dtype=np.uint8)
    matrix = torch.tensor(TO_RGB, device=fused.device)
    shift = torch.tensor([0.0, -0.5, -0.5], device=fused.device)
    for k in range(len(fused)):
        flat = torch.stack([fused[k], cr[k], cb[k]], dim=-1).reshape(-1, 3)
        rgb = ((flat + shift).mm(matrix)).clamp(0.0, 1.0)
        low, high = rgb.min().cpu().numpy(), rgb.max().cpu().numpy()
        out[k] = np.uint8(255.0 * ((fused[k].cpu().numpy() - low) / (high - low)))
    return out


class GeSeNet(PublishedNetwork):
    """GeSeNet with the authors' published weights (one model for CT, PET and SPECT).

    As the authors' ``test.py`` does: the functional image is read as RGB / 255 (a gray
    CT repeated to three channels, as the loader needs) and its luma is the float32
    0.299 R + 0.587 G + 0.114 B of their ``RGB2YCrCb`` (so the method takes the colour
    image itself, ``colour_input``); the MRI is 8-bit gray / 255; the call is
    ``model(functional, MRI)``.

    **Training mode, as published.** The script never calls ``model.eval()`` (and the
    published model cannot run in eval mode), so each region mask module draws Gumbel
    noise: four uniform tensors per pair, in this order: the functional spatial mask
    (N x 2 x H x W, filled in channels-last order, as the authors' transposed luma makes
    that branch channels-last), the functional channel mask (1 x 32 x 4 x 2), the MRI
    spatial mask, the MRI channel mask. The authors set no seed; this method draws them
    from a CPU generator seeded with ``seed`` before each pair, which reproduces the
    authors' script run with ``torch.manual_seed(seed)`` before each pair's forward (the
    reference outputs use seed 0). Other seeds change about 0.3-0.5 grey levels on
    average (up to 36 on a few pixels).

    The output is saved as the script saves its RGB: the fused Y with the functional
    image's Cr/Cb back to RGB (the script's own constants), clamped, min-max stretched
    over all three channels together and truncated; the method returns that stretch and
    truncation applied to the fused Y, / 255 (for PET/SPECT on Harvard the stretch is the
    identity; for CT it spans the Y's own range). H and W must be even.

    Weights: ``model/GeSeNet.pth`` from lok-18/GeSeNet, MIT licence (Copyright (c) 2023
    JiaweiLi; the licence does not mention the weight file). One model for MRI-CT,
    MRI-PET and MRI-SPECT.

    Parameters
    ----------
    weights : path
        The state dict; default ``GeSeNet.pth`` in ``$MMIF_BENCH_WEIGHTS`` or the fetched
        store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto`` (the noise is drawn on the CPU either way).
    seed : int
        Seed of the Gumbel noise, set before each pair (default 0).

    References
    ----------
    J. Li, J. Liu, S. Zhou, Q. Zhang and N. K. Kasabov, "GeSeNet: A general semantic-guided
    network with couple mask ensemble for medical image fusion", IEEE Transactions on
    Neural Networks and Learning Systems 35(11), 16248-16261, 2024 (online 2023),
    doi:10.1109/TNNLS.2023.3293274.
    """

    name = "gesenet"
    display_name = "GeSeNet"
    colour_input = True
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"GeSeNet.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
        "seed": Option(0, "seed of the Gumbel noise the published (training-mode) model "
                          "draws, set before each pair", "int"),
    }
    bibtex: ClassVar[str] = """@article{li2023gesenet,
  author  = {Li, Jiawei and Liu, Jinyuan and Zhou, Shihua and Zhang, Qiang and Kasabov, Nikola K.},
  title   = {{GeSeNet}: A General Semantic-Guided Network With Couple Mask Ensemble for
             Medical Image Fusion},
  journal = {IEEE Transactions on Neural Networks and Learning Systems},
  volume  = {35},
  number  = {11},
  pages   = {16248--16261},
  year    = {2024},
  doi     = {10.1109/TNNLS.2023.3293274}
}"""

    def build_network(self) -> nn.Module:
        return GeSeNetNet()

    def noise(self, count: int, height: int, width: int) -> tuple[GumbelNoise, GumbelNoise]:
        """Per branch, the uniform draws of ``count`` pairs, each pair's from the seed."""
        draws = []
        for _ in range(count):
            generator = torch.Generator().manual_seed(int(self.config["seed"]))
            draws.append([draw_uniform((1, 2, height, width), generator, channels_last=True),
                          draw_uniform((1, FEATURES, MASK_LAYERS, 2), generator),
                          draw_uniform((1, 2, height, width), generator),
                          draw_uniform((1, FEATURES, MASK_LAYERS, 2), generator)])
        stacked = [torch.cat(column).to(self.device) for column in zip(*draws, strict=True)]
        return GumbelNoise(*stacked[:2]), GumbelNoise(*stacked[2:])

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        count, height, width = a.shape
        if height % 2 or width % 2:
            raise ValueError(f"gesenet: H and W must be even (its spatial mask pools 2 x 2), "
                             f"got {height} x {width}")
        rgb = np.rint((b if b.ndim == 4 else b[..., None].repeat(3, -1)) * 255.0)
        y, cr, cb = ycrcb(torch.from_numpy(rgb.astype(np.float32) / np.float32(255.0))
                          .to(self.device))
        mri = torch.from_numpy(np.rint(a * 255.0).astype(np.float32) / np.float32(255.0))
        fused = self.net(y[:, None], mri[:, None].to(self.device),
                         self.noise(count, height, width))[:, 0]
        return saved_levels(fused, cr, cb) / np.float32(255.0)
