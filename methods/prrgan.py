"""PRRGAN: the primitive relationship reasoning GAN for medical fusion (its two-modality
generator), with its authors' weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8, studio_luma_uint8

WEIGHTS = WeightFile(
    "PRRGAN-checkpoint-120.pth", repository="JasonWong30/PRRGAN",
    commit="80be162dc3df2e6e4e2e81fe80fd6331577a2f1e",
    path="output_dir/checkpoint-120.pth", size=65455,
    sha256="7a2fe4c1ea5139d35e96f45be01c7c5de3f4575f43d4b95c35ef7bc9ea9ced01",
    git_blob="073d5c9479722010350914c97c0edc2dd3507265",
    licence="none stated: research use, do not redistribute")
FEATURES = 8
FUNCTIONAL = ("PET", "SPECT")  # read as studio-range luma, as the authors' Y_color


def bn_branch(c_in: int, c_out: int, convs: int) -> nn.Sequential:
    """1 x 1 conv, then ``convs`` 3 x 3 convs, each conv without bias and followed by BN,
    with ReLU between (none at the end)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
    for _ in range(convs):
        layers += [nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
                   nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers)


class MultiScaleBlock(nn.Module):
    """The authors' ``MSB``: a short (1 x 1, 3 x 3) and a long (1 x 1, 3 x 3, 3 x 3)
    branch of half the channels each, concatenated."""

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        self.modlist0 = bn_branch(channels, channels // 2, 1)
        self.modlist1 = bn_branch(channels, channels // 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.modlist0(x), self.modlist1(x)], 1)


class GraphReasoning(nn.Module):
    """The authors' ``Rs_GCN`` on the 8 x 8 global descriptors v (channels x positions):
    R = theta(v)^T phi(v) / 8, y = (R g(v)^T)^T, v* = BN(W(y)) + v (1-D 1 x 1 convs)."""

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        self.g = nn.Conv1d(channels, channels, 1)
        self.theta = nn.Conv1d(channels, channels, 1)
        self.phi = nn.Conv1d(channels, channels, 1)
        self.W = nn.Sequential(nn.Conv1d(channels, channels, 1), nn.BatchNorm1d(channels))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        relation = torch.matmul(self.theta(v).permute(0, 2, 1), self.phi(v))
        relation = relation / relation.shape[-1]
        y = torch.matmul(relation, self.g(v).permute(0, 2, 1)).permute(0, 2, 1).contiguous()
        return self.W(y) + v


class DoubleAttention(nn.Module):
    """A^2-Net's double attention with graph reasoning on its descriptors: G = A
    softmax(B)^T (each channel of B soft-maxed over **all pixels of the image**), G* =
    GCN(G), Z = G* softmax(V) (V likewise), then a 1 x 1 reconstruction conv."""

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        self.Rs_GCN = GraphReasoning(channels)
        self.convA = nn.Conv2d(channels, channels, 1)
        self.convB = nn.Conv2d(channels, channels, 1)
        self.convV = nn.Conv2d(channels, channels, 1)
        self.conv_reconstruct = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count, channels, height, width = x.shape
        a, b, v = (conv(x).view(count, channels, height * width)
                   for conv in (self.convA, self.convB, self.convV))
        descriptors = torch.bmm(a, F.softmax(b, dim=-1).permute(0, 2, 1))
        z = self.Rs_GCN(descriptors).matmul(F.softmax(v, dim=2))
        return self.conv_reconstruct(z.view(count, channels, height, width))


class EnergyNetwork(nn.Module):
    """The authors' ``ResBlock`` with ``flag`` True (its residual dropped): 3 x 3 conv, BN,
    ReLU, multi-scale block, double attention, 1 x 1 conv to one energy map."""

    def __init__(self, channels: int = FEATURES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.MSB = MultiScaleBlock(channels)
        self.doubleatt = DoubleAttention(channels)
        self.conv2 = nn.Conv2d(channels, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.doubleatt(self.MSB(F.relu(self.bn1(self.conv1(x))))))


class Block(nn.Module):
    """The authors' ``Block``: the energy network as its ``layer1``."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = EnergyNetwork()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer1(x)


class PRRGANGenerator(nn.Module):
    """PRRGAN's two-modality generator, keys as in ``checkpoint-120.pth`` (``model``).

    One energy network (shared weights) maps each source to t; the fused image is the
    per-pixel convex combination of the **input images** with weights t_i^2 / (t_1^2 +
    t_2^2). No decoder, no final activation.
    """

    def __init__(self) -> None:
        super().__init__()
        self.layer = Block()

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        energy1 = self.layer(first) ** 2
        energy2 = self.layer(second) ** 2
        total = energy1 + energy2
        return energy1 / total * first + energy2 / total * second


def stretch_and_truncate(fused: torch.Tensor) -> np.ndarray:
    """The authors' ``tensor2img``: min-max stretch per image, x 255, truncate."""
    images = fused.cpu().numpy()
    low = images.min(axis=(1, 2), keepdims=True)
    high = images.max(axis=(1, 2), keepdims=True)
    return (((images - low) / (high - low)) * 255.0).astype(np.uint8)


class PRRGAN(PublishedNetwork):
    """PRRGAN's two-modality model with the authors' published weights (one model for CT,
    PET and SPECT).

    The authors' ``Test_DMIF.py`` as intended: both sources are read as 8-bit gray
    (``cv2.imread(..., 0)``) and scaled to [0, 1] (``ToTensor``); the PET/SPECT image
    goes in as the pre-computed **studio-range** (16-235) luma the authors feed
    (``Y_color``): the pipeline's BT.601 luma y becomes round(16 + 219 y); CT and MRI
    stay full range. The call is ``model(MRI, functional)``; float32, batch norm in eval
    mode. The output is saved as their ``tensor2img`` does: min-max stretched per image,
    x 255, truncated; the method returns that 8-bit image / 255. Without a ``modality``
    the second image is read as full-range gray.

    **The released script fuses the MRI with itself** (it calls ``model(img_ir,
    img_ir)``), which returns the stretched MRI for every pair. That is a plain bug, not
    reproduced: this method makes the two-source call the network and the loader are
    written for (the network is symmetric in its inputs).

    Both softmaxes run over all pixels of the image, so the result depends on the whole
    image (no tiling) and its last bits on the thread count (up to 1.5e-5 between one and
    two threads, which can move a truncated level).

    Weights: ``output_dir/checkpoint-120.pth`` from JasonWong30/PRRGAN, a training
    checkpoint whose ``model`` entry is the state dict (1,224 parameters). The repository
    has no licence: research material, cite the paper, never redistribute.

    Parameters
    ----------
    weights : path
        The checkpoint; default ``PRRGAN-checkpoint-120.pth`` in ``$MMIF_BENCH_WEIGHTS`` or
        the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    References
    ----------
    J. Huang, X. Li, H. Tan and X. Cheng, "Generative adversarial network for trimodal
    medical image fusion using primitive relationship reasoning", IEEE Journal of
    Biomedical and Health Informatics, 2024, doi:10.1109/JBHI.2024.3426664.
    """

    name = "prrgan"
    display_name = "PRRGAN"
    state_key = "model"
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"checkpoint-120.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}",
                          "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{huang2024prrgan,
  author  = {Huang, Jingxue and Li, Xiaosong and Tan, Haishu and Cheng, Xiaoqi},
  title   = {Generative Adversarial Network for Trimodal Medical Image Fusion Using
             Primitive Relationship Reasoning},
  journal = {IEEE Journal of Biomedical and Health Informatics},
  year    = {2024},
  doi     = {10.1109/JBHI.2024.3426664}
}"""

    def build_network(self) -> nn.Module:
        return PRRGANGenerator()

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        other = studio_luma_uint8(b) if modality in FUNCTIONAL else luma_uint8(b)
        mri, other_t = (torch.from_numpy(x[:, None]).to(self.device).float() / 255.0
                        for x in (luma_uint8(a), other))
        return stretch_and_truncate(self.net(mri, other_t)[:, 0]) / np.float32(255.0)
