"""Rounds in passes: a CPU row's rounds spread over the session (profiles.py), one row in the run file."""

import itertools
import json

import pytest

from conftest import run_bench, saved_runs
from mnist_core.measure import profiles
from mnist_core.measure.measurement import Measurement
from mnist_core.measure.rounds import CONVERGED, INTERVAL_ROUNDS, RoundPolicy, Timed, run_rounds
from mnist_core.runs.runfile import read_run

ROW = "train/cpu-mlp-resident-bs128"


def steady(value=100.0):
    values = itertools.cycle([value, value * 1.001, value * 0.999])
    return lambda: Timed(next(values))


def test_a_pass_converges_on_all_the_rows_rounds_never_on_fewer_than_an_interval_needs():
    policy = RoundPolicy(min_rounds=2, max_rounds=10, target_pct=5.0, max_seconds=1e9)
    first = run_rounds("samples_per_s", steady(), policy)
    assert first.rounds == INTERVAL_ROUNDS and first.stop_reason.startswith(CONVERGED)  # not after 2
    later = run_rounds("samples_per_s", steady(), policy, earlier=first)
    assert later.rounds == 2 and later.stop_reason.startswith(CONVERGED)  # the first pass's rounds count


def test_passes_join_into_one_measurement_in_the_order_they_ran():
    first = Measurement("samples_per_s", (1.0, 2.0), "train/ref", (5.0, 5.0), stop_reason="pass 1: max rounds",
                        states=(9.0, 9.0))
    second = Measurement("samples_per_s", (3.0,), "train/ref", (6.0,), stop_reason="pass 2: time cap", states=(8.0,))
    joined = first.then(second)
    assert joined.rates == (1.0, 2.0, 3.0) and joined.yardstick_rates == (5.0, 5.0, 6.0)
    assert joined.states == (9.0, 9.0, 8.0) and joined.stop_reason == "pass 1: max rounds; pass 2: time cap"
    unpaired = first.then(Measurement("samples_per_s", (3.0,)))  # its yardstick could not run in the second pass
    assert unpaired.yardstick is None and unpaired.yardstick_rates == () and unpaired.states == ()


def test_a_pass_takes_its_share_of_a_rows_rounds_and_time_and_cuda_rows_take_one_pass():
    default = profiles.get_profile("default")
    whole, third = default.row_policy(390, 20), default.row_policy(390, 60, passes=3)
    assert third.max_rounds * 3 == whole.max_rounds and third.min_rounds * 3 == whole.min_rounds
    assert third.max_seconds == pytest.approx(whole.max_seconds / 3)
    low = default.row_policy(1, 60, passes=3)  # the budget nearly spent: a pass keeps a third of the row's floor
    assert low.max_seconds == pytest.approx(default.row_cap_s[0] / 3)
    assert default.passes_for("cpu") == 3 and default.passes_for("cuda") == 1 and default.passes_for("cpu", 2) == 2
    assert profiles.get_profile("quick").passes_for("cpu") == 1


def test_a_session_in_passes_runs_every_row_then_again_and_saves_one_row_of_all_its_rounds(tmp_path):
    exported = tmp_path / "pytest-benchmark.json"
    completed = run_bench(tmp_path / "results", "--bench-passes=2", "-k", "train and (resident-bs128 or cnn)",
                          "-vv", "--no-report", f"--benchmark-json={exported}")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "taken in 2 passes" in completed.stdout
    ran = [line.split(" ")[0] for line in completed.stdout.splitlines() if line.startswith("bench/") and "PASSED" in line]
    assert len(ran) == 4 and len(set(ran[:2])) == 2 and set(ran[2:]) == set(ran[:2])  # every row, then again
    run = read_run(saved_runs(tmp_path / "results")[0])
    rows = [row for row in run.rows if row.kind == "train"]
    assert sorted(row.id for row in rows) == sorted({ROW, "train/cpu-cnn-resident-bs128"})
    for row in rows:
        reasons = row.measurement.stop_reason.split("; ")
        assert [reason.split(":")[0] for reason in reasons] == ["pass 1", "pass 2"]
        assert row.measurement.rounds == len(row.measurement.yardstick_rates) == len(row.measurement.states)
    exported_rows = json.loads(exported.read_text())["benchmarks"]
    assert len(exported_rows) == 2  # pytest-benchmark's own output: one entry per row, every round in it
    assert all(len(bench["stats"]["data"]) == bench["extra_info"]["rounds"] for bench in exported_rows)


def test_a_row_that_fails_in_a_later_pass_is_failed_not_half_measured(tmp_path):
    completed = run_bench(tmp_path / "results", "--bench-passes=2", "-k", "train and resident-bs128", "--no-report",
                          env={"MNIST_BENCH_INJECT": "oom:2@model=mlp,loader=resident,batch_size=128"})
    assert completed.returncode == 1, completed.stdout[-3000:]
    data = json.loads(saved_runs(tmp_path / "results")[0].read_text())
    measured = [bench["fullname"].split("[")[1] for bench in data["benchmarks"]]
    assert measured == ["cpu-cnn-resident-bs128]"]  # its first pass's rounds are gone with the failure
    assert [entry["id"] for entry in data["mnist_bench"]["failed"]] == [ROW]
