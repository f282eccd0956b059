"""bench/replay.py hands rounds to pytest-benchmark through its public API: a real pytest-benchmark session of a
one-line benchmark (no torch work), its JSON read back. The copy rows' unit (seconds per GB, so OPS is GB/s)
is shown here, as the CPU-only sessions of the other tests have no copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.replay import REPLAY_TIMER

REPO_ROOT = Path(__file__).resolve().parent.parent
GB_S_ROUNDS = (40.0, 50.0, 45.0, 47.5)  # four copy rounds, GB/s

BENCHMARK = f"""
from bench.replay import record_rounds

def test_copy(benchmark):
    benchmark.group = "transfer"
    record_rounds(benchmark, [1 / rate for rate in {GB_S_ROUNDS!r}])  # seconds per GB
"""


def pytest_benchmark_session(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    (tmp_path / "test_copy.py").write_text(BENCHMARK)
    exported = tmp_path / "out.json"
    command = [sys.executable, "-m", "pytest", "test_copy.py", f"--benchmark-json={exported}", "-p", "no:cacheprovider",
               "--rootdir", str(tmp_path), "-c", os.devnull, *options]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO_ROOT), os.environ.get("PYTHONPATH"))))}
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env), exported


def test_rounds_replayed_per_gb(tmp_path):
    completed, exported = pytest_benchmark_session(tmp_path, f"--benchmark-timer={REPLAY_TIMER}")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    (bench,) = json.loads(exported.read_text())["benchmarks"]
    stats = bench["stats"]
    assert stats["data"] == [1 / rate for rate in GB_S_ROUNDS] and stats["iterations"] == 1
    assert stats["median"] == pytest.approx((1 / 45.0 + 1 / 47.5) / 2)  # the middle two rounds' time per GB
    assert stats["ops"] == pytest.approx(len(GB_S_ROUNDS) / sum(1 / rate for rate in GB_S_ROUNDS))  # GB/s
    assert bench["options"]["timer"] == "replay_clock"


def test_another_timer_is_caught(tmp_path):
    """Outside bench/ nothing sets the replay clock: pytest-benchmark's own timer would time an empty call, and
    record_rounds says so instead of storing that."""
    completed, exported = pytest_benchmark_session(tmp_path)
    assert completed.returncode == 1
    assert f"its timer must be {REPLAY_TIMER} (--benchmark-timer)" in completed.stdout
