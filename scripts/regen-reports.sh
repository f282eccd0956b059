#!/usr/bin/env bash
# Rebuild every report committed under docs/evidence/ with this version, from the run file beside it
# (DIR/report.md comes from DIR.json). Run it after a change to the report or the run model, and review the diff:
# a refactoring must leave report.md and results.csv byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.venv/bin"
find docs/evidence -name report.md | sort | while read -r report; do
  dir=$(dirname "$report")
  "$bin"/mnist-bench report "$dir.json" --out "$dir" --force > /dev/null
  echo "$dir"
done
