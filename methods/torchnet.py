"""What the ported networks share: :class:`PublishedNetwork` (device choice, batching,
loading and checking a published state dict), the 8-bit luma the authors' scripts read
and the min-max stretch with which several of them save."""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

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


def batches(count: int, device: torch.device,
            pairs_per_pass: Mapping[str, int] = PAIRS_PER_PASS) -> Iterator[slice]:
    """Slices of a stack of ``count`` pairs, each fused in one forward pass."""
    step = pairs_per_pass[device.type]
    return (slice(start, start + step) for start in range(0, count, step))


def first_mismatch(found: Mapping[str, Any], expected: Mapping[str, torch.Tensor]) -> str | None:
    """What first keeps state dict ``found`` from loading where ``expected`` is: in
    ``found``'s order a key ``expected`` lacks or shapes otherwise, then a key ``found``
    lacks; None when it fits."""
    for key, value in found.items():
        if key not in expected:
            return f"unexpected key {key}"
        shape, wanted = list(getattr(value, "shape", ())), list(expected[key].shape)
        if shape != wanted:
            return f"key {key} has shape {shape}, expected {wanted}"
    missing = next((key for key in expected if key not in found), None)
    return None if missing is None else f"missing key {missing}"


def load_published(module: nn.Module, path: Path, method: str,
                   key: str | None = None) -> nn.Module:
    """Load the authors' state dict file into ``module`` as published (same keys, same
    shapes), in eval mode; a file that does not fit says so, naming the file and the first
    key that does not fit. ``key``: the entry of a checkpoint dict that holds the state
    dict (None: the file is the state dict); the training arguments some checkpoints carry
    (an ``argparse.Namespace``) are allowed."""
    state = load_torch_file(path, allowed=(argparse.Namespace,))
    if key is not None:
        state = state.get(key) if isinstance(state, dict) else None
    problem = (first_mismatch(state, module.state_dict()) if isinstance(state, Mapping)
               else f"found a {type(state).__name__}, not a state dict")
    if problem:
        raise ValueError(f"{method}: {path} is not the published {method} state dict: {problem}")
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
    """Base of every ported network with published weights.

    One device rule: the ``device`` option (:data:`DEVICE_OPTION`: ``cpu``, ``cuda`` or
    ``auto``) gives :attr:`device`, and a ``cuda`` device is the GPU need the Dask
    executor reads (:meth:`~mmif_bench.Method.needs_gpu`). One batching rule: stacks are
    fused :attr:`pairs_per_pass` pairs per forward pass (:func:`batches`), under
    ``torch.inference_mode``. One loader: :meth:`load_weights`, by default the published
    state dict of option ``weights`` into :meth:`build_network`, checked key by key
    (:func:`load_published`). A network implements :meth:`forward_pairs`.
    """

    pairs_per_pass: ClassVar[Mapping[str, int]] = PAIRS_PER_PASS

    state_key: ClassVar[str | None] = None
    """The entry of the published checkpoint dict that holds the state dict (None: the
    file is the state dict)."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.device = resolve_device(self.name, str(self.config["device"]))
        self.load_weights()

    def load_weights(self) -> None:
        """Load the published weights (here: option ``weights`` into ``self.net``)."""
        path = self.weight_path("weights")
        self.net = load_published(self.build_network(), path, self.name,
                                  self.state_key).to(self.device)

    def build_network(self) -> nn.Module:
        raise NotImplementedError

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        """Fused N x H x W stack (float32 in [0, 1]) of MRI ``a`` and the other image ``b``
        (of ``modality``, when known), in one forward pass."""
        raise NotImplementedError

    def in_passes(self, forward: Callable[..., np.ndarray], a: np.ndarray, b: np.ndarray,
                  *args: Any) -> np.ndarray:
        """``forward(a[part], b[part], *args)`` over the passes of the stacks, joined."""
        with torch.inference_mode():
            return np.concatenate([forward(a[part], b[part], *args) for part in
                                   batches(len(a), self.device, self.pairs_per_pass)])

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return self.fuse_batch(a[None], b[None], modality=modality)[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        return self.in_passes(self.forward_pairs, a, b, modality)
