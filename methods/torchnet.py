"""What the ported PyTorch networks share: device choice, loading a published state
dict into a module, batching, the 8-bit luma the authors' scripts read and the min-max
stretch with which several of them save."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar, Iterator

import numpy as np
import torch
from torch import nn

from mmif_bench.method import Method, Option
from mmif_bench.weights import load_torch_file

DEVICES = ("cpu", "cuda", "auto")
# pairs per forward pass: on CPU a larger batch is no faster and only costs memory (a
# 256 x 256 MUFusion pair alone is 9 float64 patches)
PAIRS_PER_PASS = {"cpu": 1, "cuda": 8}
DEVICE_OPTION = Option("cpu", "torch device: cpu, cuda, or auto (cuda when torch sees a GPU)",
                       "str")


def resolve_device(method: str, device: str) -> torch.device:
    """The torch device of a ``device`` option value (``cpu``, ``cuda`` or ``auto``)."""
    if device not in DEVICES:
        raise ValueError(f"{method}: device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{method}: device=cuda requested but torch sees no CUDA GPU")
    return torch.device(device)


def batches(count: int, device: torch.device) -> Iterator[slice]:
    """Slices of a stack of ``count`` pairs, each fused in one forward pass."""
    step = PAIRS_PER_PASS[device.type]
    return (slice(start, start + step) for start in range(0, count, step))


def load_published(module: nn.Module, path: Path, method: str,
                   key: str | None = None) -> nn.Module:
    """Load the authors' state dict file into ``module`` as published (same keys, same
    shapes), in eval mode; a file that does not fit says so, naming the file. ``key``: the
    entry of a checkpoint dict that holds the state dict (None: the file is the state dict);
    the training arguments some checkpoints carry (an ``argparse.Namespace``) are allowed."""
    state = load_torch_file(path, allowed=(argparse.Namespace,))
    if key is not None:
        state = state.get(key) if isinstance(state, dict) else None
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in state.items()} if isinstance(
        state, dict) else {}
    if found != expected:
        missing = sorted(set(expected) - set(found))[:3]
        extra = sorted(set(found) - set(expected))[:3]
        wrong = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])[:3]
        raise ValueError(f"{method}: {path} is not the published {method} state dict "
                         f"(missing {missing}, unexpected {extra}, wrong shape {wrong})")
    module.load_state_dict(state)
    return module.eval()


def luma_uint8(y: np.ndarray) -> np.ndarray:
    """A [0, 1] luma as the 8-bit image the authors' scripts read (round to 1/255).

    The pipeline gives methods the float BT.601 luma; OpenCV's ``BGR2YCrCb`` and PIL's
    ``convert('L')`` round the same weighted sum with fixed-point arithmetic, which
    differs from plain rounding only within about 0.005 grey levels of a .5 tie.
    """
    return np.clip(np.rint(np.asarray(y, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def studio_luma_uint8(y: np.ndarray) -> np.ndarray:
    """A [0, 1] full-range BT.601 luma as the 8-bit studio-range (16-235) Y of MATLAB's
    ``rgb2ycbcr``: round(16 + 219 y), which is round(16 + (65.481 R + 128.553 G + 24.966 B)
    / 255) of the 8-bit RGB."""
    return np.rint(16.0 + 219.0 * np.asarray(y, dtype=np.float64)).astype(np.uint8)


def save_as_uint8(fused: torch.Tensor, wrap_negatives: bool) -> np.ndarray:
    """numpy's ``(out * 255).astype(np.uint8)``: truncation toward zero, and values at or
    below -1/255 wrap around modulo 256 (-5.3 -> 251), unless ``wrap_negatives`` is off
    (then they become 0)."""
    levels = torch.trunc(fused * 255.0).to(torch.int64)
    levels = levels % 256 if wrap_negatives else levels.clamp(0, 255)
    return levels.to(torch.uint8).cpu().numpy()


def min_max_stretch(fused: np.ndarray) -> np.ndarray:
    """``scipy.misc.imsave``'s byte scaling of a float image: (F - min) * 255 / (max -
    min), clipped, + 0.5, truncated to uint8."""
    low, high = fused.min(), fused.max()
    scale = 255.0 / (high - low) if high > low else 1.0
    return (np.clip((fused - low) * scale, 0.0, 255.0) + 0.5).astype(np.uint8)


class PublishedNetwork(Method):
    """Base of a ported network: builds it (:meth:`build_network`), loads the published
    state dict of option ``weights`` into it on the ``device`` option's device, and fuses
    stacks of pairs a forward pass at a time (:meth:`forward_pairs`)."""

    state_key: ClassVar[str | None] = None
    """The entry of the published checkpoint dict that holds the state dict (None: the
    file is the state dict)."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.device = resolve_device(self.name, str(self.config["device"]))
        path = self.weight_path("weights")
        self.net = load_published(self.build_network(), path, self.name,
                                  self.state_key).to(self.device)

    def build_network(self) -> nn.Module:
        raise NotImplementedError

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        """Fused N x H x W stack (float32 in [0, 1]) of MRI ``a`` and the other image ``b``
        (of ``modality``, when known)."""
        raise NotImplementedError

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return self.fuse_batch(a[None], b[None], modality=modality)[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        with torch.inference_mode():
            return np.concatenate([self.forward_pairs(a[part], b[part], modality)
                                   for part in batches(len(a), self.device)])
