"""IFCNN-MAX: the published pretrained fusion CNN (PyTorch)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmif_bench.config import WEIGHTS_ENV, weights_dir
from mmif_bench.method import Method, Option

WEIGHTS_FILE = "IFCNN-MAX.pth"
CHUNK = 4  # pairs per forward pass: bounds memory (64 feature maps per image)
GRAY = (0.299, 0.587, 0.114)


class ConvBlock(nn.Module):
    """Replicate-pad 1, 3 x 3 convolution without bias, batch norm, ReLU."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(F.pad(x, (1, 1, 1, 1), mode="replicate"))))


class IFCNN(nn.Module):
    """IFCNN with the MAX fusion rule; parameter names match the published state dict."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, bias=False)
        self.conv2 = ConvBlock()
        self.conv3 = ConvBlock()
        self.conv4 = nn.Conv2d(64, 3, kernel_size=1, bias=True)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Per-source features of N x 3 x H x W inputs in [0, 1]."""
        return self.conv2(self.conv1(F.pad(x, (3, 3, 3, 3), mode="replicate")))

    def forward(self, *sources: torch.Tensor) -> torch.Tensor:
        fused = torch.stack([self.features(x) for x in sources]).amax(dim=0)
        return self.conv4(self.conv3(fused))


def default_weights() -> str:
    """``$MMIF_BENCH_WEIGHTS/IFCNN-MAX.pth``, or "" when the variable is unset."""
    folder = weights_dir()
    return str(folder / WEIGHTS_FILE) if folder else ""


def missing_weights_message(path: str) -> str:
    where = f"not found at {path}" if path else f"not found (${WEIGHTS_ENV} is unset)"
    return (
        f"IFCNN weights {WEIGHTS_FILE} {where}. Download Code/snapshots/{WEIGHTS_FILE} "
        f"from the authors' repository https://github.com/uzeful/IFCNN, then either set "
        f"{WEIGHTS_ENV} to the folder that holds it or pass the file as "
        f"'ifcnn:weights=PATH'."
    )


class IFCNNFusion(Method):
    """IFCNN-MAX with the authors' published weights.

    Each gray source is repeated to 3 channels (no mean/std normalisation, the
    medical-image setting), replicate-padded and passed through conv1 (7 x 7,
    ResNet-101's first layer) and a conv-BN-ReLU block; the feature maps are
    fused by element-wise maximum and reconstructed by a second block and a
    1 x 1 convolution to 3 channels. As the authors' inference does, the output
    is clamped to [0, 1], scaled by 255, truncated to uint8 and converted to gray
    with weights (0.299, 0.587, 0.114); the method returns that gray / 255.

    Parameters
    ----------
    weights : path
        The state dict ``IFCNN-MAX.pth``; default ``$MMIF_BENCH_WEIGHTS/IFCNN-MAX.pth``.
    device : str
        ``"cpu"`` (default) or ``"cuda"``.

    References
    ----------
    Y. Zhang, Y. Liu, P. Sun, H. Yan, X. Zhao and L. Zhang, "IFCNN: A general image
    fusion framework based on convolutional neural network", Information Fusion 54,
    99-118, 2020.
    """

    name = "ifcnn"
    options = {
        "weights": Option("", f"IFCNN-MAX.pth; default ${WEIGHTS_ENV}/{WEIGHTS_FILE}", "path"),
        "device": Option("cpu", "torch device: cpu or cuda", "str"),
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        path = str(self.config["weights"] or default_weights())
        self.config["weights"] = path
        if not path or not Path(path).expanduser().is_file():
            raise FileNotFoundError(missing_weights_message(path))
        device = str(self.config["device"])
        if device not in ("cpu", "cuda"):
            raise ValueError(f"ifcnn: device must be 'cpu' or 'cuda', got {device!r}")
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("ifcnn: device=cuda requested but torch sees no CUDA GPU")
        self.device = torch.device(device)
        state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
        self.model = IFCNN()
        self.model.load_state_dict(state)
        self.model.to(self.device).eval()
        self.gray = torch.tensor(GRAY, device=self.device).view(1, 3, 1, 1)

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.fuse_batch(a[None], b[None])[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty(a.shape, dtype=np.float32)
        for start in range(0, len(a), CHUNK):
            part = slice(start, start + CHUNK)
            out[part] = self._forward(a[part], b[part])
        return out

    @torch.no_grad()
    def _forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sources = [
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            .to(self.device)[:, None]
            .expand(-1, 3, -1, -1)
            for x in (a, b)
        ]
        rgb = torch.floor(self.model(*sources).clamp(0.0, 1.0) * 255.0)
        gray = (rgb * self.gray).sum(dim=1) / 255.0
        return gray.clamp(0.0, 1.0).cpu().numpy()
