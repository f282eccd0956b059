#!/bin/bash
# Per row: the suite's measurement of every CPU DataLoader row with workers against whole epochs of the tutorial's
# loop, interleaved in one process (scripts/epoch_anatomy.py), in PASSES passes of REPS repetitions per setting so each
# setting's repetitions are spread over the session's minutes. Appends to <kind>-bs<batch>-<profile>.jsonl here.
# Usage: run.sh [PASSES] [REPS]   (PYTHON: the interpreter; default .venv/bin/python)
cd "$(dirname "$0")/../../../../.." || exit 2
OUT=docs/evidence/cpu-amd-epyc-2core/epoch-agreement/per-row
SETTINGS=("train 128 quick" "loader 128 quick" "train 2048 quick"
          "train 32 default" "train 128 default" "train 512 default" "train 2048 default" "loader 128 default")
for pass in $(seq 1 "${1:-3}"); do
  for setting in "${SETTINGS[@]}"; do
    read -r kind batch profile <<< "$setting"
    PYTHONPATH=$PWD "${PYTHON:-.venv/bin/python}" scripts/epoch_anatomy.py --kind "$kind" --batch-size "$batch" \
      --workers 2 --reps "${2:-8}" --profile "$profile" --dataset fashion-mnist \
      | grep '"rep"' >> "$OUT/$kind-bs$batch-$profile.jsonl"
  done
done
