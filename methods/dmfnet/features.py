"""Stage II feature extraction of DM-FNet (He et al., TMM 2025): the frozen UNet's decoder
features of both sources, each lightly noised at a few steps t.

As in the authors' ``GaussianDiffusion.feats``, every UNet pass draws its noise level
gamma ~ U(sqrt ab_t, sqrt ab_{t-1}) and a standard normal image; here both come from a
seeded generator. The 2 sources x len(t) noisings of a batch of pairs run as one UNet batch.
"""
from __future__ import annotations

import torch

from .diffusion import Diffusion
from .unet import UNet


def draw_noise(diffusion: Diffusion, timesteps: tuple[int, ...], shape: tuple[int, ...],
               generator: torch.Generator, noise: bool = True,
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The random draws of one feature extraction.

    Parameters
    ----------
    shape
        N x 1 x H x W, the shape of one source's batch.
    noise
        Draw the Gaussian term; ``False`` gives ``None`` (x_t = gamma x0).

    Returns
    -------
    gammas, len(timesteps) x 2 x N (step, source, pair), and the standard normal draws,
    len(timesteps) x 2 x N x 1 x H x W, or ``None``.
    """
    k, n = len(timesteps), shape[0]
    t = torch.tensor(timesteps)[:, None, None].expand(k, 2, n)
    gammas = diffusion.gamma_between(t, torch.rand(k, 2, n, generator=generator,
                                                   dtype=torch.float64))
    eps = torch.randn(k, 2, *shape, generator=generator) if noise else None
    return gammas, eps


@torch.no_grad()
def extract_features(unet: UNet, a: torch.Tensor, b: torch.Tensor, gammas: torch.Tensor,
                     noise: torch.Tensor | None,
                     ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Multi-step decoder features of both sources.

    Parameters
    ----------
    unet
        The frozen Stage I UNet.
    a, b
        Sources, N x 1 x H x W in [-1, 1] (a: the MRI).
    gammas, noise
        As returned by :func:`draw_noise` (``noise=None``: no Gaussian term).

    Returns
    -------
    Per source, one tensor per decoder scale (coarse to fine) of shape
    N x (k * C) x h x w: the k timesteps' features stacked on the channel axis.
    """
    k, n = gammas.shape[0], a.shape[0]
    x0 = torch.cat([a, b]).repeat(k, 1, 1, 1)
    gamma = gammas.reshape(-1).to(a.device)
    eps = None if noise is None else noise.reshape(x0.shape)
    noisy = Diffusion.q_sample(x0, gamma, eps)
    out_a, out_b = [], []
    for f in unet(noisy, gamma, features=True):
        f = f.reshape(k, 2, n, *f.shape[1:]).transpose(0, 2)  # n, 2, k, c, h, w
        out_a.append(f[:, 0].flatten(1, 2))
        out_b.append(f[:, 1].flatten(1, 2))
    return out_a, out_b
