"""IFCNN-MAX: the published pretrained fusion CNN (PyTorch)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile, load_torch_file

from .torchnet import DEVICE_OPTION, PublishedNetwork

WEIGHTS = WeightFile(
    "IFCNN-MAX.pth", repository="uzeful/IFCNN",
    commit="8fe59c2b1553e52acc793986208ca479d134a8da", path="Code/snapshots/IFCNN-MAX.pth",
    size=337094, sha256="6022b44c88a2f0367ba9b08fcdf0d663745d9a966fca0ee1f41867797b6ff53f",
    git_blob="93c6324ba2c63ffc01561d7311aef52578b1e3ef", licence="none stated")
BN_EPS = 1e-5  # PyTorch's BatchNorm2d default, used in training
SHAPES = {
    "conv1.weight": (64, 3, 7, 7),
    "conv2.conv.weight": (64, 64, 3, 3),
    "conv3.conv.weight": (64, 64, 3, 3),
    "conv4.weight": (3, 64, 1, 1),
    "conv4.bias": (3,),
    **{f"{block}.bn.{p}": (64,) for block in ("conv2", "conv3")
       for p in ("weight", "bias", "running_mean", "running_var")},
}


@dataclass(frozen=True)
class IFCNNParams:
    """Inference form of IFCNN-MAX's state dict, algebraically identical to it.

    conv1 acts on a gray image repeated to 3 channels, so its kernel is summed over
    the input channels; eval-mode batch norm is folded into the preceding convolution.
    """

    conv1: torch.Tensor
    conv2: tuple[torch.Tensor, torch.Tensor]
    conv3: tuple[torch.Tensor, torch.Tensor]
    conv4: tuple[torch.Tensor, torch.Tensor]

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> IFCNNParams:
        found = {key: tuple(value.shape) for key, value in state.items()}
        if found != SHAPES:
            raise ValueError(f"not an IFCNN state dict: expected {SHAPES}, found {found}")

        def fold(block: str) -> tuple[torch.Tensor, torch.Tensor]:
            variance = state[f"{block}.bn.running_var"]
            scale = state[f"{block}.bn.weight"] / torch.sqrt(variance + BN_EPS)
            weight = state[f"{block}.conv.weight"] * scale[:, None, None, None]
            return weight, state[f"{block}.bn.bias"] - state[f"{block}.bn.running_mean"] * scale

        return cls(
            conv1=state["conv1.weight"].sum(dim=1, keepdim=True),
            conv2=fold("conv2"),
            conv3=fold("conv3"),
            conv4=(state["conv4.weight"], state["conv4.bias"]),
        )

    def to(self, device: torch.device) -> IFCNNParams:
        return IFCNNParams(
            self.conv1.to(device),
            *(tuple(t.to(device) for t in pair) for pair in (self.conv2, self.conv3, self.conv4)),
        )


def _conv_block(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Replicate-pad 1, 3 x 3 convolution with batch norm folded in, ReLU."""
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, bias).relu_()


def ifcnn_max(params: IFCNNParams, *sources: torch.Tensor) -> torch.Tensor:
    """IFCNN-MAX on N x 1 x H x W gray sources in [0, 1]; returns N x 3 x H x W (unclamped).

    Per source: replicate-pad 3, conv1 (7 x 7, no bias), conv block 2; element-wise
    maximum over the sources; conv block 3; conv4 (1 x 1, with bias).
    """
    fused = None
    for x in sources:
        features = _conv_block(F.conv2d(F.pad(x, (3, 3, 3, 3), mode="replicate"), params.conv1),
                               *params.conv2)
        fused = features if fused is None else torch.maximum(fused, features, out=fused)
    return F.conv2d(_conv_block(fused, *params.conv3), *params.conv4)


class IFCNNFusion(PublishedNetwork):
    """IFCNN-MAX with the authors' published weights.

    Each gray source is repeated to 3 channels (no mean/std normalisation, the
    medical-image setting), replicate-padded and passed through conv1 (7 x 7,
    ResNet-101's first layer) and a conv-BN-ReLU block; the feature maps are
    fused by element-wise maximum and reconstructed by a second block and a
    1 x 1 convolution to 3 channels. As the authors' inference does, the output
    is clamped to [0, 1], scaled by 255, truncated to uint8 and converted to 8-bit
    gray with OpenCV's RGB->gray (weights 0.299, 0.587, 0.114, rounded); the method
    returns that gray / 255.

    Parameters
    ----------
    weights : path
        The state dict ``IFCNN-MAX.pth``; default: that file in ``$MMIF_BENCH_WEIGHTS``
        or the fetched store (``mmif-bench fetch weights ifcnn``).
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    References
    ----------
    Y. Zhang, Y. Liu, P. Sun, H. Yan, X. Zhao and L. Zhang, "IFCNN: A general image
    fusion framework based on convolutional neural network", Information Fusion 54,
    99-118, 2020.
    """

    name = "ifcnn"
    display_name = "IFCNN"
    bibtex = """@article{zhang2020ifcnn,
  author  = {Zhang, Yu and Liu, Yu and Sun, Peng and Yan, Han and Zhao, Xiaolin and Zhang, Li},
  title   = {{IFCNN}: A general image fusion framework based on convolutional neural network},
  journal = {Information Fusion},
  volume  = {54},
  pages   = {99--118},
  year    = {2020},
  doi     = {10.1016/j.inffus.2019.07.011}
}"""
    weight_files = {"weights": WEIGHTS}
    options = {
        "weights": Option("", f"IFCNN-MAX.pth; default ${WEIGHTS_ENV}/{WEIGHTS.name}", "path"),
        "device": DEVICE_OPTION,
    }
    # pairs per forward pass: on CPU larger batches only add memory traffic (measured slower)
    pairs_per_pass = {"cpu": 1, "cuda": 16}

    def load_weights(self) -> None:
        state = load_torch_file(self.weight_path("weights"))
        self.params = IFCNNParams.from_state_dict(state).to(self.device)

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        sources = [
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)[:, None]
            for x in (a, b)
        ]
        rgb = (ifcnn_max(self.params, *sources).clamp(0.0, 1.0) * 255.0).to(torch.uint8)
        rgb = rgb.permute(0, 2, 3, 1).contiguous().cpu().numpy()
        gray = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in rgb])
        return gray.astype(np.float32) / 255.0
