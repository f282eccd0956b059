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
BENCH_TIMEOUT_S=${BENCH_TIMEOUT_S:-420}  # leaves a 15-minute device session time to rerun
mkdir -p "$OUT"
export PYTHONPATH=$PWD MNIST_BENCH_FASHION_DIR=$DATA_ROOT

{ nvidia-smi; nvidia-smi -q | grep -iA4 "PCI$\|Link"; } > "$OUT/nvidia-smi.txt" 2>&1
python -m mnist_core.cli info --dataset fashion-mnist --data-root "$DATA_ROOT" > "$OUT/info.txt" 2>&1

# CUDA paths for real: graph vs eager agreement, no host sync, memory released between configs.
python -m pytest tests -m cuda -rs -q -p no:cacheprovider > "$OUT/cuda-tests.txt" 2>&1
echo "cuda tests exit $?" >> "$OUT/cuda-tests.txt"

timeout "$BENCH_TIMEOUT_S" python -m pytest --benchmark-only --bench-profile=default --dataset=fashion-mnist \
  --data-root="$DATA_ROOT" --results-dir="$OUT/results" -p no:cacheprovider > "$OUT/bench.txt" 2>&1
echo "benchmark session exit $?" >> "$OUT/bench.txt"
# A session cut off by the timeout leaves a PARTIAL run: say so before anyone commits it.
python - "$OUT/results" <<'PY' >> "$OUT/bench.txt"
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("run-*.json")):
    section = json.loads(path.read_text())["mnist_bench"]
    print(f"{path.name}: complete={section['complete']} interrupted={section['interrupted']}")
PY
tail -n 60 "$OUT/bench.txt"
