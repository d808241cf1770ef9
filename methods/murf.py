"""MURF: mutually reinforcing registration and fusion, its fine registration and fusion
stage (F2M) with the authors' TF1 CT-MRI weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .tf_layers import LRELU_SLOPE, load_tf_variables, same_conv, to_batch
from .torchnet import DEVICE_OPTION, PublishedNetwork, min_max_stretch

_PUBLISHED = {"repository": "hanna-xu/MURF",
              "commit": "79b270af4ec8a77a7ed880ec6890a5cf9fe3f268", "licence": "none stated"}
_FOLDER = "CT-MRI/fine_registration_and_fusion/models"
WEIGHTS = WeightFile(  # the TF1 checkpoint, named by its .index
    "MURF-CT-MRI/0000.ckpt.index", path=f"{_FOLDER}/0000.ckpt.index", size=2892,
    sha256="79499958913fa0d2feb755daf560effc5ca6944df918c73dcec619cdccc83b88",
    git_blob="b8763040abd43b00c5f40d7bb5272f618de1d412", **_PUBLISHED, companions=(
        WeightFile("MURF-CT-MRI/0000.ckpt.data-00000-of-00001",
                   path=f"{_FOLDER}/0000.ckpt.data-00000-of-00001", size=1054436,
                   sha256="379dddd9a26d672f03b27b0f5f8be5ec26bc61f5352f650d8695be60daef6adb",
                   git_blob="4c855afa11985182b41ea917efb1db68ed6d9ba4", **_PUBLISHED),))
SCOPE = "f2m_net"
WIDTH = 32  # channels of the offset net
BN_EPS = 1e-3  # tf.contrib.layers.batch_norm's default
# the offset net's down path (conv, its batch norm, lrelu after it?, residual block) and
# up path (conv, input channels, batch norm); conv10 maps 32 -> 16 channels
DOWN = (("conv1", "BatchNorm", True, "res1"), ("conv2", "BatchNorm_1", True, "res2"),
        ("conv3", "BatchNorm_2", False, "res3"))
UP = (("conv6", "BatchNorm_4"), ("conv7", "BatchNorm_5"), ("conv8", "BatchNorm_6"))
HEAD_WIDTH = 16
SOFTNESS = 0.05  # the sampler's softmax temperature on the bilinear weights
LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
MULTIPLE = 8  # three 2x poolings and 2x nearest upsamplings must meet again


class ReflectConv(nn.Module):
    """``conv(...)`` of the authors: reflect pad k // 2, then ``tf.layers.conv2d``
    (VALID) in scope ``conv2d``."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.conv2d = nn.Conv2d(c_in, c_out, kernel, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.conv2d.kernel_size[0] // 2
        return self.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"))


class ResidualBlock(nn.Module):
    """x + conv5x5(relu(conv5x5(x))), both reflect padded (scopes res_conv1/2 / conv)."""

    def __init__(self) -> None:
        super().__init__()
        self.res_conv1 = nn.ModuleDict({"conv": ReflectConv(WIDTH, WIDTH, 5)})
        self.res_conv2 = nn.ModuleDict({"conv": ReflectConv(WIDTH, WIDTH, 5)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_conv2["conv"](self.res_conv1["conv"](x).relu_()).add_(x)


class BatchNorm(nn.Module):
    """``tf.contrib.layers.batch_norm`` with a shift (``beta``) and no scale, epsilon 1e-3.
    The authors' CT test script leaves it in training mode: each image is normalised by
    its own per-channel mean and (biased) variance, the stored moving averages unused."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer("moving_mean", torch.zeros(channels))
        self.register_buffer("moving_variance", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # batch statistics of one image at a time (torch's batch norm: fast channels-last)
        images = [F.batch_norm(image, None, None, bias=self.beta, training=True, eps=BN_EPS)
                  for image in x.split(1)]
        return images[0] if len(images) == 1 else torch.cat(images)


def max_pool_same(x: torch.Tensor) -> torch.Tensor:
    """``tf.nn.max_pool`` 4 x 4, stride 2, 'SAME' on an even-sized map: one -inf row and
    column of padding on each side."""
    if x.shape[2] % 2 or x.shape[3] % 2:
        raise ValueError(f"max_pool_same: even sizes only (TF pads odd ones unevenly), got "
                         f"{tuple(x.shape[2:])}")
    return F.max_pool2d(x, 4, 2, padding=1)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """TF1 ``resize_images(..., method=NEAREST)`` to twice the size: pixel replication."""
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class OffsetNet(nn.Module):
    """``convoffset2D`` / ``offset_conv`` of the CT-MRI model: a U-shaped net on [source,
    MRI] that predicts the deformation (x then y, in normalised grid units)."""

    def __init__(self) -> None:
        super().__init__()
        layers: dict[str, nn.Module] = {"conv1": ReflectConv(2, WIDTH)}
        layers |= {name: ReflectConv(WIDTH, WIDTH) for name in ("conv2", "conv3", "conv5")}
        layers |= {name: ReflectConv(2 * WIDTH, WIDTH) for name, _ in UP}
        layers["conv10"] = ReflectConv(WIDTH, HEAD_WIDTH)
        layers |= {name: ReflectConv(HEAD_WIDTH, 1, bias=False) for name in ("conv12", "conv13")}
        layers |= {name: ResidualBlock() for *_, name in DOWN}
        layers |= {f"BatchNorm{f'_{k}' if k else ''}": BatchNorm(WIDTH) for k in range(7)}
        layers["BatchNorm_7"] = BatchNorm(HEAD_WIDTH)
        self.offset_conv = nn.ModuleDict(layers)

    def forward(self, source: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        net = self.offset_conv
        x = torch.cat([source, mri], dim=1)
        skips = []
        for conv, norm, activate, residual in DOWN:
            x = net[norm](net[conv](x))
            x = net[residual](F.leaky_relu_(x, LRELU_SLOPE) if activate else x)
            skips.append(x)
            x = max_pool_same(x)
        x = net["BatchNorm_3"](net["conv5"](x))
        for (conv, norm), skip in zip(UP, reversed(skips), strict=True):
            x = net[norm](net[conv](torch.cat([upsample(x), skip], dim=1)))
        x = F.pad(net["BatchNorm_7"](net["conv10"](x)), (1, 1, 1, 1), mode="reflect")
        heads = [layer.conv2d.weight for layer in (net["conv12"], net["conv13"])
                 if isinstance(layer, ReflectConv)]
        return F.conv2d(x, torch.cat(heads))  # the x and y heads (no bias) in one pass


def identity_grid(size: int, device: torch.device) -> torch.Tensor:
    """``tf.linspace(-1, 1, size)`` in float32: -1 + k * (2 / (size - 1)), the last 1."""
    step = torch.tensor(2.0, dtype=torch.float32) / (size - 1)
    grid = -1.0 + torch.arange(size, dtype=torch.float32) * step
    grid[-1] = 1.0
    return grid.to(device)


def soft_sample(image: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """The authors' ``grid_sample`` of N x 1 x H x W ``image`` at identity + ``offset``
    (N x 2 x H x W, x then y, normalised): the four bilinear weights, computed from the
    neighbours' indices clipped to the image, replaced by softmax(weights / 0.05); a
    sample whose x or y lies outside the image is 0."""
    height, width = image.shape[2:]
    x = ((identity_grid(width, image.device) + offset[:, 0] + 1) / 2) * (width - 1)
    y = ((identity_grid(height, image.device)[:, None] + offset[:, 1] + 1) / 2) * (height - 1)
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    x0, y0 = torch.floor(x), torch.floor(y)
    x0, x1 = x0.clamp(0, width - 1), (x0 + 1).clamp(0, width - 1)
    y0, y1 = y0.clamp(0, height - 1), (y0 + 1).clamp(0, height - 1)
    weights = torch.stack([(x1 - x) * (y1 - y), (x1 - x) * (y - y0),
                           (x - x0) * (y1 - y), (x - x0) * (y - y0)])
    weights = torch.softmax(weights / SOFTNESS, dim=0)
    flat = image.flatten(1)
    corners = [(x0, y0), (x0, y1), (x1, y0), (x1, y1)]
    values = [flat.gather(1, (row * width + col).long().flatten(1)).view_as(x)
              for col, row in corners]
    out = ((weights[0] * values[0] + weights[1] * values[1]) + weights[2] * values[2]
           + weights[3] * values[3])
    return (out * inside)[:, None]


class Dense(nn.Module):
    """``tf.layers.dense``: x @ kernel + bias (kernel in TF's in x out layout)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(c_in, c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.kernel + self.bias


class MURFNet(nn.Module):
    """F2M of MURF's CT-MRI model, named as the authors' variables in scope ``f2m_net``.

    The source is warped by the deformation the offset net predicts (:func:`soft_sample`);
    the warped source and the MRI, each tiled to 3 channels, go through the shared
    encoder w1 (1 x 1) -> w2 -> w3 (3 x 3, zero 'SAME' padding, lrelu 0.2 after each);
    a channel attention computed from both branches scales both by the same factor; their
    sum is decoded by wf1, wf2 (lrelu) and wf3, then tanh / 2 + 0.5.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1_offset = OffsetNet()
        self.w1, self.w2, self.w3 = same_conv(3, 8, 1), same_conv(8, 16, 3), same_conv(16, 32, 3)
        self.dense, self.dense_1 = Dense(WIDTH, WIDTH // 8), Dense(WIDTH // 8, WIDTH)
        self.dense_2, self.dense_3 = Dense(WIDTH, WIDTH // 8), Dense(WIDTH // 8, WIDTH)
        self.wf1, self.wf2 = same_conv(WIDTH, WIDTH, 3), same_conv(WIDTH, HEAD_WIDTH, 3)
        self.wf3 = same_conv(HEAD_WIDTH, 1, 3)

    @staticmethod
    def tf_names() -> dict[str, str]:
        """State-dict key -> variable name in the authors' checkpoint."""
        names = {key: f"{SCOPE}/{key.replace('.', '/')}".replace("/weight", "/kernel")
                 for key in MURFNet().state_dict()}
        for k in (1, 2, 3):
            names[f"w{k}.weight"], names[f"w{k}.bias"] = f"{SCOPE}/w{k}", f"{SCOPE}/b{k}"
            names[f"wf{k}.weight"], names[f"wf{k}.bias"] = f"{SCOPE}/wf{k}", f"{SCOPE}/bf{k}"
        return names

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        for conv in (self.w1, self.w2, self.w3):
            x = F.leaky_relu_(conv(x), LRELU_SLOPE)
        return x

    def attention(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """sigmoid(dense_1(dense(mean sum)) + dense_3(dense_2(max sum))) of the per-channel
        spatial mean and max of |Laplacian| of each branch, summed over the branches."""
        kernel = torch.tensor(LAPLACIAN, device=a.device).expand(WIDTH, 1, 3, 3)
        edges = [F.conv2d(x, kernel, padding=1, groups=WIDTH).abs() for x in (a, b)]
        mean = edges[0].mean(dim=(2, 3)) + edges[1].mean(dim=(2, 3))
        peak = edges[0].amax(dim=(2, 3)) + edges[1].amax(dim=(2, 3))
        scale = torch.sigmoid(self.dense_1(self.dense(mean)) + self.dense_3(self.dense_2(peak)))
        return scale[:, :, None, None]

    def forward(self, source: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        """N x 1 x H x W source (already coarsely registered) and MRI in [0, 1] -> fused
        N x 1 x H x W in (0, 1), aligned to the warped source."""
        warped = soft_sample(source, self.conv1_offset(source, mri))
        tiled = torch.cat([warped, mri]).expand(-1, 3, -1, -1)  # both branches in one pass
        a, b = self.encode(tiled.contiguous(memory_format=torch.channels_last)).chunk(2)
        scale = self.attention(a, b)
        x = F.leaky_relu_(self.wf1(a.mul_(scale).add_(b.mul_(scale))), LRELU_SLOPE)
        return torch.tanh(self.wf3(F.leaky_relu_(self.wf2(x), LRELU_SLOPE))) / 2 + 0.5


class MURF(PublishedNetwork):
    """MURF's fine registration and fusion stage (F2M) with the authors' CT-MRI model.

    As the authors' ``test.py`` (``CT-MRI/fine_registration_and_fusion``) runs it on a
    pair whose CT is already coarsely registered (on the aligned Harvard pairs, the CT
    itself): the CT read as float gray and byte-scaled by ``scipy.misc.imresize`` -- a
    min-max stretch to 0..255, round half up (the identity for a CT that spans 0..255, as
    every Harvard CT does) --, the MRI as 8-bit gray, both / 255; the call is (CT, MRI).
    The network first **deforms** the CT (a predicted offset field, a softmax-sharpened
    bilinear sampler that zeroes samples outside the image) and fuses the warped CT with
    the MRI, so the fused image is aligned to the warped CT; on the Harvard pairs the
    deformation is below 0.1 pixel. Its batch norm normalises each image by its own
    statistics, as the script (which leaves the layers in training mode) does. The
    output is saved min-max stretched to 0..255 (round half up); the method returns that
    8-bit image / 255.

    Only the CT-MRI model applies (``modalities = ("CT",)``): the authors' PET-MRI model
    takes the RGB PET and returns an RGB image, with no luma plane, and there is no
    SPECT model; MRI-PET and MRI-SPECT pairs are not applicable.

    The authors' script resizes every source to 256 x 256 (and the output back); the
    method runs at the input's own size, which must be a multiple of 8 in H and W (the
    offset net pools three times and upsamples back), so it equals the script on
    256 x 256 images such as Harvard's and is refused on other sizes.

    Parameters
    ----------
    weights : path
        The CT-MRI checkpoint's ``0000.ckpt.index`` (its ``.data`` shard beside it);
        default ``MURF-CT-MRI/0000.ckpt.index`` in ``$MMIF_BENCH_WEIGHTS`` or the fetched
        store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    Notes
    -----
    Weights: hanna-xu/MURF (``CT-MRI/fine_registration_and_fusion/models/``), no licence
    stated; research use, cite the paper, not redistributed here. Trained by the authors
    on CT-MRI pairs (F2M stage).

    References
    ----------
    H. Xu, J. Yuan and J. Ma, "MURF: Mutually reinforcing multi-modal image registration
    and fusion", IEEE Transactions on Pattern Analysis and Machine Intelligence 45(10),
    12148-12166, 2023.
    """

    name = "murf"
    display_name = "MURF"
    modalities = ("CT",)
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"MURF CT-MRI checkpoint .index; default ${WEIGHTS_ENV}/"
                          f"{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{xu2023murf,
  title   = {{MURF}: Mutually Reinforcing Multi-Modal Image Registration and Fusion},
  author  = {Xu, Han and Yuan, Jiteng and Ma, Jiayi},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume  = {45},
  number  = {10},
  pages   = {12148--12166},
  year    = {2023},
  doi     = {10.1109/TPAMI.2023.3283682}
}"""

    def load_weights(self) -> None:
        net = load_tf_variables(MURFNet(), self.weight_path("weights"), MURFNet.tf_names(),
                                self.name)
        self.net = net.to(self.device, memory_format=torch.channels_last)

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        if not self.applies_to(modality):
            raise ValueError(f"murf: only its CT-MRI model is ported (the authors' PET-MRI "
                             f"model returns RGB); MRI-{modality} pairs are not applicable")
        if any(side % MULTIPLE for side in a.shape[-2:]):
            raise ValueError(f"murf: H and W must be multiples of {MULTIPLE} (the authors' "
                             f"test script works at 256 x 256), got {a.shape[-1]}x{a.shape[-2]}")
        return super().fuse_batch(a, b, modality=modality)

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        ct = np.stack([min_max_stretch(np.rint(image * 255.0).astype(np.float32))
                       for image in b]) / np.float32(255)
        mri = np.rint(np.asarray(a, dtype=np.float64) * 255).astype(np.float32) / np.float32(255)
        fused = self.net(*(to_batch(image, self.device) for image in (ct, mri)))
        return np.stack([min_max_stretch(image)
                         for image in fused[:, 0].cpu().numpy()]) / np.float32(255)
