"""Training presets of DM-FNet: ``paper`` (He et al., TMM 2025, sizes of the released
configuration), ``cpu`` (trains both stages in under an hour on 2 CPU cores) and ``tiny``
(seconds; for tests and smoke runs)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .unet import UNetConfig


@dataclass(frozen=True)
class StageConfig:
    """Optimisation of one stage.

    ``lr_schedule`` is ``"constant"``, ``"cosine"`` (linear warm-up over ``warmup`` steps,
    then cosine decay to ``lr * min_lr_ratio``) or ``"linear"`` (the authors' Stage II
    policy: lr * (1 - epoch / (epochs + 1)), epochs of ``epoch_steps`` steps).
    ``snapshots`` inference-only checkpoints are kept at evenly spaced steps (for learning
    curves). Stage I only: a fraction
    ``low_t_fraction`` of the batches draws t in 1..``low_t_max`` instead of 1..T.
    """

    steps: int
    lr: float
    optimizer: str  # "adam" or "adamw"
    batch_pairs: int
    crop: int
    lr_schedule: str = "constant"
    warmup: int = 0
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0
    log_every: int = 10
    save_every: int = 200
    snapshots: int = 4
    low_t_fraction: float = 0.0
    low_t_max: int = 0
    epoch_steps: int = 0


@dataclass(frozen=True)
class Preset:
    """Everything that defines a DM-FNet training run."""

    name: str
    unet: UNetConfig
    stage1: StageConfig
    stage2: StageConfig
    timesteps: tuple[int, ...] = (5, 10, 20)
    diffusion_steps: int = 2000
    feature_schedule: str = "linear"
    head_width: int = 64
    seed: int = 0
    deviations: tuple[str, ...] = field(default=())

    def stage(self, number: int) -> StageConfig:
        return self.stage1 if number == 1 else self.stage2

    def to_dict(self) -> dict:
        return asdict(self)


PAPER = Preset(
    name="paper",
    unet=UNetConfig(width=128, mults=(1, 1, 1, 1, 2), res_blocks=2, dropout=0.2, groups=32),
    # Stage I: AdamW 1e-5, batch = the two images of one pair, 160 crops, 630k iterations.
    stage1=StageConfig(steps=630_000, lr=1e-5, optimizer="adamw", batch_pairs=1, crop=160,
                       weight_decay=0.01, log_every=100, save_every=10_000),
    # Stage II: Adam 1e-4 decayed linearly per epoch, batch 1, 160 crops, 300 epochs over
    # the 738 train pairs.
    stage2=StageConfig(steps=300 * 738, lr=1e-4, optimizer="adam", batch_pairs=1, crop=160,
                       lr_schedule="linear", epoch_steps=738, log_every=100,
                       save_every=10_000),
)

CPU = Preset(
    name="cpu",
    unet=UNetConfig(width=16, mults=(1, 1, 1, 1, 2), res_blocks=1, dropout=0.0, groups=8),
    stage1=StageConfig(steps=3600, lr=2e-4, optimizer="adamw", batch_pairs=4, crop=96,
                       lr_schedule="cosine", warmup=100, min_lr_ratio=0.1,
                       weight_decay=0.01, log_every=20, save_every=250),
    stage2=StageConfig(steps=2000, lr=1e-3, optimizer="adam", batch_pairs=4, crop=96,
                       lr_schedule="cosine", warmup=50, min_lr_ratio=0.05,
                       log_every=20, save_every=250),
    deviations=(
        "UNet width 16 (paper 128), 1 res block per level down / 2 up (paper 2 / 3), "
        "GroupNorm 8 groups (paper 32; 16 channels): about 100x fewer FLOPs, so that "
        "both stages fit an hour on a 2-core CPU; the fusion head follows the UNet's widths.",
        "No dropout (paper 0.2): a few thousand steps do not overfit 738 pairs.",
        "96x96 crops (paper 160) and 4 pairs per batch (paper 1): cheaper steps, smoother "
        "gradients at a higher learning rate.",
        "Stage I AdamW 2e-4 with warm-up and cosine decay (paper 1e-5 constant for 630k "
        "iterations): the run has ~0.5% of the paper's iterations.",
        "Stage II Adam 1e-3 with warm-up and cosine decay (paper 1e-4 constant for 300 "
        "epochs): same reason.",
        "Head rgb_decode2 16 -> 8 channels (paper 128 -> 64): the shipped cpu weights were "
        "trained with half the finest UNet width.",
    ),
    head_width=8,
)

CPU32 = Preset(
    name="cpu32",
    unet=UNetConfig(width=32, mults=(1, 1, 1, 1, 2), res_blocks=1, dropout=0.0, groups=8),
    stage1=StageConfig(steps=1000, lr=2e-4, optimizer="adamw", batch_pairs=4, crop=96,
                       lr_schedule="cosine", warmup=100, min_lr_ratio=0.1,
                       weight_decay=0.01, log_every=20, save_every=100, snapshots=5,
                       low_t_fraction=0.5, low_t_max=32),
    stage2=StageConfig(steps=550, lr=1e-3, optimizer="adam", batch_pairs=4, crop=96,
                       lr_schedule="cosine", warmup=50, min_lr_ratio=0.05,
                       log_every=20, save_every=100, snapshots=6),
    deviations=(
        "UNet width 32 (paper 128), 1 res block per level down / 2 up (paper 2 / 3), "
        "GroupNorm 8 groups (paper 32): about 4x the cpu preset's capacity (0.90 M UNet "
        "parameters), trained in under 80 minutes on one shared CPU thread.",
        "No dropout (paper 0.2): a few thousand steps do not overfit 738 pairs.",
        "96x96 crops (paper 160) and 4 pairs per batch (paper 1): cheaper steps, smoother "
        "gradients at a higher learning rate.",
        "Stage I: half of the batches draw t in 1..32 (the cosine steps whose noise levels "
        "span the linear-schedule levels t = 5..20 that Stage II reads, noise std "
        "0.004-0.034), the other half t in 1..2000 (paper: all uniform in 1..2000): with "
        "0.3% of the paper's iterations the UNet must be good where its features are used.",
        "Stage I AdamW 2e-4 with warm-up and cosine decay (paper 1e-5 constant for 630k "
        "iterations); Stage II Adam 1e-3 with warm-up and cosine decay (paper 1e-4 constant "
        "for 300 epochs): the run has well under 1% of the paper's iterations.",
    ),
)

GPU = Preset(
    name="gpu",
    unet=PAPER.unet,
    # Sized for about 10 minutes of one H200-class GPU for both stages (an estimate from
    # the CPU step times; benchmarks/gpu_check.sh measures it and fits the steps to its
    # own time budget).
    stage1=StageConfig(steps=6000, lr=2e-4, optimizer="adamw", batch_pairs=16, crop=160,
                       lr_schedule="cosine", warmup=200, min_lr_ratio=0.1,
                       weight_decay=0.01, log_every=50, save_every=1000,
                       low_t_fraction=0.5, low_t_max=32),
    stage2=StageConfig(steps=3000, lr=5e-4, optimizer="adam", batch_pairs=8, crop=160,
                       lr_schedule="cosine", warmup=100, min_lr_ratio=0.05,
                       log_every=50, save_every=1000),
    deviations=(
        "The paper's networks (width 128, 2 res blocks, dropout 0.2), trained for about "
        "10 GPU minutes instead of days: batches of 16 pairs (Stage I, 32 images) and 8 "
        "pairs (Stage II) instead of 1, learning rates 2e-4 / 5e-4 with warm-up and cosine "
        "decay instead of 1e-5 / 1e-4, 6 000 + 3 000 steps instead of 630 000 + 221 400.",
        "Stage I: half of the batches draw t in 1..32, the noise levels Stage II reads "
        "(as cpu32).",
    ),
)

TINY = Preset(
    name="tiny",
    unet=UNetConfig(width=8, mults=(1, 1, 1, 1, 2), res_blocks=1, dropout=0.1, groups=4),
    stage1=StageConfig(steps=4, lr=1e-3, optimizer="adamw", batch_pairs=2, crop=32,
                       weight_decay=0.01, log_every=1, save_every=2, snapshots=2),
    stage2=StageConfig(steps=4, lr=1e-3, optimizer="adam", batch_pairs=2, crop=32,
                       lr_schedule="cosine", warmup=1, log_every=1, save_every=2, snapshots=2),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (PAPER, GPU, CPU, CPU32, TINY)}
