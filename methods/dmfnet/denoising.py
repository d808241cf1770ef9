"""How well a Stage I UNet of DM-FNet predicts x0 at given noise levels (PSNR), on
Harvard test images: the quantity behind the Stage II features (issue 14's ablation of the
Stage I t-sampling)::

    python -m mmif_bench.methods.dmfnet.denoising --data-root DIR --unet A.pt --unet B.pt

PSNR over [-1, 1] (peak-to-peak 2), of the noisy input and of the UNet's x0 prediction,
per noise level: the linear-schedule steps t = 5, 10, 20 Stage II reads, and cosine-schedule
steps of the whole Stage I range.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from mmif_bench.colour import split_source
from mmif_bench.registry import create_dataset

from .diffusion import Diffusion
from .train import load_unet

LEVELS = (("linear", 5), ("linear", 10), ("linear", 20), ("cosine", 200), ("cosine", 1000))


def psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2)."""
    return float(10 * torch.log10(4 / ((x - ref) ** 2).mean()))


def test_images(data_root: str | Path, per_type: int) -> torch.Tensor:
    """The first ``per_type`` test pairs of each pair type, both sources, N x 1 x H x W."""
    listing = create_dataset("harvard", data_root).list_pairs("test")
    images, taken = [], {}
    for pair in listing.pairs:
        if taken.get(pair.pair_type, 0) < per_type:
            taken[pair.pair_type] = taken.get(pair.pair_type, 0) + 1
            images += [split_source(image.pixels)[0] for image in pair.load()]
    return torch.from_numpy(np.stack(images))[:, None] * 2 - 1


@torch.inference_mode()
def denoising_psnr(unet_path: str | Path, x0: torch.Tensor, seed: int = 0) -> dict[str, dict]:
    """{level name: {"input_db", "x0_db"}} of one UNet checkpoint."""
    unet, _ = load_unet(unet_path)
    out = {}
    for schedule, t in LEVELS:
        gamma = Diffusion(schedule).sqrt_alpha_bar[t].float().expand(len(x0))
        eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
        noisy = Diffusion.q_sample(x0, gamma, eps)
        pred = torch.cat([unet(noisy[i:i + 4], gamma[i:i + 4]) for i in range(0, len(x0), 4)])
        out[f"{schedule} t={t}"] = {"input_db": psnr(noisy, x0), "x0_db": psnr(pred, x0)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--unet", action="append", required=True, help="Stage I checkpoint")
    parser.add_argument("--per-type", type=int, default=4, help="test pairs per pair type")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    x0 = test_images(args.data_root, args.per_type)
    result = {path: denoising_psnr(path, x0) for path in args.unet}
    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
