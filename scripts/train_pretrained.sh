#!/usr/bin/env bash
# Trains the shipped models round-robin, CHUNK steps each per round, resuming their checkpoints
# in runs/ (so it can be stopped at any time and started again). Export with scripts/export_pretrained.py.
# Usage: ACAI_DATA_DIR=../shared/data bash scripts/train_pretrained.sh [rounds] [chunk] [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1000}
chunk=${2:-2000}
shift 2 || true
declare -A ARGS=(
  [lines-acai]="--preset lines32"
  [lines-baseline]="--preset lines32 --lam 0"
  [mnist32-acai]="--preset mnist32"
  [mnist32-baseline]="--preset mnist32 --lam 0"
  [mnist256-acai]="--preset mnist256"
  [mnist256-baseline]="--preset mnist256 --lam 0"
  [mnist-mlp-acai]="--preset mnist_mlp"
  [fashion256-acai]="--preset fashion256"
  [lines-dropout]="--preset lines32 --model dropout"
  [lines-denoising]="--preset lines32 --model denoising"
  [lines-vae]="--preset lines32 --model vae"
  [lines-aae]="--preset lines32 --model aae"
  [lines-vqvae]="--preset lines32 --model vqvae"
)
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lines-acai lines-baseline mnist32-acai mnist32-baseline)
PYTHON=${PYTHON:-.venv/bin/python}
for ((round = 0; round < rounds; round++)); do
  for model in "${models[@]}"; do
    out=runs/$model
    run_options=(--out "$out" --steps "$chunk" --checkpoint-every 500)
    [[ $model == lines-* ]] && run_options+=(--eval-every 500)
    if [ -f "$out/config.json" ]; then
      $PYTHON -m acai train --resume "${run_options[@]}"
    else
      $PYTHON -m acai train "${run_options[@]}" ${ARGS[$model]}
    fi
  done
done
