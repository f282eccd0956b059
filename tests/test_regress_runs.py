"""Regression checks on real quick-profile runs (CPU, Fashion-MNIST), slowed where needed by MNIST_BENCH_INJECT.

Sessions run small subsets to stay fast. The slowdowns are a sleep at every step of chosen configurations
(tests/fault_injection.py's delay_ms), large against the ~6 ms a batch takes here.

Comparisons between sessions use --threshold 60, not the default 10: on the shared 2-core VMs these
tests run on, a whole session ran up to ~45% slower than one a minute earlier (every configuration at
once; measured while writing these tests), which no statistic over one session's rounds can tell from
a real change. DataLoader workers (w2) swing even more there, so the compared subset leaves them out.
The injected slowdown is ~-85%. The default threshold's logic is tested on hand-made rounds in
test_regress_units.py, and its false-alarm rate and power in test_calibration.py. Sessions use one torch thread: with two, a process sharing the two cores with
others (OpenMP threads waiting on a descheduled peer) ran resident training 100x slower for a whole
session, which is the machine's doing, not the code's.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import run_bench, saved_runs
from mnist_core.measure.effect import SLOWER
from mnist_core.regress.comparison import compare_runs
from mnist_core.regress.rules import HOLDS, VIOLATED, check_rules
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import load_run, read_run
from cli_helpers import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow

COMPARED = ("-k", "(test_train or test_loader) and not cnn and not w2")  # loader w0, loader and train resident
LOADERS = ("-k", "test_loader")  # dataloader w0 and w2, resident
THRESHOLD = ("--threshold", "60")
SLOW_W0 = "delay_ms:40@loader=dataloader,num_workers=0"  # in quick, only the loader benchmark has 0 workers
SLOW_W2_AND_RESIDENT = "delay_ms:20@loader=dataloader,num_workers=2;delay_ms:30@loader=resident"
W0 = "loader/cpu-mlp-dataloader-bs128-w0"


def bench_env(inject: str = "") -> dict:
    return {"MNIST_BENCH_INJECT": inject, "OMP_NUM_THREADS": "1"}


def session(tmp_path_factory, name: str, inject: str = "", *extra: str) -> Path:
    results = tmp_path_factory.mktemp(name)
    completed = run_bench(results, *extra, env=bench_env(inject))
    runs = saved_runs(results)
    if completed.returncode != 0 or len(runs) != 1:
        pytest.fail(f"benchmark session {name} failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n"
                    f"{completed.stderr[-3000:]}", pytrace=False)
    return runs[0]


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> Path:
    return session(tmp_path_factory, "run-a", "", *COMPARED)


@pytest.fixture(scope="module")
def run_b(tmp_path_factory) -> Path:
    return session(tmp_path_factory, "run-b", "", *COMPARED)


@pytest.fixture(scope="module")
def run_slow(tmp_path_factory) -> Path:
    return session(tmp_path_factory, "run-slow", SLOW_W0, *COMPARED)


@pytest.fixture(scope="module")
def run_rules(tmp_path_factory) -> Path:
    return session(tmp_path_factory, "run-rules", SLOW_W2_AND_RESIDENT, *LOADERS)


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def edited_copy(path: Path, target: Path, edit) -> Path:
    run = copy.deepcopy(load_run(path))
    edit(run)
    return write_json_atomic(target, run)


# compare ----------------------------------------------------------------------------------------

def test_two_runs_of_the_same_code_have_no_regression(capsys, run_a, run_b):
    code, out, err = run_cli(capsys, "compare", run_a, run_b, *THRESHOLD)
    assert code == 0, out + err
    assert "no regression" in out and W0 in out


def test_a_slowed_configuration_is_the_one_regression(capsys, run_a, run_slow):
    code, out, _ = run_cli(capsys, "compare", run_a, run_slow, *THRESHOLD)
    assert code == 1, out
    assert "REGRESSION: 1 slower by more than 60%" in out
    comparison = compare_runs(read_run(run_a), read_run(run_slow), 60)
    assert [row.id for row in comparison.rows if row.status == SLOWER] == [W0]
    assert len(comparison.rows) == 3 and comparison.count("missing") == comparison.count("new") == 0
    w0 = next(row for row in comparison.rows if row.id == W0)
    assert w0.verdict.effect.high_pct < -60  # the whole interval beyond the threshold
    # The default threshold flags it too (and perhaps, on a busy machine, more).
    assert W0 in [row.id for row in compare_runs(read_run(run_a), read_run(run_slow)).regressed]


def test_check_against_this_hardwares_baseline(capsys, tmp_path, run_a, run_b, run_slow):
    code, out, err = run_cli(capsys, "baseline", "save", run_a, "--results-dir", tmp_path)
    assert code == 0, err
    assert "a complete run" in out
    code, out, err = run_cli(capsys, "check", run_b, "--results-dir", tmp_path, *THRESHOLD)
    assert code == 0, out + err
    assert "no regression" in out and "rule workers" in out
    shutil.copy(run_slow, tmp_path / run_slow.name)  # the latest run under --results-dir
    code, out, _ = run_cli(capsys, "check", "--results-dir", tmp_path, *THRESHOLD)
    assert code == 1 and str(tmp_path / run_slow.name) in out and "REGRESSION" in out


# unusable input: exit 2, one line -------------------------------------------------------------------

def test_corrupt_baseline(capsys, tmp_path, run_a, run_b):
    run_cli(capsys, "baseline", "save", run_a, "--results-dir", tmp_path)
    (baseline,) = (tmp_path / "baselines").glob("*.json")
    baseline.write_text(baseline.read_text()[:500])
    code, _, err = run_cli(capsys, "check", run_b, "--results-dir", tmp_path)
    assert_one_line_error(code, err, str(baseline), "not valid JSON", "baseline save RUN --force")
    code, _, err = run_cli(capsys, "compare", baseline, run_b)
    assert_one_line_error(code, err, "not valid JSON")
    code, _, err = run_cli(capsys, "compare", tmp_path / "missing.json", run_b)
    assert_one_line_error(code, err, "no such run file")


def test_baseline_from_other_hardware(capsys, tmp_path, run_a, run_b):
    def other_machine(run):
        run["machine_info"].update(torch_version="2.3.1", cpu_model="Intel Xeon @ 2.20GHz")

    other = edited_copy(run_a, tmp_path / "other.json", other_machine)
    code, _, err = run_cli(capsys, "compare", other, run_b)
    assert_one_line_error(code, err, "different hardware keys", "torch 2.3 vs", "--allow-hardware-mismatch")
    code, out, _ = run_cli(capsys, "compare", other, run_b, "--allow-hardware-mismatch", *THRESHOLD)
    assert code == 0 and "warning: different hardware keys" in out

    results = tmp_path / "results"
    run_cli(capsys, "baseline", "save", other, "--results-dir", results)
    code, _, err = run_cli(capsys, "check", run_b, "--results-dir", results)
    assert_one_line_error(code, err, "no baseline for this machine", "baseline save")
    code, out, _ = run_cli(capsys, "check", run_b, "--results-dir", results, "--allow-hardware-mismatch", *THRESHOLD)
    assert code == 0 and "warning: different hardware keys" in out

    # A file under this run's key that holds another machine's run (copied by hand): refused too.
    shutil.copy(other, results / "baselines" / _slug_of(run_b))
    code, _, err = run_cli(capsys, "check", run_b, "--results-dir", results)
    assert_one_line_error(code, err, "different hardware keys", "torch 2.3 vs")


def _slug_of(run_path: Path) -> str:
    from mnist_core.regress.hardware_key import hardware_key, key_slug

    return f"{key_slug(hardware_key(read_run(run_path)))}.json"


def test_runs_with_no_common_benchmark(capsys, tmp_path, run_a, run_b):
    def only(kind):
        def edit(run):
            run["benchmarks"] = [bench for bench in run["benchmarks"] if bench["extra_info"]["kind"] == kind]
        return edit

    loaders = edited_copy(run_a, tmp_path / "loaders.json", only("loader"))
    trains = edited_copy(run_b, tmp_path / "trains.json", only("train"))
    code, _, err = run_cli(capsys, "compare", loaders, trains)
    assert_one_line_error(code, err, "no benchmark configuration is in both")


def test_partial_run_is_accepted_and_said_to_be_partial(capsys, tmp_path, run_a, run_b):
    def interrupted(run):
        run["mnist_bench"].update(complete=False, interrupted=True)
        run["benchmarks"] = run["benchmarks"][:2]

    partial = edited_copy(run_b, tmp_path / "partial.json", interrupted)
    code, out, _ = run_cli(capsys, "compare", run_a, partial, *THRESHOLD)
    assert code == 0 and "current run is PARTIAL" in out and "missing" in out


# setting rules -------------------------------------------------------------------------------------

def test_rules_report_the_slowed_setting_as_violated(capsys, tmp_path, run_rules):
    results = {result.rule: result for result in check_rules(read_run(run_rules))}
    assert results["workers"].outcome == VIOLATED
    assert results["resident"].outcome == VIOLATED
    assert all(pair.outcome == VIOLATED for pair in results["resident"].pairs)
    assert results["pinned-nb"].outcome == "not applicable"

    # Checked against a baseline of the same rounds, as if saved a minute earlier (checked against itself it would
    # be refused: the same run): no regression, so only the rules can fail it.
    run_cli(capsys, "baseline", "save", run_rules, "--results-dir", tmp_path)
    run_rules = edited_copy(run_rules, tmp_path / "a-minute-later.json", lambda run: run.update(
        datetime=(datetime.fromisoformat(run["datetime"]) + timedelta(minutes=1)).isoformat()))
    code, out, _ = run_cli(capsys, "check", run_rules, "--results-dir", tmp_path)
    assert code == 0 and "no regression" in out
    assert ("rule workers (num_workers > 0 beats num_workers = 0): violated: loader/cpu-mlp-dataloader-bs128-w2 vs "
            "loader/cpu-mlp-dataloader-bs128-w0") in out
    assert "warning: 2 setting rule(s) violated" in out
    code, out, _ = run_cli(capsys, "check", run_rules, "--results-dir", tmp_path, "--strict")
    assert code == 1 and "failing the check (--strict)" in out


def test_rules_hold_when_the_other_side_is_slowed(benchmark_workflow):
    # The compare-fail session below: loader benchmarks with the 0-worker dataloader slowed.
    results = {result.rule: result for result in check_rules(read_run(benchmark_workflow["current"]))}
    assert results["workers"].outcome == HOLDS  # 2 workers beat the slowed 0-worker loader
    assert results["resident"].outcome == HOLDS


# pytest-benchmark's own workflow ----------------------------------------------------------------------

def pytest_benchmark_cli(*args) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("pytest-benchmark")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_benchmark"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def benchmark_workflow(tmp_path_factory) -> dict:
    """--benchmark-autosave into a temporary storage, then a slowed session with --benchmark-compare-fail."""
    root = tmp_path_factory.mktemp("pytest-benchmark-workflow")
    storage = f"--benchmark-storage=file://{root / 'storage'}"
    first = run_bench(root / "first", *LOADERS, "--benchmark-autosave", storage, env=bench_env())
    assert first.returncode == 0, first.stdout[-3000:]
    second = run_bench(root / "second", *LOADERS, storage, "--benchmark-compare", "--benchmark-compare-fail=median:10%",
                       env=bench_env(SLOW_W0))
    (autosaved,) = (root / "storage").rglob("0001_*.json")
    (current,) = saved_runs(root / "second")
    return {"autosaved": autosaved, "second": second, "current": current}


def test_pytest_benchmark_compare_loads_our_files(capsys, tmp_path, run_a, run_b):
    completed = pytest_benchmark_cli("compare", run_a, run_b)
    assert completed.returncode == 0, completed.stderr
    assert "test_loader[cpu-mlp-dataloader-bs128-w0]" in completed.stdout
    run_cli(capsys, "baseline", "save", run_a, "--results-dir", tmp_path)
    (baseline,) = (tmp_path / "baselines").glob("*.json")
    completed = pytest_benchmark_cli("compare", baseline)
    assert completed.returncode == 0, completed.stderr
    assert "test_train[cpu-mlp-resident-bs128]" in completed.stdout


def test_autosave_compare_and_compare_fail(capsys, benchmark_workflow):
    autosaved, second = benchmark_workflow["autosaved"], benchmark_workflow["second"]
    section = load_run(autosaved)["mnist_bench"]  # our section rides along in autosaved files, with the real state
    assert section["complete"] is True and section["interrupted"] is False
    output = second.stdout + second.stderr
    assert second.returncode != 0, output[-3000:]
    assert "Comparing against benchmarks from" in output and autosaved.name in output
    failures = output[output.index("Performance has regressed"):]
    assert "test_loader[cpu-mlp-dataloader-bs128-w0]" in failures

    # The autosaved file is one of our runs: `mnist-bench compare` takes it as the baseline.
    current = benchmark_workflow["current"]
    code, out, _ = run_cli(capsys, "compare", autosaved, current, *THRESHOLD)
    assert code == 1 and W0 in out
    section = json.loads(current.read_text())["mnist_bench"]  # a regression fails the session, not the sweep
    assert section["complete"] is True and section["interrupted"] is False
    completed = pytest_benchmark_cli("compare", autosaved, current)
    assert completed.returncode == 0, completed.stderr
