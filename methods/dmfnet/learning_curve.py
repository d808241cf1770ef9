"""Score vs training steps of DM-FNet Stage II snapshots, against baseline methods.

Each snapshot ``stage2/step_*.pt`` is run through ``mmif-bench run`` (one results folder
per snapshot); this module reads those ``scores.csv`` files and the baselines', computes
per pair type the mean of each metric and the mean rank over the metrics (issue 5's
quality target: EN, SD, MI, SSIM, Qabf, VIF, all higher-is-better), and plots them::

    python -m mmif_bench.methods.dmfnet.learning_curve --baselines DIR \
        --snapshot 500=DIR --snapshot 1000=DIR ... --out curve.png --json curve.json
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from mmif_bench.scores import read_scores

METRICS = ("EN", "SD", "MI", "SSIM", "Qabf", "VIF")


def method_means(results: Path) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {pair type: {metric: mean over images}}} of a results folder."""
    values: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for s in read_scores(results / "scores.csv"):
        if s.metric in METRICS:
            values[s.method][s.pair][s.metric].append(s.value)
    return {m: {p: {k: float(np.mean(v)) for k, v in metrics.items()}
                for p, metrics in pairs.items()} for m, pairs in values.items()}


def mean_ranks(means: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """{method: {pair type: rank averaged over METRICS}} (1 = best; ties share ranks)."""
    methods = sorted(means)
    pairs = sorted({p for m in methods for p in means[m]})
    out: dict[str, dict[str, float]] = {m: {} for m in methods}
    for pair in pairs:
        ranks = np.zeros(len(methods))
        for metric in METRICS:
            scores = np.array([means[m][pair][metric] for m in methods])
            ranks += np.array([1 + np.sum(scores > s) + 0.5 * (np.sum(scores == s) - 1)
                               for s in scores])
        for m, r in zip(methods, ranks / len(METRICS)):
            out[m][pair] = float(r)
    return out


def curve(baselines: Path, snapshots: dict[int, Path], methods: list[str] | None = None,
          name: str = "dmfnet") -> dict:
    """Per snapshot step: dmfnet's metric means and mean rank among the baselines
    (``methods`` of the baselines folder, default all)."""
    base = {m: v for m, v in method_means(baselines).items()
            if m != name and (methods is None or m in methods)}
    points = {}
    for step, folder in sorted(snapshots.items()):
        ours = method_means(folder)[name]
        ranks = mean_ranks({**base, name: ours})
        points[step] = {"means": ours, "mean_rank": ranks[name],
                        "best_baseline_rank": {p: min(r[p] for m, r in ranks.items() if m != name)
                                               for p in ranks[name]}}
    return {"baselines": base, "points": points}


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted(data["points"])
    pairs = sorted(data["points"][steps[0]]["means"])
    fig, axes = plt.subplots(1, len(METRICS) + 1, figsize=(3.0 * (len(METRICS) + 1), 3.2))
    for ax, metric in zip(axes, METRICS):
        for i, pair in enumerate(pairs):
            colour = f"C{i}"
            ax.plot(steps, [data["points"][s]["means"][pair][metric] for s in steps], "o-",
                    color=colour, label=pair)
            best = max(v[pair][metric] for v in data["baselines"].values())
            ax.axhline(best, color=colour, ls=":", lw=1)
        ax.set(title=metric, xlabel="Stage II step")
    for i, pair in enumerate(pairs):
        axes[-1].plot(steps, [data["points"][s]["mean_rank"][pair] for s in steps], "o-",
                      color=f"C{i}", label=pair)
        axes[-1].axhline(data["points"][steps[-1]]["best_baseline_rank"][pair], color=f"C{i}",
                         ls=":", lw=1)
    axes[-1].set(title="mean rank (lower better)", xlabel="Stage II step")
    axes[0].legend(fontsize=7)
    fig.suptitle("DM-FNet Stage II snapshots on the Harvard test split "
                 "(dotted: best baseline of each pair type)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baselines", required=True, help="results folder of the baselines")
    parser.add_argument("--methods", help="baselines to rank against, comma-separated "
                        "(default: every method in --baselines)")
    parser.add_argument("--snapshot", action="append", required=True, metavar="STEP=DIR")
    parser.add_argument("--out", required=True, help="PNG path")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    snapshots = {int(s.split("=", 1)[0]): Path(s.split("=", 1)[1]) for s in args.snapshot}
    methods = args.methods.split(",") if args.methods else None
    data = curve(Path(args.baselines), snapshots, methods)
    plot(data, Path(args.out))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps({s: p["mean_rank"] for s, p in data["points"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
