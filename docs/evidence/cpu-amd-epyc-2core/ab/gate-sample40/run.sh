#!/bin/bash
# The saved-run gate on the tutorial pipeline's slowdown that ab is calibrated on: two quick sessions one after
# another, the second with every sample through the tutorial's Dataset 40 µs slower (fault sample_us, tests/
# fault_injection.py), then `mnist-bench compare` of the second against the first. Usage: run.sh [FOLDER], FOLDER
# under ab/ (default gate-sample40).
cd "$(dirname "$0")/../../../../.." || exit 2
OUT=docs/evidence/cpu-amd-epyc-2core/ab/${1:-gate-sample40}
mkdir -p $OUT
common=(bench --benchmark-only --bench-profile quick --dataset fashion-mnist --data-root=/usr/share/datasets/fashion-mnist
        --no-report -p no:cacheprovider -p fault_injection)
{ echo "# started $(date -u +%FT%TZ); uptime: $(uptime)"; PYTHONPATH=$PWD/tests:$PWD "${PYTHON:-.venv/bin/python}" -m pytest "${common[@]}" --results-dir=$OUT/unchanged; echo "# exit $?; uptime: $(uptime)"; } > $OUT/unchanged.log 2>&1
{ echo "# started $(date -u +%FT%TZ); uptime: $(uptime)"; MNIST_BENCH_INJECT=sample_us:40 PYTHONPATH=$PWD/tests:$PWD "${PYTHON:-.venv/bin/python}" -m pytest "${common[@]}" --results-dir=$OUT/slowed; echo "# exit $?; uptime: $(uptime)"; } > $OUT/slowed.log 2>&1
python=${PYTHON:-$PWD/.venv/bin/python} root=$PWD
cd $OUT && base=$(ls unchanged/run-*.json) cur=$(ls slowed/run-*.json)
{ echo "\$ mnist-bench compare $base $cur"; COLUMNS=200 PYTHONPATH=$root "$python" -m mnist_core.commands.cli compare "$base" "$cur"; echo "exit code: $?"; } > compare.txt 2>&1
