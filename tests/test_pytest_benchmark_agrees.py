"""pytest-benchmark's own numbers say what mnist-bench's say (bench/replay.py).

Its stats are time per sample (per GB for copies, the whole run for time to accuracy), whatever the round size
each session fitted, so `pytest-benchmark compare` between two sessions shows the change mnist-bench measured.
Shown on a committed A/A pair of quick sessions recorded with this version, next to the pytest-benchmark compare
output committed with it; the default A/A pair recorded before (seconds per round) is the counter-example.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.measure.measurement import Measurement

EVIDENCE = Path(__file__).resolve().parent.parent / "docs" / "evidence" / "cpu-amd-epyc-2core" / "aa"
PAIR = EVIDENCE / "quick-samples"
BETWEEN_MEDIAN = PAIR / "pytest-benchmark-between-median.txt"  # `pytest-benchmark compare --between median`
SECONDS_PER_ROUND_PAIR = EVIDENCE / "default-8"  # recorded before: pytest-benchmark's stats were round times
AGREE_WITHIN = 0.01  # 1%: the ΔMedian pytest-benchmark prints is rounded to 0.1%
ROW = re.compile(r"^(test_\S+\[\S+\])\s+([\d,.]+)\s+([\d,.]+)\s+([+-][\d.]+)%$")


def pair(folder: Path) -> tuple[dict, dict]:
    before, after = (json.loads(path.read_text()) for path in sorted(folder.glob("run-*.json")))
    return before, after


def mnist_bench_value(bench: dict) -> float:
    """Time per unit of work as mnist-bench prints it: 1 / the median its run model takes of the row's rounds
    (samples/s or GB/s); an accuracy row's seconds."""
    info = bench["extra_info"]
    if info["kind"] == "accuracy":
        return info["seconds"]
    metric = "samples_per_s" if "samples_per_s_rounds" in info else "gb_s"
    return 1 / Measurement(metric, tuple(info[f"{metric}_rounds"])).median


def changes(before: dict, after: dict, value) -> dict[str, float]:
    """Each row's time ratio, after / before, by `value` of its benchmark entry."""
    earlier = {bench["name"]: bench for bench in before["benchmarks"]}
    return {bench["name"]: value(bench) / value(earlier[bench["name"]]) for bench in after["benchmarks"]
            if bench["name"] in earlier}


def disagreeing(before: dict, after: dict) -> dict[str, tuple[float, float]]:
    pytest_benchmark = changes(before, after, lambda bench: bench["stats"]["median"])
    mnist_bench = changes(before, after, mnist_bench_value)
    return {name: (pytest_benchmark[name], mnist_bench[name]) for name in mnist_bench
            if abs(pytest_benchmark[name] / mnist_bench[name] - 1) > AGREE_WITHIN}


def test_the_pair_was_recorded_with_stats_per_sample():
    before, after = pair(PAIR)
    assert before["mnist_bench"]["profile"] == after["mnist_bench"]["profile"] == "quick"
    for run in (before, after):
        rows = [bench for bench in run["benchmarks"] if bench["extra_info"]["kind"] != "accuracy"]
        assert len(rows) == 8  # the quick profile's CPU rows: 3 train, 3 loader, 2 overhead
        for bench in rows:
            assert bench["stats"]["data"] == [1 / rate for rate in bench["extra_info"]["samples_per_s_rounds"]]


def test_pytest_benchmark_median_change_is_mnist_benchs_on_every_row():
    before, after = pair(PAIR)
    refitted = changes(before, after, lambda bench: bench["extra_info"]["samples_per_round"])
    assert sum(ratio != 1 for ratio in refitted.values()) >= 3  # the sessions fitted other round sizes to these rows
    assert len(changes(before, after, mnist_bench_value)) == len(before["benchmarks"]) == 9  # and time to accuracy
    assert disagreeing(before, after) == {}


def test_the_committed_between_median_output_shows_the_same_changes():
    lines = BETWEEN_MEDIAN.read_text().splitlines()
    names = sorted(path.name for path in PAIR.glob("run-*.json"))
    assert lines[0] == f"$ pytest-benchmark compare --between median {names[0]} {names[1]}"
    printed = {match[1]: 1 + float(match[4]) / 100 for line in lines if (match := ROW.match(line.strip()))}
    before, after = pair(PAIR)
    mnist_bench = changes(before, after, mnist_bench_value)
    assert printed.keys() == mnist_bench.keys()
    for name, ratio in printed.items():  # printed to 0.1%
        assert ratio == pytest.approx(mnist_bench[name], rel=AGREE_WITHIN), name


def test_round_times_disagreed_before():
    """The counter-example that this check can fail: with stats in seconds per round, rows whose sessions fitted
    different round sizes moved by another amount than their samples/s (the compiled step at batch 2048: +61%
    slower by round time while its samples/s rose)."""
    before, after = pair(SECONDS_PER_ROUND_PAIR)
    apart = disagreeing(before, after)
    assert "test_train[cpu-mlp-resident-compiled-bs2048]" in apart
    round_time, per_sample = apart["test_train[cpu-mlp-resident-compiled-bs2048]"]
    assert round_time > 1.5 and per_sample < 1


def test_histograms_of_the_pair(tmp_path):
    """--benchmark-histogram and `pytest-benchmark compare --histogram` need pygal and pygaljs: dependencies."""
    script = Path(sys.executable).with_name("pytest-benchmark")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_benchmark"]
    completed = subprocess.run([*command, "compare", f"--histogram={tmp_path / 'h'}",
                                *sorted(map(str, PAIR.glob("run-*.json")))], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert {path.name for path in tmp_path.glob("h-*.svg")} >= {"h-train.svg", "h-loader.svg"}
