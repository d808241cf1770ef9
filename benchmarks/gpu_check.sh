#!/usr/bin/env bash
# One-shot DM-FNet GPU check (issue 14), at most 8 minutes: paper-preset speed (Stage I/II
# steps/s, fused pairs/s; batch 1 vs batched; fp32 vs bf16), a gpu-preset training run
# fitted to the remaining time, the test split scored; one JSON.
#   benchmarks/gpu_check.sh [OUT_DIR] [extra gpu_check.py options]
# Data: $MMIF_BENCH_DATA or ../shared/datasets/harvard.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu_check}"
shift || true
data="${MMIF_BENCH_DATA:-../shared/datasets/harvard}"
python="${PYTHON:-python}"
mkdir -p "$out"
timeout "${GPU_CHECK_LIMIT_S:-480}" "$python" benchmarks/gpu_check.py \
    --data-root "$data" --out "$out" --json "$out/gpu_check.json" "$@"
