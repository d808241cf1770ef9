"""The forward diffusion process of DM-FNet (He et al., TMM 2025, Stage I; SR3 conventions).

T = 2000 steps. Training draws one t per batch uniformly in 1..T and, per image, a
continuous noise level gamma uniformly between sqrt(alpha_bar_t) and sqrt(alpha_bar_{t-1})
(the authors' ``GaussianDiffusion.p_losses``); the UNet predicts the clean image x0 and is
trained with the mean squared error. Stage II features read gamma the same way at its few
steps t (``GaussianDiffusion.feats``).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SCHEDULES = ("cosine", "linear")


def alpha_bar(schedule: str, steps: int = 2000) -> np.ndarray:
    """alpha_bar_t for t = 0..steps (alpha_bar_0 = 1), float64.

    ``cosine`` is Nichol & Dhariwal's (s = 0.008, betas clipped at 0.999), used in Stage I;
    ``linear`` has betas from 1e-6 to 1e-2, the schedule of the released Stage II code.
    """
    if schedule == "cosine":
        s = 8e-3
        f = np.cos((np.arange(steps + 1) / steps + s) / (1 + s) * math.pi / 2) ** 2
        betas = np.clip(1 - f[1:] / f[:-1], 0.0, 0.999)
    elif schedule == "linear":
        betas = np.linspace(1e-6, 1e-2, steps)
    else:
        raise ValueError(f"unknown noise schedule {schedule!r}; use one of {SCHEDULES}")
    return np.concatenate([[1.0], np.cumprod(1.0 - betas)])


class Diffusion:
    """Noise schedule, noising and the x0-prediction loss.

    Parameters
    ----------
    schedule
        ``"cosine"`` or ``"linear"`` (see :func:`alpha_bar`).
    steps
        Number of diffusion steps T.
    """

    def __init__(self, schedule: str = "cosine", steps: int = 2000) -> None:
        self.steps = steps
        self.sqrt_alpha_bar = torch.from_numpy(np.sqrt(alpha_bar(schedule, steps)))

    def gamma_between(self, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """gamma = sqrt ab_t + (sqrt ab_{t-1} - sqrt ab_t) u for steps ``t`` and uniform
        draws ``u`` in [0, 1) (float64 in, float32 out)."""
        low, high = self.sqrt_alpha_bar[t], self.sqrt_alpha_bar[t - 1]
        return (low + (high - low) * u.double()).float()

    def sample_gamma(self, n: int, generator: torch.Generator, low_t_fraction: float = 0.0,
                     low_t_max: int = 0) -> torch.Tensor:
        """n continuous noise levels of one batch: one t for the batch, t ~ U{1..T} (with
        probability ``low_t_fraction`` instead t ~ U{1..low_t_max}), then per image
        gamma ~ U(sqrt ab_t, sqrt ab_{t-1})."""
        low_t = torch.rand((), generator=generator) < low_t_fraction
        t_max = low_t_max if low_t else self.steps
        t = torch.randint(1, t_max + 1, (1,), generator=generator).expand(n)
        return self.gamma_between(t, torch.rand(n, generator=generator, dtype=torch.float64))

    @staticmethod
    def q_sample(x0: torch.Tensor, gamma: torch.Tensor,
                 eps: torch.Tensor | None) -> torch.Tensor:
        """Noise x0 to level gamma with standard normal ``eps``:
        gamma x0 + sqrt(1 - gamma^2) eps; ``eps=None`` leaves out the Gaussian term."""
        g = gamma.to(x0).view(-1, *([1] * (x0.dim() - 1)))
        if eps is None:
            return g * x0
        return g * x0 + (1 - g * g).sqrt() * eps.to(x0)

    def loss(self, unet: nn.Module, x0: torch.Tensor, generator: torch.Generator,
             low_t_fraction: float = 0.0, low_t_max: int = 0) -> torch.Tensor:
        """Stage I objective: MSE between the UNet's x0 prediction and x0 (noise drawn on the
        CPU from ``generator``, so a seed gives the same draws on every device); the t
        sampling as in :meth:`sample_gamma`."""
        gamma = self.sample_gamma(x0.shape[0], generator, low_t_fraction, low_t_max)
        noisy = self.q_sample(x0, gamma, torch.randn(x0.shape, generator=generator))
        return F.mse_loss(unet(noisy, gamma.to(x0.device)).float(), x0.float())
