"""What the ports of TensorFlow 1 fusion networks (U2Fusion, EMFusion, SDNet) share:
their authors' layer conventions in torch, loading checkpoint variables into a module,
and the way they take images in (N x 1 x H x W tensors).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .tf_checkpoint import load_checkpoint

LRELU_SLOPE = 0.2  # the authors' lrelu: tf.maximum(x, 0.2 * x)


def to_batch(images: np.ndarray, device: torch.device, *, min_size: int = 1) -> torch.Tensor:
    """N x H x W float images as an N x 1 x H x W float32 tensor on ``device``, stored
    channels-last (NHWC, as TF stores it), where torch's oneDNN convolutions are fast on
    CPU. ``min_size``: the smallest side the network accepts (2 for reflect padding)."""
    if min(images.shape[-2:]) < min_size:
        raise ValueError(f"images must be at least {min_size} x {min_size} pixels for this "
                         f"network (reflect padding), got {images.shape[-1]}x{images.shape[-2]}")
    batch = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None]
    return batch.to(device).contiguous(memory_format=torch.channels_last)


def run_network(net: nn.Module, sources: list[np.ndarray], device: torch.device, *,
                min_size: int = 1) -> np.ndarray:
    """The one-channel output (N x H x W, numpy) of ``net`` on N x H x W source stacks,
    given in the network's input order, in one forward pass (the caller batches:
    :meth:`~mmif_bench.methods.torchnet.PublishedNetwork.in_passes`)."""
    inputs = [to_batch(source, device, min_size=min_size) for source in sources]
    return net(*inputs)[:, 0].cpu().numpy()


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """``max(x, 0.2 x)``, as the authors write the leaky ReLU (identical values)."""
    return F.leaky_relu(x, LRELU_SLOPE)


def reflect_conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3 x 3 convolution with bias on a 1-pixel reflect padding: ``tf.pad(x, ...,
    mode='REFLECT')`` then ``tf.nn.conv2d(..., padding='VALID')`` (TF's REFLECT, like
    torch's, does not repeat the edge pixel)."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect")


def same_conv(in_channels: int, out_channels: int, kernel: int) -> nn.Conv2d:
    """Stride-1 convolution with bias and TF ``padding='SAME'``: zero padding of
    ``kernel - 1`` pixels in all, ``(kernel - 1) // 2`` before. For the odd kernels used
    here that is symmetric; an even kernel would put the extra pixel after (right and
    bottom), which ``nn.Conv2d`` cannot express, so it is refused."""
    if kernel % 2 == 0:
        raise ValueError(f"TF SAME padding of an even {kernel}x{kernel} kernel is asymmetric")
    return nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)


def load_tf_variables(module: nn.Module, checkpoint: Path, names: dict[str, str],
                      method: str) -> nn.Module:
    """Load checkpoint variables into ``module``, in eval mode.

    ``names`` maps each key of the module's state dict to the TF variable it takes.
    Kernels are turned from TF's HWIO layout to torch's OIHW. A checkpoint that lacks a
    variable or has it in another shape is refused, naming the file.
    """
    tensors = load_checkpoint(checkpoint)
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    state = {key: torch.from_numpy(hwio_to_oihw(tensors[name]))
             for key, name in names.items() if name in tensors}
    wrong = sorted(names[key] for key in expected
                   if key not in state or tuple(state[key].shape) != expected[key])
    if wrong or set(names) != set(expected):
        raise ValueError(f"{method}: {checkpoint} is not the published {method} checkpoint "
                         f"(variables missing or of another shape: {wrong[:3]})")
    module.load_state_dict(state)
    return module.eval()


def hwio_to_oihw(array: np.ndarray) -> np.ndarray:
    """A TF convolution kernel (height, width, in, out) as torch's (out, in, height,
    width); other arrays unchanged."""
    return np.ascontiguousarray(array.transpose(3, 2, 0, 1)) if array.ndim == 4 else array
