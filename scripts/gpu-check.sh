#!/usr/bin/env bash
# A prepared GPU session, in steps that each fit one 10-minute device command; outputs under $OUT.
#
#   OUT=/tmp/gpu-out MNIST_BENCH_DATA_ROOT=.data/fashion-mnist bash scripts/gpu-check.sh tests    # ~3 min
#   OUT=/tmp/gpu-out MNIST_BENCH_DATA_ROOT=.data/fashion-mnist bash scripts/gpu-check.sh default  # <= 10 min
#   OUT=/tmp/gpu-out MNIST_BENCH_DATA_ROOT=.data/fashion-mnist bash scripts/gpu-check.sh colab    # <= 10 min
#
# tests:   the CUDA-only tests (graph and compiled steps vs eager on the same batches, no host sync,
#          memory released between configurations), the machine's description.
# default: the default profile on the whole machine, to completion.
# colab:   the default profile pinned to 2 CPU cores with 2 torch threads (a Colab-like host), timed.
# Runs from a checkout without installing it: PYTHONPATH=. and `-p bench.plugin` load the benchmark plugin
# the way an installed package's entry point would. Needs torch with CUDA, pytest-benchmark, pandas, rich,
# matplotlib, nvidia-ml-py; no network (MNIST_BENCH_DATA_ROOT holds the four Fashion-MNIST IDX files).
set -uo pipefail
cd "$(dirname "$0")/.."
STEP=${1:-tests}
OUT=${OUT:-$PWD/gpu-out}
DATA_ROOT=${MNIST_BENCH_DATA_ROOT:-/usr/share/datasets/fashion-mnist}
PYTHON=${PYTHON:-python3}  # on the GPU image, python3 is the interpreter that holds torch
LIMIT_S=${LIMIT_S:-590}  # under the device's 10-minute command limit: a cut session is PARTIAL and says so
mkdir -p "$OUT"
export PYTHONPATH=$PWD MNIST_BENCH_FASHION_DIR=$DATA_ROOT PYTHONUNBUFFERED=1
BENCH=("$PYTHON" -m pytest -p bench.plugin bench --benchmark-only --bench-profile=default --dataset=fashion-mnist
       --data-root="$DATA_ROOT" -p no:cacheprovider)

case "$STEP" in
  tests)
    { nvidia-smi; nvidia-smi -q | grep -iA4 "PCI$\|Link"; } > "$OUT/nvidia-smi.txt" 2>&1
    "$PYTHON" -m mnist_core.commands.cli info --dataset fashion-mnist --data-root "$DATA_ROOT" > "$OUT/info.txt" 2>&1
    timeout 240 "$PYTHON" -m pytest tests -m cuda -rs -q -p no:cacheprovider > "$OUT/cuda-tests.txt" 2>&1
    echo "cuda tests exit $?" >> "$OUT/cuda-tests.txt"
    tail -n 30 "$OUT/cuda-tests.txt" ;;
  default|colab)
    PIN=()
    THREADS=()
    if [ "$STEP" = colab ]; then PIN=(taskset -c 0,1); THREADS=(--torch-threads=2); fi
    SECONDS=0
    timeout "$LIMIT_S" "${PIN[@]}" "${BENCH[@]}" "${THREADS[@]}" --results-dir="$OUT/results-$STEP" \
      > "$OUT/bench-$STEP.txt" 2>&1
    echo "benchmark session ($STEP) exit $? after ${SECONDS} s" >> "$OUT/bench-$STEP.txt"
    "$PYTHON" scripts/run_status.py "$OUT/results-$STEP" >> "$OUT/bench-$STEP.txt"
    tail -n 40 "$OUT/bench-$STEP.txt" ;;
  *) echo "unknown step $STEP: use tests, default or colab" >&2; exit 2 ;;
esac
