#!/usr/bin/env bash
# A short follow-up GPU session: the CUDA-only tests, then a GPU sweep of DataLoader rows cut by
# `timeout` (SIGTERM to the whole process group, workers included), which must stop at once.
#
#   OUT=/tmp/gpu-out MNIST_BENCH_DATA_ROOT=.data/fashion-mnist bash scripts/gpu-recheck.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
DATA_ROOT=${MNIST_BENCH_DATA_ROOT:-/usr/share/datasets/fashion-mnist}
PYTHON=${PYTHON:-python3}
RESULTS_DIR=${RESULTS_DIR:-$OUT/sigterm-results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD MNIST_BENCH_FASHION_DIR=$DATA_ROOT PYTHONUNBUFFERED=1

timeout 120 "$PYTHON" -m pytest tests -m cuda -rs -q -p no:cacheprovider > "$OUT/cuda-tests.txt" 2>&1
echo "cuda tests exit $?" >> "$OUT/cuda-tests.txt"

SECONDS=0
timeout --preserve-status -s TERM 25 "$PYTHON" -m pytest --benchmark-only --bench-profile=default \
  --dataset=fashion-mnist --data-root="$DATA_ROOT" --results-dir="$RESULTS_DIR" --no-report \
  -k "train and cuda-mlp-dataloader" -p no:cacheprovider -q > "$OUT/sigterm.txt" 2>&1
echo "sweep exit $? after ${SECONDS} s (SIGTERM sent at 25 s)" >> "$OUT/sigterm.txt"
"$PYTHON" scripts/run_status.py "$RESULTS_DIR" >> "$OUT/sigterm.txt"
tail -n 30 "$OUT/cuda-tests.txt"
tail -n 25 "$OUT/sigterm.txt"
