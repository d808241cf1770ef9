"""SwinFusion (Ma et al., IEEE/CAA JAS 2022): the authors' released medical models.

The network is the one the authors' medical test script builds (``test_swinfusion.py``
with ``models/network_swinfusion1.py`` of Linfeng-Tang/SwinFusion @ ceeec3f): embedding
dimension 60, 8 x 8 windows, 6 heads, MLP ratio 2, no upsampler. The script's ``depths``
and ``num_heads`` arguments are swallowed by ``**kwargs``, so the class defaults hold:

- extraction: per source two 3 x 3 convolutions (LeakyReLU 0.2) and one Swin layer of
  depth 4 (the authors' RSTB, which in this model has no convolution and no residual);
  **both** sources go through the A-branch convolutions ``conv_first*_A``, as the
  authors' forward does (``conv_first*_B`` are in the file but never used);
- fusion: two stages, each a Swin layer of depth 2 per source followed by a cross layer
  of depth 2 in which each source's queries attend to the other's keys and values;
  the two maps are concatenated and reduced by a 3 x 3 convolution (LeakyReLU);
- reconstruction: one Swin layer of depth 4 and convolutions 60 -> 30 -> 15 -> 1
  (LeakyReLU 0.2 between, no final activation).

Every Swin stage starts with the shared ``patch_embed`` LayerNorm; every second block
attends within windows shifted by 4 (cyclic roll with the shifted-window mask).
Layers carry the names of the authors' state dict, so ``10000_E.pth`` loads as released.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile, load_torch_file

from .torchnet import DEVICE_OPTION, PublishedNetwork, luma_uint8

EMBED_DIM = 60
HEADS = 6
WINDOW = 8
SHIFT = WINDOW // 2
MLP_RATIO = 2
EX_DEPTH, FUSION_DEPTHS, RE_DEPTH = 4, (2, 2), 4
TRAIN_SIZE = 128  # the model's img_size: its stored attention masks are for 128 x 128 maps
LRELU_SLOPE = 0.2
MASKED = -100.0  # the authors' additive mask between tokens of different shifted regions
MIN_SIDE = 4  # smaller sides do not mirror-pad to a multiple of 8 (the authors' code fails)

COMMIT = "ceeec3fe935630b4d1f2f545984a7a6cb5133f62"
CT_FILE = WeightFile(
    "SwinFusion-CT-MRI/10000_E.pth", repository="Linfeng-Tang/SwinFusion", commit=COMMIT,
    path="Model/Medical_Fusion-CT-MRI/Medical_Fusion/models/10000_E.pth",
    git_blob="aebccd35a8728387fd957120d65bbfa15608455f",
    licence="none stated (the README asks to follow SwinIR's Apache-2.0)")
PET_FILE = WeightFile(
    "SwinFusion-PET-MRI/10000_E.pth", repository="Linfeng-Tang/SwinFusion", commit=COMMIT,
    path="Model/Medical_Fusion-PET-MRI/Medical_Fusion/models/10000_E.pth",
    git_blob="ffc2bfaeb99eb26df517d50d27fcc7400108c7a3",
    licence="none stated (the README asks to follow SwinIR's Apache-2.0)")
# second-image modality -> weight option; no SPECT model was published, the PET-MRI model
# is used for SPECT (as comparisons do); without a modality the CT-MRI model is used
MODEL_OF_MODALITY = {"CT": "weights_ct", "PET": "weights_pet", "SPECT": "weights_pet",
                     None: "weights_ct"}


def relative_position_index(window: int = WINDOW) -> torch.Tensor:
    """Row of the relative-position bias table for every (query, key) token pair of a
    window, tokens in row-major order: ``(dr + w - 1) * (2w - 1) + (dc + w - 1)`` for the
    offset (dr, dc) from key to query. int64, window^2 x window^2."""
    token = torch.arange(window * window)
    rows, cols = token // window, token % window
    d_row = rows[:, None] - rows[None, :] + window - 1
    d_col = cols[:, None] - cols[None, :] + window - 1
    return d_row * (2 * window - 1) + d_col


def window_partition(x: torch.Tensor, window: int = WINDOW) -> torch.Tensor:
    """(B, H, W, C) maps -> (B * windows, window^2, C) token groups, windows row-major."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window * window, c)


def window_merge(windows: torch.Tensor, h: int, w: int, window: int = WINDOW) -> torch.Tensor:
    """Inverse of :func:`window_partition`."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def shifted_window_mask(height: int, width: int, window: int = WINDOW,
                        shift: int = SHIFT) -> torch.Tensor:
    """Additive attention mask of shifted-window attention on an H x W map (Swin): after
    the cyclic shift, tokens of one window that come from different regions of the map
    (split at ``size - window`` and ``size - shift`` on each axis) get -100, others 0.
    float32, (windows, window^2, window^2)."""
    def bands(size: int) -> torch.Tensor:
        index = torch.arange(size)
        return (index >= size - window).long() + (index >= size - shift).long()

    region = bands(height)[:, None] * 3 + bands(width)[None, :]
    labels = window_partition(region[None, :, :, None], window)[..., 0]
    differ = labels[:, :, None] != labels[:, None, :]
    return torch.where(differ, MASKED, 0.0).float()


@dataclass(frozen=True)
class WindowGrid:
    """Token order for window attention on an H x W map.

    Tokens are kept in *window order* (8 x 8 windows row-major, tokens row-major within a
    window), so unshifted attention needs no reordering and norms and MLPs act per token.
    ``shifted`` gathers them into the windows of the map cyclically shifted by -4 (the
    authors' ``torch.roll`` then partition), ``unshifted`` puts them back. Of the shifted
    windows only those on the last window row and column straddle regions of the map:
    ``edge`` lists them and ``edge_mask`` holds their shifted-window masks (all other
    windows' masks are 0). Reordering only moves values: results are unchanged.
    """

    height: int
    width: int
    shifted: torch.Tensor
    unshifted: torch.Tensor
    edge: torch.Tensor
    edge_mask: torch.Tensor

    @classmethod
    def of(cls, height: int, width: int, device: torch.device) -> WindowGrid:
        image_index = torch.arange(height * width).view(1, height, width, 1)
        window_order = window_partition(image_index).flatten()
        shifted_order = window_partition(torch.roll(image_index, (-SHIFT, -SHIFT), (1, 2)))
        position = torch.argsort(window_order)  # image index -> place in window order
        shifted = position[shifted_order.flatten()]
        mask = shifted_window_mask(height, width)
        edge = mask.flatten(1).ne(0).any(1).nonzero().flatten()
        return cls(height, width, shifted.to(device), torch.argsort(shifted).to(device),
                   edge.to(device), mask[edge].to(device))

    def edge_windows(self, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices and masks of the edge windows among ``groups`` windows of a batch."""
        windows = (self.height // WINDOW) * (self.width // WINDOW)
        images = torch.arange(0, groups, windows, device=self.edge.device)
        return (images[:, None] + self.edge).flatten(), self.edge_mask.repeat(len(images), 1, 1)

    def tokens(self, maps: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) maps -> (B, H * W, C) tokens in window order."""
        return window_partition(maps.permute(0, 2, 3, 1)).view(len(maps), -1, maps.shape[1])

    def maps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`tokens`."""
        windows = tokens.view(-1, WINDOW * WINDOW, tokens.shape[-1])
        return window_merge(windows, self.height, self.width).permute(0, 3, 1, 2)


class WindowAttention(nn.Module):
    """Multi-head attention within windows, with a learned relative-position bias (Swin).

    Queries come from ``x``, keys and values from ``y`` (``y`` is ``x`` for
    self-attention). ``cross`` selects the authors' projection layout: ``q`` and ``kv``
    (their ``Cross_WindowAttention``) or one ``qkv`` (their ``WindowAttention``).
    """

    def __init__(self, cross: bool) -> None:
        super().__init__()
        self.cross = cross
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * WINDOW - 1) ** 2, HEADS))
        self.register_buffer("relative_position_index", relative_position_index(), persistent=False)
        if cross:
            self.q = nn.Linear(EMBED_DIM, EMBED_DIM)
            self.kv = nn.Linear(EMBED_DIM, 2 * EMBED_DIM)
        else:
            self.qkv = nn.Linear(EMBED_DIM, 3 * EMBED_DIM)
        self.proj = nn.Linear(EMBED_DIM, EMBED_DIM)

    def forward(self, x: torch.Tensor, y: torch.Tensor,
                shifted: WindowGrid | None) -> torch.Tensor:
        """x, y: (B * windows, N, C) tokens; ``shifted``: the grid when the windows are
        those of the shifted map (their edge windows are masked), else None."""
        groups, n, c = x.shape

        def split_heads(t: torch.Tensor, parts: int) -> torch.Tensor:  # -> parts, B*nW, h, N, d
            return t.view(groups, n, parts, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)

        if self.cross:
            q, (k, v) = split_heads(self.q(x), 1)[0], split_heads(self.kv(y), 2)
        else:
            q, k, v = split_heads(self.qkv(x), 3)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        bias = bias.view(n, n, HEADS).permute(2, 0, 1)[None]
        out = attention(q, k, v, bias)
        if shifted is not None:
            edge, mask = shifted.edge_windows(groups)
            out[edge] = attention(q[edge], k[edge], v[edge], bias + mask[:, None])
        return self.proj(out.transpose(1, 2).reshape(groups, n, c))


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              bias: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + bias) v, as the authors compute it explicitly, in torch's
    fused kernel (on CPU its flash path, with 4-D inputs)."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)


def window_attention(attn: WindowAttention, x: torch.Tensor, y: torch.Tensor,
                     shifted: WindowGrid | None) -> torch.Tensor:
    """Window attention of (B, L, C) window-ordered tokens; on the windows of the map
    cyclically shifted by -4 (with the shifted-window mask) when ``shifted`` is given."""
    b, length, c = x.shape
    if shifted is not None:
        same = y is x
        x = x[:, shifted.shifted]
        y = x if same else y[:, shifted.shifted]
    groups = (b * length // (WINDOW * WINDOW), WINDOW * WINDOW, c)
    out = attn(x.view(groups), y.view(groups), shifted).view(b, length, c)
    return out if shifted is None else out[:, shifted.unshifted]


class Mlp(nn.Sequential):
    """Linear, GELU, linear (hidden width MLP_RATIO x C)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(EMBED_DIM, MLP_RATIO * EMBED_DIM)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(MLP_RATIO * EMBED_DIM, EMBED_DIM)


class WindowBlock(nn.Module):
    """A transformer block on windows, shifted by ``shift`` (0 or 4)."""

    def __init__(self, shift: int) -> None:
        super().__init__()
        self.shift_size = shift

    def shifted(self, grid: WindowGrid) -> WindowGrid | None:
        """What :func:`window_attention` needs: the grid for a shifted block, else None."""
        return grid if self.shift_size else None


class SwinTransformerBlock(WindowBlock):
    """Pre-norm (shifted) window self-attention and MLP, each with a residual."""

    def __init__(self, shift: int) -> None:
        super().__init__(shift)
        self.norm1 = nn.LayerNorm(EMBED_DIM)
        self.attn = WindowAttention(cross=False)
        self.norm2 = nn.LayerNorm(EMBED_DIM)
        self.mlp = Mlp()

    def forward(self, x: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
        normed = self.norm1(x)
        x = x + window_attention(self.attn, normed, normed, self.shifted(grid))
        return x + self.mlp(self.norm2(x))


class CrossSwinTransformerBlock(WindowBlock):
    """The authors' cross-domain block: A's queries attend to B's keys and values and
    vice versa (one mask and shift for both), then each stream's MLP."""

    def __init__(self, shift: int) -> None:
        super().__init__(shift)
        self.norm1_A = nn.LayerNorm(EMBED_DIM)
        self.norm1_B = nn.LayerNorm(EMBED_DIM)
        self.attn_A = WindowAttention(cross=True)
        self.attn_B = WindowAttention(cross=True)
        self.norm2_A = nn.LayerNorm(EMBED_DIM)
        self.norm2_B = nn.LayerNorm(EMBED_DIM)
        self.mlp_A = Mlp()
        self.mlp_B = Mlp()

    def forward(self, x: torch.Tensor, y: torch.Tensor,
                grid: WindowGrid) -> tuple[torch.Tensor, torch.Tensor]:
        x_normed, y_normed = self.norm1_A(x), self.norm1_B(y)
        x = x + window_attention(self.attn_A, x_normed, y_normed, self.shifted(grid))
        y = y + window_attention(self.attn_B, y_normed, x_normed, self.shifted(grid))
        return x + self.mlp_A(self.norm2_A(x)), y + self.mlp_B(self.norm2_B(y))


class BasicLayer(nn.Module):
    """``depth`` blocks, every second one on shifted windows."""

    block: ClassVar[type[WindowBlock]] = SwinTransformerBlock

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(self.block(SHIFT if i % 2 else 0) for i in range(depth))

    def forward(self, x: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, grid)
        return x


class CrossBasicLayer(BasicLayer):
    """``depth`` cross-domain blocks, every second one on shifted windows."""

    block = CrossSwinTransformerBlock

    def forward(self, x: torch.Tensor, y: torch.Tensor,  # type: ignore[override]
                grid: WindowGrid) -> tuple[torch.Tensor, torch.Tensor]:
        for block in self.blocks:
            x, y = block(x, y, grid)
        return x, y


class RSTB(nn.Module):
    """The authors' residual Swin transformer block as in this model: one layer, with
    neither the convolution nor the residual connection of SwinIR's RSTB."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.residual_group = BasicLayer(depth)

    def forward(self, x: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
        return self.residual_group(x, grid)


class CRSTB(nn.Module):
    """A fusion stage: a Swin layer per source, then a cross-domain layer."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.residual_group = CrossBasicLayer(depth)
        self.residual_group_A = BasicLayer(depth)
        self.residual_group_B = BasicLayer(depth)

    def forward(self, x: torch.Tensor, y: torch.Tensor,
                grid: WindowGrid) -> tuple[torch.Tensor, torch.Tensor]:
        return self.residual_group(self.residual_group_A(x, grid),
                                   self.residual_group_B(y, grid), grid)


class PatchEmbed(nn.Module):
    """(B, C, H, W) feature maps to LayerNorm-ed tokens (patch size 1), window-ordered."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(EMBED_DIM)

    def forward(self, x: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
        return self.norm(grid.tokens(x))


def conv3x3(channels_in: int, channels_out: int) -> nn.Conv2d:
    return nn.Conv2d(channels_in, channels_out, 3, padding=1)


def leaky(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LRELU_SLOPE)


class SwinFusion(nn.Module):
    """The authors' medical SwinFusion network (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        half = EMBED_DIM // 2
        self.conv_first1_A = conv3x3(1, half)
        self.conv_first1_B = conv3x3(1, half)  # unused by the authors' forward
        self.conv_first2_A = conv3x3(half, EMBED_DIM)
        self.conv_first2_B = conv3x3(half, half)  # unused by the authors' forward
        self.patch_embed = PatchEmbed()
        self.layers_Ex_A = nn.ModuleList([RSTB(EX_DEPTH)])
        self.norm_Ex_A = nn.LayerNorm(EMBED_DIM)
        self.layers_Ex_B = nn.ModuleList([RSTB(EX_DEPTH)])
        self.norm_Ex_B = nn.LayerNorm(EMBED_DIM)
        self.layers_Fusion = nn.ModuleList(CRSTB(depth) for depth in FUSION_DEPTHS)
        self.norm_Fusion_A = nn.LayerNorm(EMBED_DIM)
        self.norm_Fusion_B = nn.LayerNorm(EMBED_DIM)
        self.layers_Re = nn.ModuleList([RSTB(RE_DEPTH)])
        self.norm_Re = nn.LayerNorm(EMBED_DIM)
        self.conv_after_body_Fusion = conv3x3(2 * EMBED_DIM, EMBED_DIM)
        self.conv_last1 = conv3x3(EMBED_DIM, half)
        self.conv_last2 = conv3x3(half, half // 2)
        self.conv_last3 = conv3x3(half // 2, 1)

    def extract(self, image: torch.Tensor, layers: nn.ModuleList, norm: nn.LayerNorm,
                grid: WindowGrid) -> torch.Tensor:
        """Shallow convolutions (the A branch's, for either source), Swin layers, norm."""
        x = self.patch_embed(leaky(self.conv_first2_A(leaky(self.conv_first1_A(image)))), grid)
        for layer in layers:
            x = layer(x, grid)
        return norm(x)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """MRI ``a`` and CT / PET-Y ``b``, (N, 1, H, W) in [0, 1] with H and W multiples of
        8, to the fused (N, 1, H, W), unclamped."""
        grid = WindowGrid.of(*a.shape[-2:], a.device)
        x = self.extract(a, self.layers_Ex_A, self.norm_Ex_A, grid)
        y = self.extract(b, self.layers_Ex_B, self.norm_Ex_B, grid)
        x, y = self.patch_embed.norm(x), self.patch_embed.norm(y)  # re-embedded for fusion
        for layer in self.layers_Fusion:
            x, y = layer(x, y, grid)
        fused = torch.cat([self.norm_Fusion_A(x), self.norm_Fusion_B(y)], dim=-1)
        x = self.patch_embed(leaky(self.conv_after_body_Fusion(grid.maps(fused))), grid)
        for layer in self.layers_Re:
            x = layer(x, grid)
        x = grid.maps(self.norm_Re(x))
        return self.conv_last3(leaky(self.conv_last2(leaky(self.conv_last1(x)))))

    def structural_buffers(self) -> dict[str, torch.Tensor]:
        """The non-trained buffers the authors' modules store in their state dict,
        recomputed: each attention's ``relative_position_index`` and each shifted block's
        ``attn_mask`` for the training size (128 x 128)."""
        buffers = dict(self.named_buffers())
        mask = shifted_window_mask(TRAIN_SIZE, TRAIN_SIZE)
        buffers.update({f"{name}.attn_mask": mask for name, module in self.named_modules()
                        if isinstance(module, WindowBlock) and module.shift_size})
        return buffers


def first_mismatch(found: Mapping[str, Any], model: SwinFusion) -> str | None:
    """What first keeps a state dict from being the authors' file for ``model`` (in the
    file's key order: an unexpected key, a shape or dtype, a structural buffer that
    differs from the recomputed one; then a missing key), or None when it fits."""
    structural = model.structural_buffers()
    expected = {**model.state_dict(), **structural}
    for key, value in found.items():
        if key not in expected:
            return f"unexpected key {key!r}"
        want = expected[key]
        if not isinstance(value, torch.Tensor):
            return f"key {key!r} is a {type(value).__name__}, not a tensor"
        if value.shape != want.shape or value.dtype != want.dtype:
            return (f"key {key!r} is {value.dtype} {list(value.shape)}, "
                    f"expected {want.dtype} {list(want.shape)}")
        if key in structural and not torch.equal(value, want):
            return f"key {key!r} differs from the recomputed buffer"
    missing = next((key for key in expected if key not in found), None)
    return None if missing is None else f"missing key {missing!r}"


def load_swinfusion(path: str | Path) -> SwinFusion:
    """The network with the weights of an authors' ``10000_E.pth`` (a bare state dict;
    a ``params`` entry is used if present, as the authors' loader does). Every entry is
    checked: structural buffers must equal the recomputed ones, which the network uses."""
    fix = "get the released files with 'mmif-bench fetch weights swinfusion'"
    state = load_torch_file(path)
    if isinstance(state, Mapping) and "params" in state:
        state = state["params"]
    model = SwinFusion()
    problem = (first_mismatch(state, model) if isinstance(state, Mapping)
               else f"found a {type(state).__name__}, not a state dict")
    if problem:
        raise ValueError(f"{path}: not the authors' SwinFusion medical model "
                         f"(10000_E.pth): {problem}; {fix}")
    model.load_state_dict({key: state[key] for key in model.state_dict()}, strict=True)
    return model.eval()


def mirror_pad(x: torch.Tensor) -> torch.Tensor:
    """The authors' test-time padding of (N, C, H, W): append the flipped image below,
    then to the right, and cut each side to the next multiple of 8 above it
    (256 -> 264; numpy's ``symmetric`` padding)."""
    h, w = x.shape[-2:]
    x = torch.cat([x, x.flip(-2)], dim=-2)[..., : (h // WINDOW + 1) * WINDOW, :]
    return torch.cat([x, x.flip(-1)], dim=-1)[..., : (w // WINDOW + 1) * WINDOW]


@torch.no_grad()
def fuse_float(model: SwinFusion, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The authors' medical inference up to the 8-bit conversion: (N, 1, H, W) MRI ``a``
    and CT / PET-Y ``b`` in [0, 1], mirror-padded, fused, cropped back; unclamped."""
    h, w = a.shape[-2:]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"swinfusion needs images of at least {MIN_SIDE} x {MIN_SIDE} "
                         f"pixels, got {h} x {w}")
    return model(mirror_pad(a), mirror_pad(b))[..., :h, :w]


def to_8bit(fused: torch.Tensor) -> torch.Tensor:
    """The authors' output conversion: clamp to [0, 1], x255, round half to even."""
    return (fused.clamp(0.0, 1.0) * 255.0).round()


BIBTEX = """@article{Ma2022SwinFusion,
  author  = {Ma, Jiayi and Tang, Linfeng and Fan, Fan and Huang, Jun and Mei, Xiaoguang and Ma, Yong},
  title   = {SwinFusion: Cross-domain Long-range Learning for General Image Fusion via Swin Transformer},
  journal = {IEEE/CAA Journal of Automatica Sinica},
  volume  = {9},
  number  = {7},
  pages   = {1200--1217},
  year    = {2022}
}"""


class SwinFusionMethod(PublishedNetwork):
    """SwinFusion with the authors' released medical models, as their test script runs them.

    MRI is source A and the CT, or the luma Y of PET / SPECT, is source B (the network is
    not symmetric); both are taken as the 8-bit images the authors' script reads (rounded
    to 1/255). Both are mirror-padded to the next multiple of 8 above their size
    (256 -> 264), fused, cropped back; the output is clamped to [0, 1], scaled by 255 and
    rounded (half to even) as the authors save it; the method returns that 8-bit image / 255.

    Models: MRI-CT pairs use the CT-MRI model, MRI-PET pairs the PET-MRI model. The authors
    published no SPECT model; MRI-SPECT pairs use the PET-MRI model (as comparisons do).
    Without a modality (a direct call) the CT-MRI model is used. Both files are needed
    (the method is not runnable without them) and both are loaded, checked key by key, at
    start-up. Trained for: MRI-CT and MRI-PET fusion, on Harvard AANLIB pairs of the
    authors' own split (64 x 64 patches; the 10000-iteration EMA snapshot ``10000_E.pth``,
    which the test script loads).

    Licence: the authors' repository carries no licence file (its README asks users to
    follow the licence of SwinIR, Apache-2.0, on which the code is based); the weights are
    fetched by the user (``mmif-bench fetch weights swinfusion``) and never shipped here.
    Deterministic: one forward pass, no sampling.

    Parameters
    ----------
    weights_ct, weights_pet : path
        The authors' ``Model/Medical_Fusion-CT-MRI/Medical_Fusion/models/10000_E.pth`` and
        the same file under ``Medical_Fusion-PET-MRI``; default: ``SwinFusion-CT-MRI/10000_E.pth``
        and ``SwinFusion-PET-MRI/10000_E.pth`` in ``$MMIF_BENCH_WEIGHTS`` or the fetched store.
    device : str
        ``"cpu"`` (default), ``"cuda"`` or ``"auto"`` (CUDA when torch sees a GPU).

    References
    ----------
    J. Ma, L. Tang, F. Fan, J. Huang, X. Mei and Y. Ma, "SwinFusion: Cross-domain long-range
    learning for general image fusion via Swin transformer", IEEE/CAA Journal of Automatica
    Sinica 9(7), 1200-1217, 2022.
    """

    name = "swinfusion"
    display_name = "SwinFusion"
    bibtex = BIBTEX
    modalities = ("CT", "PET", "SPECT")
    weight_files = {"weights_ct": CT_FILE, "weights_pet": PET_FILE}
    options = {
        "weights_ct": Option("", f"CT-MRI 10000_E.pth; default ${WEIGHTS_ENV}/{CT_FILE.name}", "path"),
        "weights_pet": Option("", f"PET-MRI 10000_E.pth (also used for SPECT); default "
                              f"${WEIGHTS_ENV}/{PET_FILE.name}", "path"),
        "device": DEVICE_OPTION,
    }

    def load_weights(self) -> None:
        paths = {key: self.weight_path(key) for key in self.weight_files}
        self.models = {key: load_swinfusion(path).to(self.device) for key, path in paths.items()}

    def model_for(self, modality: str | None) -> SwinFusion:
        """The network of pairs whose second image is ``modality`` (None: CT-MRI)."""
        if modality not in MODEL_OF_MODALITY:
            raise ValueError(f"swinfusion has models for MRI-CT, MRI-PET and MRI-SPECT, "
                             f"not for modality {modality!r}")
        return self.models[MODEL_OF_MODALITY[modality]]

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        model = self.model_for(modality)
        sources = [torch.from_numpy(np.float32(luma_uint8(x) / 255.0)).to(self.device)[:, None]
                   for x in (a, b)]  # the 8-bit images read
        fused = to_8bit(fuse_float(model, *sources)) / 255.0
        return fused[:, 0].cpu().numpy().astype(np.float32, copy=False)
