"""Training of both DM-FNet stages (He et al., TMM 2025).

Stage I trains the diffusion UNet (x0 prediction, MSE); Stage II freezes it and trains the
fusion network on its multi-step decoder features with the hybrid loss. Runs on CPU or CUDA
(bf16 autocast), single process or DDP under ``torchrun`` (gloo on CPU, nccl on CUDA)::

    python -m mmif_bench.methods.dmfnet.train --stage 1 --preset cpu --data-root DIR
    torchrun --nproc_per_node=4 -m mmif_bench.methods.dmfnet.train --stage 1 --preset paper

Every random draw of step s on rank r comes from a generator seeded with (seed, s, r), so a
checkpoint's model, optimiser state and step make ``--resume`` continue exactly.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import pickle
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from mmif_bench import logs
from mmif_bench.datasets.harvard import configured_root

from .data import PairCrops
from .diffusion import Diffusion
from .features import draw_noise, extract_features
from .fusion_net import FusionNet
from .loss import hybrid_loss
from .presets import PRESETS, Preset, StageConfig
from .unet import UNet, UNetConfig

logger = logging.getLogger(__name__)

FINAL = "final.pt"
LAST = "last.pt"


def step_seed(seed: int, step: int, rank: int) -> int:
    """The seed of every random draw of one training step on one rank."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


def lr_at(cfg: StageConfig, step: int, total: int) -> float:
    """Learning rate of ``step`` (0-based) of ``total`` under the stage's schedule."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.lr_schedule == "constant":
        return cfg.lr
    if cfg.lr_schedule == "linear":
        epochs = max(total // cfg.epoch_steps, 1)
        return cfg.lr * (1 - (step // cfg.epoch_steps) / (epochs + 1))
    progress = (step - cfg.warmup) / max(total - cfg.warmup, 1)
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)


def make_optimizer(cfg: StageConfig, params: Any) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; use adam or adamw")


PRECISIONS = ("auto", "fp32", "bf16")


def mixed_precision(device: torch.device, precision: str = "auto") -> Any:
    """The autocast context of a precision: ``auto`` is bf16 on CUDA and fp32 elsewhere."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {PRECISIONS}")
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def init_orthogonal(model: nn.Module) -> nn.Module:
    """Orthogonal weights (gain 1) and zero biases in every conv and linear layer, as the
    authors initialise both networks (``models/networks.py``, ``weights_init_orthogonal``);
    norm layers keep PyTorch's defaults. Returns ``model``."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def unet_config(data: dict) -> UNetConfig:
    """A :class:`UNetConfig` from its checkpoint dict."""
    return UNetConfig(**{**data, "mults": tuple(data["mults"])})


def read_checkpoint(path: Path, keys: tuple[str, ...],
                    device: torch.device | str = "cpu") -> dict[str, Any]:
    """A checkpoint written by this trainer, or a ValueError naming the file and what is
    wrong with it (not a checkpoint, truncated, not a plain weight file, missing a key)."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"{path} is not a plain checkpoint (it holds Python objects beyond "
                         f"tensors and plain values) and is refused; train again or use a "
                         f"checkpoint written by mmif-bench train") from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path} is not a readable checkpoint ({first}); delete it and train "
                         f"again, or drop --resume") from None
    missing = [k for k in keys if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise ValueError(f"{path} is not a checkpoint of mmif-bench train (no "
                         f"{', '.join(missing)}); delete it and train again, or drop --resume")
    return ckpt


def load_unet(path: str | Path, device: torch.device | str = "cpu") -> tuple[UNet, dict]:
    """The Stage I UNet of an inference (``final.pt``) or training checkpoint, and its config."""
    ckpt = read_checkpoint(Path(path), ("config",))
    config = ckpt["config"]
    unet = UNet(unet_config(config["unet"]))
    unet.load_state_dict(ckpt["unet"] if "unet" in ckpt else ckpt["model"])
    return unet.to(device).eval(), config


BOOKKEEPING = ("steps", "log_every", "save_every", "snapshots")
"""Stage settings that do not change the training trajectory before the run's end (the
schedule's length is ``--steps``; logs and snapshots only record it)."""


def _trajectory(config: dict) -> dict:
    """A run configuration without its bookkeeping: what ``--resume`` must match."""
    plain = json.loads(json.dumps(config))
    for stage in ("stage1", "stage2"):
        plain[stage] = {k: v for k, v in plain[stage].items() if k not in BOOKKEEPING}
    return {k: v for k, v in plain.items() if k != "steps"}


def _save(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class Distributed:
    """Process group from torchrun's environment (WORLD_SIZE, RANK, LOCAL_RANK), if any."""

    def __init__(self, device: str) -> None:
        use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group("nccl" if use_cuda else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        if self.world == 1:
            return model
        ids = [self.device] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def close(self) -> None:
        if self.world > 1:
            dist.destroy_process_group()


class Trainer:
    """One stage's training loop with checkpoints, logs and exact resume.

    Parameters
    ----------
    preset
        Sizes and optimisation (:mod:`.presets`).
    stage
        1 (diffusion UNet) or 2 (fusion network on the frozen UNet).
    out
        Run folder; the stage writes ``OUT/stageN/`` (``last.pt`` full checkpoint,
        ``final.pt`` and ``step_*.pt`` inference weights, ``log.jsonl``).
    unet_path
        Stage II: the Stage I checkpoint (default ``OUT/stage1/final.pt``).
    """

    def __init__(self, preset: Preset, stage: int, data_root: str | Path, out: str | Path,
                 steps: int | None = None, device: str = "auto",
                 unet_path: str | Path | None = None, env: Distributed | None = None,
                 precision: str = "auto") -> None:
        self.preset, self.stage, self.precision = preset, stage, precision
        self.cfg = preset.stage(stage)
        self.steps = self.cfg.steps if steps is None else steps
        if self.steps < 1:
            raise ValueError(f"--steps must be a positive number of steps, got {self.steps}")
        self.env = env or Distributed(device)
        self.dir = Path(out) / f"stage{stage}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = PairCrops(data_root)
        dev = self.env.device
        torch.manual_seed(preset.seed)  # the initial weights
        if stage == 1:
            self.model = init_orthogonal(UNet(preset.unet)).to(dev)
            self.diffusion = Diffusion("cosine", preset.diffusion_steps)
        else:
            unet_path = Path(unet_path or Path(out) / "stage1" / FINAL)
            if not unet_path.is_file():
                raise FileNotFoundError(
                    f"Stage II fuses the features of a trained Stage I UNet, and {unet_path} "
                    f"does not exist: run `mmif-bench train dmfnet --stage 1 --preset "
                    f"{preset.name} --out {out}` first, or pass --unet FILE")
            self.unet, unet_cfg = load_unet(unet_path, dev)
            self.unet.requires_grad_(False)
            if unet_cfg["unet"] != preset.to_dict()["unet"]:
                raise ValueError(f"{unet_path} holds a UNet of another size than preset "
                                 f"{preset.name!r}: {unet_cfg['unet']}")
            self.diffusion = Diffusion(preset.feature_schedule, preset.diffusion_steps)
            self.model = init_orthogonal(FusionNet(
                preset.unet.feature_channels, len(preset.timesteps), preset.head_width)).to(dev)
        self.optimizer = make_optimizer(self.cfg, self.model.parameters())
        self.wrapped = self.env.wrap(self.model)
        self.step = 0
        self.history: list[dict] = []

    # -- checkpoints -------------------------------------------------------------------
    def _config(self) -> dict:
        return {**self.preset.to_dict(), "stage": self.stage, "steps": self.steps,
                "world_size": self.env.world,
                "train_file_list_sha256": self.data.file_list_sha256}

    def inference_state(self) -> dict:
        """Weights and config only: what the plugin (Stage II) or Stage II (Stage I) loads."""
        state = {"config": self._config(), "step": self.step}
        if self.stage == 1:
            state["unet"] = self.model.state_dict()
        else:
            state["unet"] = self.unet.state_dict()
            state["fusion"] = self.model.state_dict()
        return state

    def save(self) -> None:
        _save({"config": self._config(), "step": self.step, "model": self.model.state_dict(),
               "optimizer": self.optimizer.state_dict(), "history": self.history,
               "rng": {"torch": torch.get_rng_state(), "scheme": "seeded per (seed, step, rank)"}},
              self.dir / LAST)

    def resume(self) -> None:
        path = self.dir / LAST
        if not path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {path}")
        ckpt = read_checkpoint(path, ("config", "model", "optimizer", "step", "history"),
                               self.env.device)
        if _trajectory(ckpt["config"]) != _trajectory(self._config()):
            raise ValueError(f"{path} was written with another configuration; "
                             f"use another --out or drop --resume")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step, self.history = ckpt["step"], ckpt["history"]

    # -- the loop ----------------------------------------------------------------------
    def _loss(self, model: nn.Module, gen: torch.Generator) -> dict[str, torch.Tensor]:
        cfg, dev = self.cfg, self.env.device
        a, b = (x.to(dev) for x in self.data.sample(cfg.batch_pairs, cfg.crop, gen))
        with mixed_precision(dev, self.precision):
            if self.stage == 1:
                return {"total": self.diffusion.loss(model, torch.cat([a, b]), gen,
                                                     cfg.low_t_fraction, cfg.low_t_max)}
            gammas, noise = draw_noise(self.diffusion, self.preset.timesteps, a.shape, gen)
            feats_a, feats_b = extract_features(self.unet, a, b, gammas, noise)
            return hybrid_loss(model(feats_a, feats_b), a, b)

    def train_step(self) -> dict[str, float]:
        """One optimisation step; returns its loss terms."""
        seed = step_seed(self.preset.seed, self.step, self.env.rank)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        lr = lr_at(self.cfg, self.step, self.steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.wrapped.train()
        terms = self._loss(self.wrapped, gen)
        self.optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        self.optimizer.step()
        self.step += 1
        return {"lr": lr, **{k: float(v.detach()) for k, v in terms.items()}}

    def run(self, until: int | None = None) -> dict[str, float]:
        """Train up to step ``until`` (default: the end); returns the last logged losses."""
        until = min(until or self.steps, self.steps)
        snapshot_every = max(self.steps // self.cfg.snapshots, 1)
        images = 2 * self.cfg.batch_pairs * self.env.world
        with logging_redirect_tqdm(loggers=[logging.getLogger(logs.LOGGER)]), tqdm(
                total=until, initial=self.step, disable=not self.env.main,
                desc=f"dmfnet stage {self.stage}", mininterval=5.0, file=sys.stdout) as bar:
            window: dict[str, float] = {}
            window_time, window_steps = 0.0, 0
            last: dict[str, float] = {}
            while self.step < until:
                started = time.perf_counter()
                terms = self.train_step()
                window_time += time.perf_counter() - started
                window_steps += 1
                for key, value in terms.items():
                    window[key] = window.get(key, 0.0) + value
                bar.update(1)
                if self.step % self.cfg.log_every == 0 or self.step == until:
                    last = {k: v / window_steps for k, v in window.items()}
                    record = {"step": self.step, **last, "lr": terms["lr"],
                              "step_time_s": window_time / window_steps,
                              "images_per_s": images * window_steps / window_time}
                    self.history.append(record)
                    if self.env.main:
                        bar.set_postfix(loss=f"{last['total']:.4f}")
                        logger.info(json.dumps(record))
                        with open(self.dir / "log.jsonl", "a") as handle:
                            handle.write(json.dumps(record) + "\n")
                    window, window_time, window_steps = {}, 0.0, 0
                if self.env.main:
                    if self.step % snapshot_every == 0 or self.step == self.steps:
                        _save(self.inference_state(), self.dir / f"step_{self.step:07d}.pt")
                    if self.step % self.cfg.save_every == 0 or self.step == until:
                        self.save()
        if self.env.main and self.step == self.steps:
            _save(self.inference_state(), self.dir / FINAL)
        return last


def _positive(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mmif-bench train dmfnet``."""
    parser.add_argument("--stage", type=int, choices=(1, 2), required=True,
                        help="1: the diffusion UNet; 2: the fusion network on a stage 1 UNet")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu",
                        help="training settings (default: %(default)s)")
    parser.add_argument("--data-root", help="Harvard folder (default: $MMIF_BENCH_DATA, else "
                        "the copy `mmif-bench fetch harvard` installed)")
    parser.add_argument("--out", help="run folder (default runs/dmfnet-PRESET)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/stageN/last.pt")
    parser.add_argument("--steps", type=_positive, help="total steps (default: the preset's)")
    parser.add_argument("--stop-at", type=_positive,
                        help="stop after this step (same schedule; continue with --resume)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: cuda when torch sees a GPU, else cpu (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="autocast: auto = bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--unet", help="Stage II: Stage I checkpoint (default OUT/stage1/final.pt)")


def train(args: argparse.Namespace) -> int:
    """Run ``mmif-bench train dmfnet`` with its parsed options; returns the exit status."""
    root = configured_root(args.data_root)
    if root is None:
        logger.error("error: no Harvard pairs: run 'mmif-bench fetch harvard', or pass "
                     "--data-root DIR or set MMIF_BENCH_DATA")
        return 2
    preset = PRESETS[args.preset]
    out = Path(args.out or f"runs/dmfnet-{preset.name}")
    stage_dir = out / f"stage{args.stage}"
    if not args.resume and any((stage_dir / name).is_file() for name in (LAST, FINAL)):
        logger.warning("warning: %s holds an earlier stage %s run, which this run overwrites; "
                       "pass --resume to continue it, or --out another folder", stage_dir,
                       args.stage)
    env = Distributed(args.device)
    try:
        trainer = Trainer(preset, args.stage, root, out, steps=args.steps, unet_path=args.unet,
                          env=env, precision=args.precision)
        if args.resume:
            trainer.resume()
        if env.main:
            n_params = sum(p.numel() for p in trainer.model.parameters())
            logger.info("dmfnet stage %s, preset %s: %.2f M trainable parameters, %d train "
                        "pairs, world size %d, device %s, from step %d", args.stage, preset.name,
                        n_params / 1e6, len(trainer.data), env.world, env.device, trainer.step)
        started = time.perf_counter()
        trainer.run(args.stop_at)
        if env.main:
            logger.info("done in %.1f s", time.perf_counter() - started)
    finally:
        env.close()
    return 0


class TrainCommand:
    """``mmif-bench train dmfnet``, contributed through the ``mmif_bench.commands`` entry
    point ``train.dmfnet`` (:class:`mmif_bench.commands.Command`)."""

    help = "Train DM-FNet: --stage 1 (diffusion UNet) then --stage 2 (fusion net)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        return train(args)


command = TrainCommand()


def main(argv: list[str] | None = None) -> int:
    """``python -m mmif_bench.methods.dmfnet.train``: the same as ``mmif-bench train dmfnet``."""
    parser = argparse.ArgumentParser(prog="mmif-bench train dmfnet", description=command.help)
    add_arguments(parser)
    logs.configure()
    return train(parser.parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
