"""Ship a finished DM-FNet run: inference weights, training record and loss-curve PNG.

    python -m mmif_bench.methods.dmfnet.export --run runs/dmfnet-cpu \
        --to methods/dmfnet/weights --name dmfnet_cpu [--wall-s S1,S2]

Writes ``NAME_stage1_unet.pt`` (Stage I UNet, to retrain Stage II), ``NAME.pt`` (Stage II
inference checkpoint: UNet + fusion network, the plugin's input; once Stage II is
finished), ``NAME_training_record.json`` and ``NAME_loss_curve.png``. No optimiser state
is shipped.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from mmif_bench.fsutil import file_sha256

from .train import FINAL


def read_log(path: Path) -> list[dict]:
    """The records of a stage's ``log.jsonl``."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def loop_seconds(log: list[dict]) -> float:
    """Seconds spent in training steps: each record averages the steps since the last."""
    previous = [0] + [r["step"] for r in log[:-1]]
    return sum(r["step_time_s"] * (r["step"] - p) for r, p in zip(log, previous))


def plot_losses(logs: dict[int, list[dict]], path: Path) -> None:
    """Stage I MSE and Stage II loss terms against the step, one panel per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    steps = [r["step"] for r in logs[1]]
    axes[0].plot(steps, [r["total"] for r in logs[1]])
    axes[0].set(title="Stage I: x0-prediction MSE", xlabel="step", ylabel="loss", yscale="log")
    for key in ("total", "intensity", "gradient", "ssim") if 2 in logs else ():
        axes[1].plot([r["step"] for r in logs[2]], [r[key] for r in logs[2]], label=key)
    axes[1].set(title="Stage II: hybrid loss", xlabel="step", ylabel="loss")
    if 2 in logs:
        axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def export(run: Path, to: Path, name: str, wall_s: list[float] | None = None) -> dict:
    """Write the shipped files for the run folder ``run``; returns the training record."""
    to.mkdir(parents=True, exist_ok=True)
    stages = [s for s in (1, 2) if (run / f"stage{s}" / FINAL).is_file()]
    if 1 not in stages:
        raise FileNotFoundError(f"{run / 'stage1' / FINAL} not found: Stage I is not finished")
    ckpt = {s: torch.load(run / f"stage{s}" / FINAL, map_location="cpu", weights_only=True)
            for s in stages}
    torch.save({k: ckpt[1][k] for k in ("config", "step", "unet")}, to / f"{name}_stage1_unet.pt")
    if 2 in stages:
        torch.save({k: ckpt[2][k] for k in ("config", "step", "unet", "fusion")},
                   to / f"{name}.pt")
    logs = {s: read_log(run / f"stage{s}" / "log.jsonl") for s in stages}
    plot_losses(logs, to / f"{name}_loss_curve.png")
    config = ckpt[stages[-1]]["config"]
    record = {
        "preset": config["name"],
        "preset_config": {k: v for k, v in config.items()
                          if k not in ("stage", "steps", "world_size")},
        "steps": {f"stage{s}": ckpt[s]["step"] for s in stages},
        "world_size": {f"stage{s}": ckpt[s]["config"]["world_size"] for s in stages},
        "train_loop_s": {f"stage{s}": round(loop_seconds(logs[s]), 1) for s in stages},
        "final_losses": {f"stage{s}": {k: v for k, v in logs[s][-1].items()
                                       if k not in ("step", "lr", "step_time_s", "images_per_s")}
                         for s in stages},
        "train_file_list_sha256": config["train_file_list_sha256"],
        "files_sha256": {f.name: file_sha256(f) for f in sorted(to.glob(f"{name}*.pt"))},
        "torch": torch.__version__,
    }
    if wall_s:
        record["wall_s"] = {f"stage{s}": w for s, w in zip(stages, wall_s)}
    (to / f"{name}_training_record.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="training folder (with stage1/, stage2/)")
    parser.add_argument("--to", required=True, help="output folder")
    parser.add_argument("--name", default="dmfnet_cpu")
    parser.add_argument("--wall-s", help="measured wall seconds of stage 1 and 2, e.g. 1300,1100")
    args = parser.parse_args(argv)
    wall = [float(x) for x in args.wall_s.split(",")] if args.wall_s else None
    print(json.dumps(export(Path(args.run), Path(args.to), args.name, wall), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
