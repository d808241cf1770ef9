"""Reading DM-FNet weight files: ours (``final.pt`` of :mod:`.train`) and the authors'
released formats (HeDan-11/DM-FNet @ c1b14b8: ``pth/I630000_E14000_gen.pth``, the
``state_dict()`` of their whole ``GaussianDiffusion`` wrapper, and ``pth/MIF.pth``, the
``state_dict()`` of ``Fusion_Head``).

Network sizes are read off the tensors, so the released full-size files and smaller ones
in the same layout load alike. A file that does not fit raises a :class:`ValueError`
naming the file and its first key that does not fit.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mmif_bench.weights import load_torch_file

from .fusion_net import FusionNet
from .unet import UNet, UNetConfig

UNET_PREFIX = "denoise_fn."
"""Prefix of the UNet keys in the authors' Stage I file (the wrapper's ``denoise_fn``)."""
SCHEDULE_BUFFERS = (
    "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod",
    "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
    "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2")
"""The wrapper's noise-schedule buffers at the start of the Stage I file. Feature
extraction never reads them (the authors' inference overwrites them too)."""


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save``-d state dict (loaded with ``weights_only=True``)."""
    state = load_torch_file(path)
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor)
                                                 for v in state.values()):
        raise ValueError(f"{path} is not a state dict (a mapping of names to tensors)")
    return dict(state)


def load_exact(module: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``module``; every key and shape must fit.

    Raises
    ------
    ValueError
        Naming ``source`` and the first key (in the module's order, then the file's) that
        is missing, unexpected or of another shape.
    """
    expected = module.state_dict()
    for key, value in expected.items():
        if key not in state:
            raise ValueError(f"{source}: key {key!r} is missing (expected shape "
                             f"{tuple(value.shape)})")
        if state[key].shape != value.shape:
            raise ValueError(f"{source}: key {key!r} has shape {tuple(state[key].shape)}, "
                             f"expected {tuple(value.shape)} for the sizes read off the file")
    extra = [key for key in state if key not in expected]
    if extra:
        raise ValueError(f"{source}: unexpected key {extra[0]!r} ({len(extra)} in all)")
    module.load_state_dict({k: v.float() for k, v in state.items()})


def _indexed(state: Mapping[str, torch.Tensor], pattern: str) -> dict[int, torch.Tensor]:
    """Tensors whose key matches ``pattern`` (with one ``(\\d+)`` group), by that index."""
    found = {}
    for key, value in state.items():
        match = re.fullmatch(pattern, key)
        if match:
            found[int(match.group(1))] = value
    return found


def unet_config_of(state: Mapping[str, torch.Tensor], source: str,
                   groups: int = 0) -> UNetConfig:
    """The UNet sizes of an (unprefixed) UNet state dict.

    ``groups`` (GroupNorm groups) is not stored in the tensors; 0 means width / 4, which
    is the authors' 32 at their width 128 (and 8 at width 32).
    """
    try:
        width = state["init_conv.weight"].shape[0]
        convs = _indexed(state, r"downs\.(\d+)\.res_block\.block1\.block\.3\.weight")
        samplers = sorted(_indexed(state, r"downs\.(\d+)\.conv\.weight"))
    except KeyError as error:
        raise ValueError(f"{source}: key {error.args[0]!r} is missing; not a DM-FNet UNet "
                         f"state dict") from None
    if not convs:
        raise ValueError(f"{source}: no key 'downs.0.res_block.block1.block.3.weight'; not a "
                         f"DM-FNet UNet state dict")
    res_blocks = samplers[0] if samplers else len(convs)
    level_width = [convs[i].shape[0] for i in sorted(convs)][res_blocks - 1::res_blocks]
    return UNetConfig(width=width, mults=tuple(w // width for w in level_width),
                      res_blocks=res_blocks, dropout=0.0, groups=groups or max(width // 4, 1))


def head_sizes_of(state: Mapping[str, torch.Tensor], source: str,
                  ) -> tuple[list[int], int, int]:
    """(feature channels coarse to fine, number of steps, ``rgb_decode2`` width) of a fusion
    head state dict."""
    first = _indexed(state, r"decoder\.(\d+)\.block\.0\.weight")
    last = _indexed(state, r"decoder\.(\d+)\.block\.2\.weight")
    if 0 not in first or "rgb_decode2.conv.weight" not in state:
        raise ValueError(f"{source}: key 'decoder.0.block.0.weight' or "
                         f"'rgb_decode2.conv.weight' is missing; not a DM-FNet fusion head")
    channels = [last[i].shape[0] for i in sorted(last) if i % 2 == 0]
    steps = first[0].shape[1] // channels[0]
    return channels, steps, state["rgb_decode2.conv.weight"].shape[0]


def build_unet(state: Mapping[str, torch.Tensor], source: str, groups: int = 0) -> UNet:
    """A UNet of the sizes of ``state`` (unprefixed keys) with its weights."""
    unet = UNet(unet_config_of(state, source, groups))
    load_exact(unet, state, source)
    return unet


def build_head(state: Mapping[str, torch.Tensor], source: str) -> tuple[FusionNet, int]:
    """A fusion head of the sizes of ``state`` with its weights, and its number of steps."""
    channels, steps, width = head_sizes_of(state, source)
    head = FusionNet(channels, steps, width)
    load_exact(head, state, source)
    return head, steps


def read_authors_unet(path: str | Path, groups: int = 0) -> UNet:
    """The UNet of a Stage I file as the authors save it (``denoise_fn.*`` keys plus the
    12 schedule buffers; a bare UNet state dict loads too)."""
    state = read_state(path)
    unet_state = {}
    for key, value in state.items():
        if key.startswith(UNET_PREFIX):
            unet_state[key[len(UNET_PREFIX):]] = value
        elif key not in SCHEDULE_BUFFERS:
            unet_state[key] = value
    return build_unet(unet_state, str(path), groups)
