"""Stage II feature extraction of DM-FNet (He et al., TMM 2025): the frozen UNet's decoder
features of both sources, each lightly noised at a few steps t.

The 2 sources x len(t) noisings of a batch of pairs run as one UNet batch.
"""
from __future__ import annotations

import torch

from .diffusion import Diffusion
from .unet import UNet


@torch.no_grad()
def extract_features(unet: UNet, diffusion: Diffusion, a: torch.Tensor, b: torch.Tensor,
                     timesteps: tuple[int, ...], noise: torch.Tensor,
                     ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Multi-step decoder features of both sources.

    Parameters
    ----------
    unet, diffusion
        The frozen Stage I UNet and the schedule that sets the noise level at each step t.
    a, b
        Sources, N x 1 x H x W in [-1, 1].
    timesteps
        The steps t (the paper: 5, 10, 20).
    noise
        Standard normal draws, len(timesteps) x 2 x N x 1 x H x W (step, source, pair).

    Returns
    -------
    Per source, one tensor per decoder scale (coarse to fine) of shape
    N x (len(timesteps) * C) x h x w: the timesteps' features stacked on the channel axis.
    """
    n, k = a.shape[0], len(timesteps)
    x0 = torch.cat([a, b]).repeat(k, 1, 1, 1)
    t = torch.tensor(timesteps).repeat_interleave(2 * n)
    gamma = diffusion.gamma_at(t).to(a.device)
    noisy = diffusion.q_sample(x0, gamma, noise.reshape(x0.shape))
    out_a, out_b = [], []
    for f in unet(noisy, gamma, features=True):
        f = f.reshape(k, 2, n, *f.shape[1:]).transpose(0, 2)  # n, 2, k, c, h, w
        out_a.append(f[:, 0].flatten(1, 2))
        out_b.append(f[:, 1].flatten(1, 2))
    return out_a, out_b
