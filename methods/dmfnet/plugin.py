"""The ``dmfnet`` fusion method: DM-FNet inference (He et al., IEEE TMM 2025).

Each pair's sources, noised at the steps t of the checkpoint (5, 10, 20), go through the
frozen Stage I UNet as one batch (2 sources x 3 steps); the Stage II fusion network turns
the five-scale decoder features into the fused image. No reverse sampling loop.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from mmif_bench.method import Method, Option

from .diffusion import Diffusion
from .features import extract_features
from .fusion_net import FusionNet
from .train import main as train_main, unet_config
from .unet import UNet

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "dmfnet_cpu.pt"


class DMFNetFusion(Method):
    """DM-FNet: diffusion-trained UNet features fused by a learned attention network.

    The noise draws come from a generator seeded with ``seed`` for every pair, so a pair's
    result does not depend on the batch it is fused in.
    """

    name: ClassVar[str] = "dmfnet"
    bibtex: ClassVar[str] = """@article{he2025dmfnet,
  author  = {He, Dan and Li, Weisheng and Wang, Guofen and Huang, Yuping and Liu, Shiqiang},
  title   = {{DM-FNet}: Unified multimodal medical image fusion via diffusion process-trained encoder-decoder},
  journal = {IEEE Transactions on Multimedia},
  year    = {2025},
  eprint  = {2506.15218},
  archivePrefix = {arXiv}
}"""
    version: ClassVar[str] = "1"
    options: ClassVar[dict[str, Option]] = {
        "weights": Option("", "Stage II inference checkpoint (UNet + fusion network), written "
                          "by `mmif-bench train dmfnet --stage 2`; empty: the shipped cpu-preset "
                          "weights", "path"),
        "seed": Option(0, "seed of the feature-extraction noise", "int"),
        "device": Option("auto", "auto, cpu or cuda", "str"),
        "batch": Option(4, "pairs per forward pass", "int"),
    }

    #: ``mmif-bench train dmfnet ARGS`` forwards ARGS here (see :mod:`.train`).
    train_main = staticmethod(train_main)

    def __init__(self, **config: object) -> None:
        super().__init__(**config)
        device = str(self.config["device"])
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        path = self.option_path("weights")
        if not path.is_file():
            raise FileNotFoundError(
                f"DM-FNet weights {path} not found; train them with `mmif-bench train dmfnet "
                f"--stage 1` and `--stage 2`, then pass dmfnet:weights=OUT/stage2/final.pt")
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if "fusion" not in ckpt:
            raise ValueError(f"{path} is not a Stage II inference checkpoint (no fusion weights)")
        cfg = ckpt["config"]
        self.unet = UNet(unet_config(cfg["unet"]))
        self.unet.load_state_dict({k: v.float() for k, v in ckpt["unet"].items()})
        self.timesteps = tuple(cfg["timesteps"])
        self.net = FusionNet(self.unet.config.feature_channels, len(self.timesteps))
        self.net.load_state_dict({k: v.float() for k, v in ckpt["fusion"].items()})
        self.unet.to(self.device).eval()
        self.net.to(self.device).eval()
        self.diffusion = Diffusion(cfg["feature_schedule"], cfg["diffusion_steps"])

    def option_path(self, key: str) -> Path | None:
        if key == "weights" and not self.config["weights"]:
            return DEFAULT_WEIGHTS
        return super().option_path(key)

    def fuse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.fuse_batch(a[None], b[None])[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Fuse N x H x W stacks in [0, 1]; any H, W (padded to the UNet's multiple)."""
        size = int(self.config["batch"])
        return np.concatenate([self._fuse_chunk(a[i:i + size], b[i:i + size])
                               for i in range(0, len(a), size)])

    @torch.no_grad()
    def _fuse_chunk(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n, h, w = a.shape
        m = self.unet.config.multiple
        pad = (0, -w % m, 0, -h % m)
        ta, tb = (F.pad(torch.from_numpy(np.asarray(x, np.float32) * 2 - 1)[:, None], pad,
                        mode="replicate").to(self.device) for x in (a, b))
        shape = (len(self.timesteps), 2, 1, *ta.shape[1:])
        noise = torch.cat([torch.randn(shape, generator=torch.Generator().manual_seed(
            int(self.config["seed"]))) for _ in range(n)], dim=2)
        autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda"
                    else nullcontext())
        with autocast:
            feats_a, feats_b = extract_features(self.unet, self.diffusion, ta, tb,
                                                self.timesteps, noise)
            fused = self.net(feats_a, feats_b)
        out = (fused.float()[:, 0, :h, :w] + 1) / 2
        return out.clamp(0, 1).cpu().numpy()
