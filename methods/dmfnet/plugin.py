"""The ``dmfnet`` fusion method: DM-FNet inference (He et al., IEEE TMM 2025).

Each pair's sources, noised at the steps t of the checkpoint (5, 10, 20), go through the
frozen Stage I UNet as one batch (2 sources x 3 steps); the Stage II fusion network turns
the five-scale decoder features into the fused image. No reverse sampling loop.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from mmif_bench.method import Method, Option
from mmif_bench.weights import WeightFile, load_torch_file
from mmif_bench.weights.store import hash_once

from .checkpoints import build_head, build_unet, read_authors_unet, read_state
from .diffusion import Diffusion
from .features import draw_noise, extract_features
from .provenance import ModelSource, describe_authors, describe_ours
from .train import mixed_precision

SHIPPED = Path(__file__).resolve().parent / "weights"
"""The models shipped in the package: ``dmfnet_NAME.pt``, chosen by ``weights=NAME``."""
DEFAULT_MODEL = "cpu"
DEFAULT_WEIGHTS = SHIPPED / f"dmfnet_{DEFAULT_MODEL}.pt"


def shipped_models() -> list[str]:
    """Names of the shipped models (``weights=NAME``)."""
    return sorted(p.stem.removeprefix("dmfnet_") for p in SHIPPED.glob("dmfnet_*.pt")
                  if not p.stem.endswith("_stage1_unet"))
AUTHORS = "authors"
_AUTHORS = {"repository": "HeDan-11/DM-FNet", "commit": "c1b14b851113d087c87ad8da4d55de6ce2deec6b",
            "licence": "none stated"}
AUTHORS_FILES = {
    "unet": WeightFile("DM-FNet/I630000_E14000_gen.pth", path="pth/I630000_E14000_gen.pth",
                       git_blob="fe2cbb32bc54cb68ca7894040e8503df80ea3162", **_AUTHORS),
    "head": WeightFile("DM-FNet/MIF.pth", path="pth/MIF.pth",
                       git_blob="1e1e9f2765b267350a8989e83bb8b1478373e4d8", **_AUTHORS)}
"""The authors' released Stage I and head files (``weights=authors`` loads them)."""
AUTHORS_TIMESTEPS = (5, 10, 20)
"""The feature steps and schedule of the authors' test configuration."""
AUTHORS_SCHEDULE = "linear"


class DMFNetFusion(Method):
    """DM-FNet: diffusion-trained UNet features fused by a learned attention network.

    The noise levels and noise images come from a generator seeded with ``seed`` for every
    pair, so a pair's result does not depend on the batch it is fused in.
    """

    name: ClassVar[str] = "dmfnet"
    bibtex: ClassVar[str] = """@article{he2025dmfnet,
  author  = {He, Dan and Li, Weisheng and Wang, Guofen and Huang, Yuping and Liu, Shiqiang},
  title   = {{DM-FNet}: Unified multimodal medical image fusion via diffusion
             process-trained encoder-decoder},
  journal = {IEEE Transactions on Multimedia},
  year    = {2025},
  eprint  = {2506.15218},
  archivePrefix = {arXiv}
}"""
    version: ClassVar[str] = "2"
    options: ClassVar[dict[str, Option]] = {
        "weights": Option("", "Stage II inference checkpoint (UNet + fusion network), written "
                          "by `mmif-bench train dmfnet --stage 2`; empty: the default shipped model; "
                          "a shipped model's name (cpu, cpu32, ...); "
                          "'authors': the authors' released files (mmif-bench fetch weights "
                          "dmfnet-authors)", "path"),
        "unet": Option("", "a Stage I file as the authors save it (their diffusion wrapper's "
                       "state dict); replaces the UNet of `weights`", "path"),
        "head": Option("", "a Stage II fusion-head file as the authors save it; replaces the "
                       "fusion network of `weights`", "path"),
        "groups": Option(0, "GroupNorm groups of a `unet` file (not stored in it); 0: width/4, "
                         "the authors' 32 at width 128", "int"),
        "noise": Option(True, "add the Gaussian term to the feature inputs; false: "
                        "x_t = gamma x0 (exact comparisons, ablation)", "bool"),
        "seed": Option(0, "seed of the feature-extraction noise levels and noise", "int"),
        "device": Option("auto", "auto, cpu or cuda", "str"),
        "precision": Option("auto", "auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16",
                            "str"),
        "batch": Option(4, "pairs per forward pass", "int"),
        "channels_last": Option(True, "run both networks in channels-last memory format "
                                "(faster convolutions on CPU; the same numbers to float "
                                "rounding)", "bool"),
    }

    weight_files: ClassVar[dict[str, WeightFile]] = AUTHORS_FILES

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        device = str(self.config["device"])
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        groups = int(self.config["groups"])
        if self._authors_only(self.config):
            paths = {key: self.weight_path(key) for key in AUTHORS_FILES}
            self.unet = read_authors_unet(paths["unet"], groups)
            self.net, steps = build_head(read_state(paths["head"]), str(paths["head"]))
            self.timesteps, schedule, diffusion_steps = AUTHORS_TIMESTEPS, AUTHORS_SCHEDULE, 2000
            released = all(hash_once(paths[key], "git blob") == file.git_blob
                           for key, file in AUTHORS_FILES.items())
            self.source = describe_authors(paths, released, unet=self.unet, head=self.net)
        else:
            self._load_ours(self.weight_path("weights"))
            steps = len(self.timesteps)
            schedule, diffusion_steps = self._schedule
            replaced = {key: self.weight_path(key) for key in ("unet", "head")
                        if self.config[key]}
            if "unet" in replaced:
                self.unet = read_authors_unet(replaced["unet"], groups)
            if "head" in replaced:
                self.net, steps = build_head(read_state(replaced["head"]), str(replaced["head"]))
            if replaced:
                files = {"weights": self.weight_path("weights"), **replaced}
                self.source = describe_authors(files, False, unet=self.unet, head=self.net)
        if steps != len(self.timesteps):
            raise ValueError(f"dmfnet: the fusion head takes {steps} steps per source, "
                             f"the feature extraction uses {len(self.timesteps)}")
        if self.net.channels != self.unet.config.feature_channels:
            raise ValueError(f"dmfnet: the fusion head takes features of {self.net.channels} "
                             f"channels, the UNet gives {self.unet.config.feature_channels}")
        memory_format = (torch.channels_last if self.config["channels_last"]
                         else torch.contiguous_format)
        self.unet.to(self.device, memory_format=memory_format).eval()
        self.net.to(self.device, memory_format=memory_format).eval()
        self.diffusion = Diffusion(schedule, diffusion_steps)

    @staticmethod
    def _authors_only(config: Mapping[str, Any]) -> bool:
        """Whether both networks come from files in the authors' formats."""
        return config["weights"] == AUTHORS or bool(config["unet"] and config["head"])

    def _load_ours(self, path: Path) -> None:
        """UNet, fusion network, steps and schedule of a Stage II ``final.pt``."""
        ckpt = load_torch_file(path)
        if not isinstance(ckpt, dict) or "fusion" not in ckpt:
            raise ValueError(f"{path} is not a Stage II inference checkpoint (no fusion "
                             f"weights); for the authors' files use the unet= and head= options")
        cfg = ckpt["config"]
        self.unet = build_unet(ckpt["unet"], str(path), cfg["unet"]["groups"])
        self.net, _ = build_head(ckpt["fusion"], str(path))
        self.timesteps = tuple(cfg["timesteps"])
        self._schedule = cfg["feature_schedule"], cfg["diffusion_steps"]
        self.source: ModelSource = describe_ours(
            path, cfg, int(ckpt.get("step", cfg["stage2"]["steps"])),
            shipped=path.resolve().parent == SHIPPED, unet=self.unet, head=self.net)

    def provenance(self) -> dict[str, str]:
        """Which model this is: the shipped one (preset, trained here), the authors'
        release or a user's file, with sizes and training steps against the paper's."""
        return self.source.as_record()

    @classmethod
    def weight_location(cls, option: str, config: Mapping[str, Any]) -> Path | None:
        if option == "weights" and not config.get("weights"):
            return DEFAULT_WEIGHTS
        if option == "weights" and str(config["weights"]) in shipped_models():
            return SHIPPED / f"dmfnet_{config['weights']}.pt"
        return super().weight_location(option, config)

    @classmethod
    def weights_needed(cls, config: Mapping[str, Any]) -> list[str]:
        if cls._authors_only(config):
            return ["unet", "head"]
        return ["weights", *(key for key in AUTHORS_FILES if config.get(key))]

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return self.fuse_batch(a[None], b[None])[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        """Fuse N x H x W stacks in [0, 1]; any H, W (padded to the UNet's multiple)."""
        size = int(self.config["batch"])
        return np.concatenate([self._fuse_chunk(a[i:i + size], b[i:i + size])
                               for i in range(0, len(a), size)])

    def _draws(self, n: int, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Noise levels and noise of n pairs, each pair from its own seeded generator."""
        draws = [draw_noise(self.diffusion, self.timesteps, (1, *shape),
                            torch.Generator().manual_seed(int(self.config["seed"])),
                            bool(self.config["noise"])) for _ in range(n)]
        gammas = torch.cat([g for g, _ in draws], dim=2)
        noise = None if draws[0][1] is None else torch.cat([e for _, e in draws], dim=2)
        return gammas, noise

    @torch.inference_mode()
    def _fuse_chunk(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n, h, w = a.shape
        m = self.unet.config.multiple
        pad = (0, -w % m, 0, -h % m)
        ta, tb = (F.pad(torch.from_numpy(np.asarray(x, np.float32) * 2 - 1)[:, None], pad,
                        mode="replicate").to(self.device) for x in (a, b))
        gammas, noise = self._draws(n, tuple(ta.shape[1:]))
        with mixed_precision(self.device, str(self.config["precision"])):
            feats_a, feats_b = extract_features(self.unet, ta, tb, gammas, noise)
            fused = self.net(feats_a, feats_b)
        out = (fused.float()[:, 0, :h, :w] + 1) / 2
        return out.clamp(0, 1).cpu().numpy()
