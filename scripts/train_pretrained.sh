#!/usr/bin/env bash
# Trains the shipped models round-robin, CHUNK steps each per round, resuming their checkpoints
# in runs/ (so it can be stopped at any time and started again). Export with scripts/export_pretrained.py.
# The models and their flags come from acai/shipped.py (`python -m acai.shipped` prints every command);
# a model that continues another shipped one (lines-acai-lambda-drop) is made by those commands instead.
# Usage: ACAI_DATA_DIR=../shared/data bash scripts/train_pretrained.sh [rounds] [chunk] [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1000}
chunk=${2:-2000}
shift 2 || true
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
      # shellcheck disable=SC2046  # the flags are words
      $PYTHON -m acai train "${run_options[@]}" $($PYTHON -m acai.shipped flags "$model")
    fi
  done
done
