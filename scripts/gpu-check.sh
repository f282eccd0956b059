#!/usr/bin/env bash
# One prepared GPU session: the CUDA-only tests, then the default profile, outputs under $OUT.
#
#   OUT=/tmp/gpu-out MNIST_BENCH_DATA_ROOT=.data/fashion-mnist bash scripts/gpu-check.sh
#
# Needs torch with CUDA, pytest-benchmark, pandas, rich, matplotlib, nvidia-ml-py; no network
# (point MNIST_BENCH_DATA_ROOT at a folder holding the four Fashion-MNIST IDX files).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
DATA_ROOT=${MNIST_BENCH_DATA_ROOT:-/usr/share/datasets/fashion-mnist}
RESULTS_DIR=${RESULTS_DIR:-$OUT/results}  # the run file and its report folder
PYTHON=${PYTHON:-python3}  # on the GPU image, python3 is the interpreter that holds torch
CUDA_TESTS_TIMEOUT_S=${CUDA_TESTS_TIMEOUT_S:-60}  # 17 s on an H100 machine
BENCH_TIMEOUT_S=${BENCH_TIMEOUT_S:-520}  # the default profile took 501 s on an H100 machine; fits one 10-minute command
mkdir -p "$OUT"
export PYTHONPATH=$PWD MNIST_BENCH_FASHION_DIR=$DATA_ROOT PYTHONUNBUFFERED=1

{ nvidia-smi; nvidia-smi -q | grep -iA4 "PCI$\|Link"; } > "$OUT/nvidia-smi.txt" 2>&1
"$PYTHON" -m mnist_core.commands.cli info --dataset fashion-mnist --data-root "$DATA_ROOT" > "$OUT/info.txt" 2>&1

# CUDA paths for real: graph vs eager agreement, no host sync, memory released between configs.
timeout "$CUDA_TESTS_TIMEOUT_S" "$PYTHON" -m pytest tests -m cuda -rs -q -p no:cacheprovider > "$OUT/cuda-tests.txt" 2>&1
echo "cuda tests exit $?" >> "$OUT/cuda-tests.txt"

SECONDS=0
timeout "$BENCH_TIMEOUT_S" "$PYTHON" -m pytest --benchmark-only --bench-profile=default --dataset=fashion-mnist \
  --data-root="$DATA_ROOT" --results-dir="$RESULTS_DIR" -p no:cacheprovider > "$OUT/bench.txt" 2>&1
echo "benchmark session exit $? after ${SECONDS} s" >> "$OUT/bench.txt"
# A session cut off by the timeout leaves a PARTIAL run: say so before anyone commits it.
"$PYTHON" scripts/run_status.py "$RESULTS_DIR" >> "$OUT/bench.txt"
cat "$OUT/cuda-tests.txt" | tail -n 25
tail -n 70 "$OUT/bench.txt"
