"""One-shot GPU check of DM-FNet (issue 14): speed, a short training run, the test split.

1. Speed of the ``paper`` preset (random weights; speed does not depend on them): Stage I
   and Stage II training steps/s in fp32 and bf16 autocast, and fused 256x256 pairs/s at
   batch 1 and batched, fp32 and bf16.
2. Trains the ``gpu`` preset, Stage I then Stage II, with step counts fitted to
   ``--train-budget-s`` from its measured step times (the cosine schedules follow them).
3. Fuses the Harvard test split with the trained model and the classical baselines and
   scores EN, SD, MI, SSIM, Qabf, VIF (means and mean ranks per pair type).
4. Writes everything to one JSON file.

``benchmarks/gpu_check.sh`` runs it under an 8-minute limit; ``tests/test_gpu_check.py``
runs it on CPU with the ``tiny`` preset.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from mmif_bench.cli import main as cli_main
from mmif_bench.methods.dmfnet.learning_curve import mean_ranks, method_means
from mmif_bench.methods.dmfnet.plugin import DMFNetFusion
from mmif_bench.methods.dmfnet.presets import PRESETS, Preset
from mmif_bench.methods.dmfnet.train import FINAL, Trainer

PRECISIONS = ("fp32", "bf16")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, repeats: int, device: torch.device) -> float:
    """Seconds per call of ``fn`` over ``repeats`` calls, after one warm-up call."""
    fn()
    _sync(device)
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return (time.perf_counter() - started) / repeats


def stage_step_times(preset: Preset, data: Path, work: Path, device: str, repeats: int,
                     precisions: tuple[str, ...] = PRECISIONS) -> dict:
    """Seconds per training step of both stages per precision; leaves ``work/stage1/final.pt``
    (random weights) for Stage II and returns its path too."""
    out: dict = {}
    first = Trainer(preset, 1, data, work, device=device)
    torch.save(first.inference_state(), work / "stage1" / FINAL)
    dev = first.env.device
    for precision in precisions:
        first.precision = precision
        out.setdefault("stage1", {})[precision] = timed(first.train_step, repeats, dev)
    second = Trainer(preset, 2, data, work, device=device)
    for precision in precisions:
        second.precision = precision
        out.setdefault("stage2", {})[precision] = timed(second.train_step, repeats, dev)
    return out


def fuse_rates(weights: Path, size: int, batch: int, device: str, repeats: int) -> dict:
    """Fused size x size pairs per second, batch 1 and ``batch``, per precision."""
    rng = np.random.default_rng(0)
    a, b = rng.random((2, batch, size, size), dtype=np.float32)
    rates: dict = {}
    for n in (1, batch):
        for precision in PRECISIONS:
            method = DMFNetFusion(weights=str(weights), batch=n, device=device,
                                  precision=precision)
            seconds = timed(lambda method=method, n=n: method.fuse_batch(a[:n], b[:n]), repeats,
                            method.device)
            rates.setdefault(f"batch{n}", {})[precision] = n / seconds
    return rates


def train(preset: Preset, data: Path, out: Path, device: str, budget_s: float,
          step_s: dict) -> dict:
    """Both stages of ``preset`` with steps fitted to ``budget_s`` (split by the preset's
    own step counts x measured step times); returns steps, wall time and final losses."""
    cost = {k: preset.stage(k).steps * step_s[f"stage{k}"] for k in (1, 2)}
    scale = min(1.0, budget_s / sum(cost.values()))
    record = {}
    for stage in (1, 2):
        steps = max(int(preset.stage(stage).steps * scale), 2)
        trainer = Trainer(preset, stage, data, out, steps=steps, device=device)
        started = time.perf_counter()
        last = trainer.run()
        record[f"stage{stage}"] = {"steps": steps, "preset_steps": preset.stage(stage).steps,
                                   "wall_s": time.perf_counter() - started,
                                   "final_losses": last}
    return record


def score_test_split(weights: Path, data: Path, out: Path, baselines: list[str]) -> dict:
    """Means of the six metrics and mean ranks per pair type on the test split."""
    code = cli_main(["run", "--dataset", "harvard", "--data-root", str(data), "--split", "test",
                     "--methods", ",".join(["dmfnet", *baselines]),
                     "-o", f"dmfnet:weights={weights}", "--metrics", "EN,SD,MI,SSIM,Qabf,VIF",
                     "--out", str(out), "--no-report"])
    if code != 0:
        raise RuntimeError(f"mmif-bench run failed with exit status {code}")
    means = method_means(out)
    return {"means": means, "mean_rank": mean_ranks(means)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="Harvard folder")
    parser.add_argument("--out", required=True, help="work folder (runs, results)")
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--preset", default="gpu", choices=sorted(PRESETS),
                        help="the preset to train (default gpu)")
    parser.add_argument("--speed-preset", default="paper", choices=sorted(PRESETS))
    parser.add_argument("--speed-repeats", type=int, default=10)
    parser.add_argument("--size", type=int, default=256, help="side of the fused test pairs")
    parser.add_argument("--fuse-batch", type=int, default=16)
    parser.add_argument("--train-budget-s", type=float, default=270.0)
    parser.add_argument("--baselines", default="mean,max,pca,dwt,laplacian,gff")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args(argv)
    data, out = Path(args.data_root), Path(args.out)
    started = time.perf_counter()
    cuda = torch.cuda.is_available() and args.device != "cpu"
    report: dict = {"device": torch.cuda.get_device_name() if cuda else "cpu",
                    "torch": torch.__version__, "speed_preset": args.speed_preset,
                    "train_preset": args.preset}

    speed = stage_step_times(PRESETS[args.speed_preset], data, out / "speed", args.device,
                             args.speed_repeats)
    report["steps_per_s"] = {stage: {p: 1 / s for p, s in times.items()}
                             for stage, times in speed.items()}
    head = Trainer(PRESETS[args.speed_preset], 2, data, out / "speed", steps=1,
                   device=args.device)
    torch.save(head.inference_state(), out / "speed" / "random_stage2.pt")
    report["fused_pairs_per_s"] = fuse_rates(out / "speed" / "random_stage2.pt", args.size,
                                             args.fuse_batch, args.device, args.speed_repeats)

    preset = PRESETS[args.preset]
    own = stage_step_times(preset, data, out / "fit", args.device, 2, ("auto",))
    report["train"] = train(preset, data, out / "run", args.device, args.train_budget_s,
                            {stage: times["auto"] for stage, times in own.items()})
    weights = out / "run" / "stage2" / FINAL
    report["test_split"] = score_test_split(weights, data, out / "results",
                                            [m for m in args.baselines.split(",") if m])
    report["wall_s"] = time.perf_counter() - started
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("device", "steps_per_s", "fused_pairs_per_s",
                                             "wall_s")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
