"""The benchmark matrix (pytest wiring only; the measuring logic lives in mnist_core)."""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent  # what `pytest --benchmark-only` must collect
