#!/bin/bash
# Real ab sessions on the 2-core VM, one after another. Usage: run-sessions.sh NAME... with NAME one of
#   aa-PROFILE-N           both sides the same (A/A)
#   slow20-cnn-PROFILE-N   the current side's CNN training row 20% slower (test-only fault plugin, slowdown_pct)
#   slow10-cnn-PROFILE-N   the same, 10% slower
#   sample40-PROFILE-N     the current side's every sample through the tutorial's Dataset (PIL -> ToTensor) 40 µs
#                          slower: every DataLoader row and the yardstick slower (fault sample_us)
# PROFILE is quick or default. Each writes NAME.log here (uptime before and after, exit code, wall time) beside the
# ab-run file and its page. NICE (default 0) sets the sessions' niceness.
cd "$(dirname "$0")/../../../.." || exit 2
OUT=docs/evidence/cpu-amd-epyc-2core/ab
PLUGIN=(--current-env MNIST_BENCH_WORKER_PLUGINS=fault_injection --current-env PYTHONPATH=tests)
for name in "$@"; do
  case $name in
    slow20-cnn-*) extra=("${PLUGIN[@]}" --current-env "MNIST_BENCH_INJECT=slowdown_pct:20@model=cnn") ;;
    slow10-cnn-*) extra=("${PLUGIN[@]}" --current-env "MNIST_BENCH_INJECT=slowdown_pct:10@model=cnn") ;;
    sample40-*) extra=("${PLUGIN[@]}" --current-env "MNIST_BENCH_INJECT=sample_us:40") ;;
    *) extra=() ;;
  esac
  case $name in *-default-*) profile=default ;; *) profile=quick ;; esac
  { echo "# $name: started $(date -u +%FT%TZ); uptime: $(uptime)"; echo "# command: mnist-bench ab --bench-profile $profile ${extra[*]}"; } > $OUT/$name.log
  start=$(date +%s)
  PYTHONPATH=$PWD nice -n "${NICE:-0}" "${PYTHON:-.venv/bin/python}" -m mnist_core.commands.cli ab --bench-profile $profile \
    --dataset fashion-mnist --data-root /usr/share/datasets/fashion-mnist --results-dir $OUT "${extra[@]}" >> $OUT/$name.log 2>&1
  echo "# exit code $?; wall $(( $(date +%s) - start )) s; ended $(date -u +%FT%TZ); uptime: $(uptime)" >> $OUT/$name.log
done
