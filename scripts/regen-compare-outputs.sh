#!/usr/bin/env bash
# Rewrite every compare output committed under docs/evidence/ with this version: each file's first line is the command
# it came from, run again in its own folder at the width the files are written at (tests/test_committed_comparisons.py
# checks they match). Run it after a change to the comparison, and review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.venv/bin"
find docs/evidence -name '*compare*.txt' | sort | while read -r file; do
  command=$(head -1 "$file" | sed 's/^\$ //')
  output=$(mktemp)
  ( cd "$(dirname "$file")" && { echo "\$ $command"; set +e; COLUMNS=200 "$bin"/$command; echo "exit code: $?"; } > "$output" 2>&1 )
  cat "$output" > "$file" && rm "$output"
  echo "$file: $(tail -2 "$file" | head -1 | cut -c1-120)"
done
