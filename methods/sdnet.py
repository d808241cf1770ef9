"""SDNet: the squeeze-and-decomposition fusion network, with its authors' TF1 medical model."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .tf_layers import load_tf_variables, lrelu, run_network, same_conv
from .torchnet import DEVICE_OPTION, PublishedNetwork, min_max_stretch

_PUBLISHED = {"repository": "HaoZhang1018/SDNet",
              "commit": "bf6a2eeed1f723f0fd319b882d2bf38016bf6e55",
              "licence": "MIT, Copyright (c) 2021 Hao Zhang (covers the weights)"}
WEIGHTS = WeightFile(  # the TF1 checkpoint, named by its .index
    "SDNet-Medical/Medical.model-29.index", path="Medical/checkpoint/Medical.model-29.index",
    size=1325, sha256="e7e22f1195e6b624f38ba886c36a734be183a0399282c1ee6e9582db15ffa969",
    git_blob="c137decd46ddf7c50ffccc9132fbe1b45afcdcb4", **_PUBLISHED, companions=(
        WeightFile("SDNet-Medical/Medical.model-29.data-00000-of-00001",
                   path="Medical/checkpoint/Medical.model-29.data-00000-of-00001", size=268364,
                   sha256="062d217c7eca5cf910d11115a40347927d7a7b2e6c034a7a76b6149defd97898",
                   git_blob="a7566faec20902e02cd3940a8acabbb322b7a78e", **_PUBLISHED),
        WeightFile("SDNet-Medical/Medical.model-29.meta",
                   path="Medical/checkpoint/Medical.model-29.meta", size=477572,
                   sha256="07a839838016e157f371f961fae1a562fd20a2c79dbf6cc409bd6fd8e05ac461",
                   git_blob="96aea0cc9e713d8408facc5f416a041fe4fc489c", **_PUBLISHED)))
BRANCH = (("layer1", 1, 16, 5), ("layer2", 16, 16, 3), ("layer3", 32, 16, 3),
          ("layer4", 48, 16, 3))  # (layer, in, out, kernel) of each source's branch
SOURCES = ("ir", "vi")  # the authors' names: ir = functional image, vi = MRI
STUDIO_RANGE = ("PET", "SPECT")  # colour sources the authors turn to studio-range Y


class SDNetFusion(nn.Module):
    """The squeeze (fusion) part of SDNet, layers named as the authors' scopes
    ``fusion_model/layer{1..4}_{ir,vi}`` and ``fusion_model/layer5_fuse``.

    Each source has its own dense branch (5 x 5 then three 3 x 3 convolutions, TF
    'SAME' zero padding, leaky ReLU 0.2; layer k sees all earlier outputs of its branch,
    oldest first). The eight feature maps, interleaved [l1_ir, l1_vi, ..., l4_vi], go
    through layer5_fuse (1 x 1, 128 -> 1) and tanh. The decomposition layers 6-9 of the
    checkpoint only serve the training loss; the test graph never evaluates them.
    """

    def __init__(self) -> None:
        super().__init__()
        for source in SOURCES:
            for layer, i, o, k in BRANCH:
                self.add_module(f"{layer}_{source}", same_conv(i, o, k))
        self.layer5_fuse = same_conv(128, 1, 1)

    @staticmethod
    def tf_names() -> dict[str, str]:
        """State-dict key -> variable name in the authors' checkpoint."""
        scopes = [(f"{layer}_{source}", f"{layer[-1]}_{source}")
                  for source in SOURCES for layer, _, _, _ in BRANCH] + [("layer5_fuse", "5_fuse")]
        return {f"{scope}.{param}": f"fusion_model/{scope}/{letter}{suffix}"
                for scope, suffix in scopes
                for param, letter in (("weight", "w"), ("bias", "b"))}

    def branch(self, x: torch.Tensor, source: str) -> list[torch.Tensor]:
        """The four feature maps [l1, l2, l3, l4] of one source's dense branch."""
        features: list[torch.Tensor] = []
        for layer, _, _, _ in BRANCH:
            conv = getattr(self, f"{layer}_{source}")
            out = conv_of_concatenation(features or [x], conv)
            features.append(lrelu(out).contiguous(memory_format=torch.channels_last))
        return features

    def forward(self, functional: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        """N x 1 x H x W sources in [-1, 1] -> fused N x 1 x H x W in [-1, 1]."""
        pairs = zip(self.branch(functional, "ir"), self.branch(mri, "vi"))
        interleaved = [features for pair in pairs for features in pair]
        return torch.tanh(conv_of_concatenation(interleaved, self.layer5_fuse))


def conv_of_concatenation(parts: list[torch.Tensor], conv: nn.Conv2d) -> torch.Tensor:
    """``conv(torch.cat(parts, 1))`` without the concatenation: a convolution is linear
    in its input channels, so it is the sum of each part's convolution with the matching
    slice of the kernel (same values up to float rounding). Every part and kernel slice
    is kept channels-last, where oneDNN's convolutions with few channels are fast."""
    kernels = conv.weight.split([part.shape[1] for part in parts], dim=1)
    out = None
    for part, kernel in zip(parts, kernels):
        term = F.conv2d(part, kernel.contiguous(memory_format=torch.channels_last),
                        conv.bias if out is None else None, padding=conv.padding)
        out = term if out is None else out.add_(term)
    return out


def grey_levels(y: np.ndarray) -> np.ndarray:
    """A [0, 1] image as the grey levels (0-255) of the 8-bit file the authors read."""
    return np.rint(np.asarray(y, dtype=np.float64) * 255)


def studio_levels(y: np.ndarray) -> np.ndarray:
    """A full-range luma in [0, 1] as the 8-bit studio-range Y (16-235) the authors'
    MATLAB ``RGB2YCbCr`` writes (``0.257 R + 0.504 G + 0.098 B + 16``).

    Those coefficients are the full-range ones times 219/255, so the studio Y is
    ``16 + 219 Y``, rounded to a grey level. MATLAB rounds each of the three uint8
    products separately, which no function of the luma can repeat: on the Harvard
    PET/SPECT images 11 % of pixels come out one grey level apart (never more).
    """
    return np.rint(16 + 219 * np.asarray(y, dtype=np.float64))


class SDNet(PublishedNetwork):
    """SDNet with the authors' published medical model.

    As the authors' test script (``Medical/test.py``) and readme run it: the functional
    image (``ir``: CT, or the Y of PET/SPECT as their ``input_process.m`` writes it, in
    studio range 16-235) and the MRI (``vi``), 8-bit, mapped to [-1, 1] by
    ``(v - 127.5) / 127.5``; the fused tanh output is mapped by ``x * 127.5 + 127.5``
    and saved with a min-max stretch to [0, 255] (rounded half up). The method returns
    that 8-bit image / 255.

    Parameters
    ----------
    weights : path
        The checkpoint's ``Medical.model-29.index`` (its ``.data`` shard beside it);
        default ``SDNet-Medical/Medical.model-29.index`` in ``$MMIF_BENCH_WEIGHTS`` or
        the fetched store.
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    Notes
    -----
    Weights: HaoZhang1018/SDNet (``Medical/checkpoint/``), MIT licence, "Copyright (c)
    2021 Hao Zhang". Trained on medical pairs (functional PET/SPECT luma with MRI).

    References
    ----------
    H. Zhang and J. Ma, "SDNet: A versatile squeeze-and-decomposition network for
    real-time image fusion", International Journal of Computer Vision 129, 2761-2785,
    2021.
    """

    name = "sdnet"
    display_name = "SDNet"
    version = "2"  # 2: dense inputs as sums of convolutions (isolated pixels moved by 1)
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"SDNet medical checkpoint .index; default ${WEIGHTS_ENV}/"
                          f"{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{zhang2021sdnet,
  title   = {{SDNet}: A Versatile Squeeze-and-Decomposition Network for Real-Time Image Fusion},
  author  = {Zhang, Hao and Ma, Jiayi},
  journal = {International Journal of Computer Vision},
  volume  = {129},
  number  = {10},
  pages   = {2761--2785},
  year    = {2021},
  doi     = {10.1007/s11263-021-01501-8}
}"""

    def load_weights(self) -> None:
        net = load_tf_variables(SDNetFusion(), self.weight_path("weights"),
                                SDNetFusion.tf_names(), self.name)
        self.net = net.to(self.device)

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        functional = studio_levels(b) if modality in STUDIO_RANGE else grey_levels(b)
        sources = [(levels - 127.5) / 127.5 for levels in (functional, grey_levels(a))]
        fused = run_network(self.net, sources, self.device)
        return np.stack([min_max_stretch(image * np.float32(127.5) + np.float32(127.5))
                         for image in fused]) / np.float32(255)
