"""The unsupervised hybrid loss of DM-FNet Stage II (He et al., TMM 2025).

With sources A (MRI), B (the other modality's Y) and fused F in [-1, 1]:
intensity 1.5 * L1(F, max(A, B)); gradient L1(|Sobel F|, max(|Sobel A|, |Sobel B|)) with
|Sobel| = |gx| + |gy|; structure 0.5 * (1 - SSIM_sel), SSIM without the luminance term that
compares F at each pixel with the source of larger local standard deviation (ties: A).
Borders as in the authors' ``models/fs_loss.py``: the Sobel filters and the 11 x 11 SSIM
windows run over zero padding, so every map has the image's size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
C2 = 0.03 ** 2
WINDOW = 11


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """|gx| + |gy| of N x 1 x H x W images (zero padding)."""
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.T.flip(0)])[:, None].to(x)
    return F.conv2d(x, kernel, padding=1).abs().sum(1, keepdim=True)


def _gaussian_window(size: int = WINDOW, sigma: float = 1.5) -> torch.Tensor:
    r = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None])[None, None]


def selective_ssim(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean contrast-structure SSIM of F against, per pixel, the source of larger local std.

    11 x 11 Gaussian window (sigma 1.5) over zero padding ('same' size), C2 = 0.03^2. Where
    the std of A is at least B's, A is chosen; a negative variance from rounding (a NaN std)
    chooses B, as in the authors' comparison of square roots.
    """
    window = _gaussian_window().to(f)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, padding=WINDOW // 2)

    mu_f, mu_a, mu_b = blur(f), blur(a), blur(b)
    var_f = blur(f * f) - mu_f ** 2
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cs_a = (2 * (blur(f * a) - mu_f * mu_a) + C2) / (var_f + var_a + C2)
    cs_b = (2 * (blur(f * b) - mu_f * mu_b) + C2) / (var_f + var_b + C2)
    return torch.where(var_a.sqrt() >= var_b.sqrt(), cs_a, cs_b).mean()


def hybrid_loss(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three terms and their sum ``total`` for N x 1 x H x W tensors in [-1, 1];
    ``a`` is the MRI, ``b`` the other source."""
    f, a, b = f.float(), a.float(), b.float()
    terms = {
        "intensity": 1.5 * F.l1_loss(f, torch.maximum(a, b)),
        "gradient": F.l1_loss(sobel_magnitude(f),
                              torch.maximum(sobel_magnitude(a), sobel_magnitude(b))),
        "ssim": 0.5 * (1 - selective_ssim(f, a, b)),
    }
    terms["total"] = terms["intensity"] + terms["gradient"] + terms["ssim"]
    return terms
