"""`mnist-bench ab` with real worker processes on real Fashion-MNIST: a one-side fault shows in that side's rates,
and a whole (tiny) session finds it, writes its file and exits 1.

The faults are far larger than any noise (a step that sleeps 500 ms, or 20 ms where a step takes microseconds),
so every assertion follows from the sleep itself, not from how fast this machine happens to be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.ab.client import WorkerProcess
from mnist_core.ab.sides import BASELINE, CURRENT, Side
from mnist_core.ab.worker import PLUGINS_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
ROW = "loader/cpu-mlp-resident-bs128"
FAULT_ENV = {PLUGINS_ENV: "fault_injection", "PYTHONPATH": "tests"}


def _side(name: str, env: dict) -> Side:
    return Side(name, sys.executable, REPO_ROOT, env, None, None)


def test_a_fault_on_one_side_slows_only_that_sides_rounds(fashion_dir):
    delay_s, steps = 0.5, 2
    faulted = _side(CURRENT, {**FAULT_ENV, "MNIST_BENCH_INJECT": f"delay_ms:{delay_s * 1000:g}@loader=resident"})
    rates = {}
    for side in (_side(BASELINE, {}), faulted):
        with WorkerProcess(side, "quick", ("cpu",), "fashion-mnist", str(fashion_dir)) as worker:
            assert ROW in worker.hello["rows"] and worker.hello["dataset"]["name"] == "fashion-mnist"
            opened = worker.request("open", row=ROW, steps_per_round=steps)
            assert opened["steps_per_round"] == steps
            rates[side.name] = worker.request("block", seconds=0.0, min_rounds=3)["rates"]
    ceiling = 128 / delay_s  # samples/s of a step that sleeps delay_s, at best
    assert len(rates[CURRENT]) == 3 and max(rates[CURRENT]) <= ceiling
    assert min(rates[BASELINE]) > 4 * ceiling  # a resident batch is an index gather: far under 125 ms


def test_a_worker_that_cannot_start_is_one_line_naming_the_side(fashion_dir):
    broken = _side(CURRENT, {**FAULT_ENV, "MNIST_BENCH_INJECT": "no_such_fault"})
    with pytest.raises(Exception, match="current side's worker.*unknown fault 'no_such_fault'"):
        WorkerProcess(broken, "quick", ("cpu",), "fashion-mnist", str(fashion_dir)).hello


@pytest.mark.slow
def test_a_tiny_ab_session_calls_the_slowed_row_slower_and_writes_its_file(fashion_dir, tmp_path):
    command = [sys.executable, "-m", "mnist_core.commands.cli", "ab", "--bench-profile", "quick", "-k",
               "loader and resident", "--dataset", "fashion-mnist", "--data-root", str(fashion_dir),
               "--results-dir", str(tmp_path), "--seed", "5"]
    for key, value in {**FAULT_ENV, "MNIST_BENCH_INJECT": "delay_ms:20@loader=resident"}.items():
        command += ["--current-env", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr
    assert "block 24/24" in done.stderr  # a progress line per block
    (path,) = tmp_path.glob("ab-*.json")
    data = json.loads(path.read_text())
    assert data["complete"] and data["rows"] == [ROW] and data["settings"]["seed"] == 5
    assert len(data["blocks"]) == 3 * 8 and len(data["sides"][CURRENT]["workers"]) == 3
    assert data["sides"][CURRENT]["env"]["MNIST_BENCH_INJECT"] == "delay_ms:20@loader=resident"
    assert data["sides"][BASELINE]["env"] == {}
    (result,) = data["results"]
    assert result["verdict"] == "slower" and result["pairs"] == 12
    assert path.with_suffix(".md").read_text().splitlines()[3].startswith("- 1 slower")
