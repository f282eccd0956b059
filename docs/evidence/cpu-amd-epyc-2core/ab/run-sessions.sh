#!/bin/bash
# Real quick ab sessions on the shared 2-core VM (others working on it too), one after another: A/A sessions, and
# one with the CNN training row made 20% slower on the current side only (the test-only fault plugin, its
# slowdown_pct fault, switched on by the current side's environment). Usage: run-sessions.sh NAME... with NAME one of
# aa-quick-N or slow20-cnn-quick-N. Each writes NAME.log here (uptime before and after, exit code, wall time) beside
# the ab-run file and its page.
cd "$(dirname "$0")/../../../.." || exit 2
OUT=docs/evidence/cpu-amd-epyc-2core/ab
SLOW20=(--current-env MNIST_BENCH_WORKER_PLUGINS=fault_injection --current-env PYTHONPATH=tests
        --current-env "MNIST_BENCH_INJECT=slowdown_pct:20@model=cnn")
for name in "$@"; do
  case $name in slow20-*) extra=("${SLOW20[@]}") ;; *) extra=() ;; esac
  { echo "# $name: started $(date -u +%FT%TZ); uptime: $(uptime)"; echo "# command: mnist-bench ab ${extra[*]}"; } > $OUT/$name.log
  start=$(date +%s)
  PYTHONPATH=$PWD nice -n 10 "${PYTHON:-.venv/bin/python}" -m mnist_core.commands.cli ab --bench-profile quick \
    --dataset fashion-mnist --data-root /usr/share/datasets/fashion-mnist --results-dir $OUT "${extra[@]}" >> $OUT/$name.log 2>&1
  echo "# exit code $?; wall $(( $(date +%s) - start )) s; ended $(date -u +%FT%TZ); uptime: $(uptime)" >> $OUT/$name.log
done
