"""The unsupervised hybrid loss of DM-FNet Stage II (He et al., TMM 2025).

With sources A, B and fused F in [-1, 1]:
intensity 1.5 * L1(F, max(A, B)); gradient L1(|Sobel F|, max(|Sobel A|, |Sobel B|)) with
|Sobel| = |gx| + |gy|; structure 0.5 * (1 - SSIM_sel), SSIM without the luminance term that
compares F at each pixel with the source of larger local standard deviation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
C2 = 0.03 ** 2


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """|gx| + |gy| of N x 1 x H x W images (replicate padding)."""
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.T])[:, None].to(x)
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel)
    return g.abs().sum(1, keepdim=True)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    r = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None])[None, None]


def selective_ssim(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean contrast-structure SSIM of F against, per pixel, the source of larger local std.

    11 x 11 Gaussian window (sigma 1.5), valid positions only, C2 = 0.03^2.
    """
    window = _gaussian_window().to(f)
    mu = {k: F.conv2d(v, window) for k, v in (("f", f), ("a", a), ("b", b))}
    var_f = F.conv2d(f * f, window) - mu["f"] ** 2
    var_a = F.conv2d(a * a, window) - mu["a"] ** 2
    var_b = F.conv2d(b * b, window) - mu["b"] ** 2
    cov_a = F.conv2d(f * a, window) - mu["f"] * mu["a"]
    cov_b = F.conv2d(f * b, window) - mu["f"] * mu["b"]
    cs_a = (2 * cov_a + C2) / (var_f + var_a + C2)
    cs_b = (2 * cov_b + C2) / (var_f + var_b + C2)
    return torch.where(var_a >= var_b, cs_a, cs_b).mean()


def hybrid_loss(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three terms and their sum ``total`` for N x 1 x H x W tensors in [-1, 1]."""
    f, a, b = f.float(), a.float(), b.float()
    terms = {
        "intensity": 1.5 * F.l1_loss(f, torch.maximum(a, b)),
        "gradient": F.l1_loss(sobel_magnitude(f),
                              torch.maximum(sobel_magnitude(a), sobel_magnitude(b))),
        "ssim": 0.5 * (1 - selective_ssim(f, a, b)),
    }
    terms["total"] = terms["intensity"] + terms["gradient"] + terms["ssim"]
    return terms
