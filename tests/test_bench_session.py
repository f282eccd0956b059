"""The main job itself: a real quick-profile benchmark session on the CPU with Fashion-MNIST."""

import json
import statistics
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from conftest import FASHION_DIR, REPO_ROOT, cpu_session_env, saved_runs
from mnist_core.runs.runfile import SECTION, claim_run_path, load_run
from mnist_core.measure.telemetry import TELEMETRY_KEYS

THROUGHPUT_KEYS = ("samples_per_s", "samples_per_s_rounds", "samples_per_s_ci", "device", "model", "loader",
                   "batch_size", "num_workers", "pin_memory", "non_blocking", "dataset", "first_batch_s",
                   "epoch_start_s", "reference", "rounds", "stop_reason", "yardstick", "yardstick_rounds",
                   "vs_yardstick")
MACHINE_KEYS = ("gpu_name", "gpu_driver", "cuda_version", "torch_version", "torchvision_version", "cpu_model",
                "cpu_cores", "torch_threads")


@pytest.fixture(scope="module")
def run(quick_run):
    return load_run(quick_run)


def rows(run, kind):
    return [b["extra_info"] for b in run["benchmarks"] if b["extra_info"].get("kind") == kind]


def test_throughput_rows_have_every_key_and_positive_numbers(run):
    throughput = rows(run, "train") + rows(run, "loader") + rows(run, "overhead")
    assert {row["kind"] for row in throughput} == {"train", "loader", "overhead"}
    for row in throughput:
        missing = [key for key in THROUGHPUT_KEYS + TELEMETRY_KEYS if key not in row]
        assert not missing, f"{row['kind']} row lacks {missing}"
        assert row["samples_per_s"] > 0 and all(value > 0 for value in row["samples_per_s_rounds"])
        assert row["dataset"] == "fashion-mnist" and row["first_batch_s"] > 0


def test_dataloader_rows_with_workers_are_charged_a_measured_epoch_start_up(run):
    """Rounds run on persistent workers; each epoch of the tutorial's fit forks its workers anew: that start-up
    is measured per row and charged to its rounds (tests/test_epoch_rate.py), for no other row."""
    for row in rows(run, "train") + rows(run, "loader"):
        if row["loader"] == "dataloader" and row["num_workers"] > 0:
            assert row["epoch_start_s"] > 0
        else:
            assert row["epoch_start_s"] == 0
    assert [row["epoch_start_s"] for row in rows(run, "overhead")] == [None] * len(rows(run, "overhead"))


def test_samples_per_s_is_the_median_of_the_timed_rounds(run):
    """The median of the time per sample, as a rate (pytest-benchmark's median of the same rounds)."""
    for row in rows(run, "train") + rows(run, "loader"):
        rates = row["samples_per_s_rounds"]
        assert row["samples_per_s"] == pytest.approx(1 / statistics.median(1 / rate for rate in rates))
        assert len(row["samples_per_s_rounds"]) == row["rounds"] <= 12  # the quick profile's cap


def test_pytest_benchmark_stats_are_seconds_per_sample_of_the_same_rounds(run):
    """pytest-benchmark's own stats (its table, --benchmark-json, compare, --benchmark-compare-fail) hold the
    row's kept rounds as seconds per sample, whatever the round size: its OPS is samples/s, and its median
    the time per sample of the median round. Its params name the round size that ran."""
    for bench in run["benchmarks"]:
        info, stats = bench["extra_info"], bench["stats"]
        if info["kind"] == "accuracy":  # one round: the whole run to the target
            assert stats["data"] == [info["seconds"]]
            continue
        assert stats["data"] == [1 / rate for rate in info["samples_per_s_rounds"]]
        assert stats["ops"] == pytest.approx(len(stats["data"]) / sum(1 / rate for rate in info["samples_per_s_rounds"]))
        assert stats["median"] == pytest.approx(statistics.median(1 / rate for rate in info["samples_per_s_rounds"]))
        assert stats["iterations"] == 1
        assert f"samples_per_round={info['samples_per_round']}," in str(bench["params"]), bench["params"]


def test_rounds_stop_for_a_recorded_reason_and_pair_with_the_yardstick(run):
    reference = "train/cpu-mlp-dataloader-bs128-w2"
    for row in rows(run, "train") + rows(run, "loader"):
        assert row["stop_reason"].startswith(("converged", "time cap", "max rounds")), row["stop_reason"]
        if row["reference"]:
            assert row["yardstick"] is None and row["yardstick_rounds"] == []  # it is the yardstick
        else:
            assert row["yardstick"] == reference and len(row["yardstick_rounds"]) == row["rounds"]
            assert row["vs_yardstick"]["low"] <= row["vs_yardstick"]["ratio"] <= row["vs_yardstick"]["high"]
    drift = run[SECTION]["drift"]["cpu"]
    assert drift["yardstick"] == reference and drift["rounds"] >= 6 and len(drift["series"]) == drift["rounds"]
    assert "spread_pct" not in drift  # drift's one definition is Run.drift, from the rows


def test_resident_rows_hold_the_split_as_uint8(run):
    for row in rows(run, "train") + rows(run, "loader"):
        if row["loader"] == "resident":
            assert row["dataset_on_device_mib"] == pytest.approx(50_000 * 28 * 28 / 2**20)  # ~37 MiB, not 150
        else:
            assert row["dataset_on_device_mib"] is None


def test_the_timed_step_is_the_tutorials_and_the_overhead_yardstick_is_independent(run):
    for row in rows(run, "overhead"):
        assert row["yardstick"] == "bare loop" and len(row["yardstick_rounds"]) == row["rounds"]
        assert row["overhead_verdict"] in ("same", "faster", "inconclusive")  # never "slower": the bench asserts it


def test_exactly_one_reference_row_per_device(run):
    references = [row for row in rows(run, "train") if row["reference"]]
    devices = {row["device"] for row in rows(run, "train")}
    assert sorted(row["device"] for row in references) == sorted(devices) == ["cpu"]
    reference = references[0]
    assert (reference["model"], reference["loader"], reference["batch_size"], reference["num_workers"]) == (
        "mlp", "dataloader", 128, 2)


def test_cpu_rows_collapse_transfer_settings_and_have_null_telemetry(run):
    for row in rows(run, "train") + rows(run, "loader"):
        assert row["device"] == "cpu"
        assert row["pin_memory"] is False and row["non_blocking"] is False
        assert set(row["collapsed"]) >= {"pin_memory", "non_blocking"}
        assert all(row[key] is None for key in TELEMETRY_KEYS)
    assert run[SECTION]["cuda_init_s"] is None  # no context to create without a GPU


def test_machine_info_and_dataset_provenance(run):
    machine = run["machine_info"]
    assert all(key in machine for key in MACHINE_KEYS)
    assert machine["gpu_name"] is None and machine["cpu_cores"] >= 1
    section = run[SECTION]
    assert section["complete"] and section["profile"] == "quick"
    assert section["dataset"]["name"] == "fashion-mnist" and section["dataset"]["path"] == str(FASHION_DIR)
    assert section["dataset"]["downloaded"] is False


def test_skips_are_listed_with_reasons(run):
    skipped = {item["id"]: item["reason"] for item in run[SECTION]["skipped"]}
    assert "CUDA graphs" in skipped["train/cpu-mlp-resident-graph-bs128"]
    assert run[SECTION]["failed"] == []
    # --devices defaults to the devices present: no GPU here, so no CUDA rows at all, and the run says why
    assert run[SECTION]["devices"] == ["cpu"] and "no CUDA GPU" in run[SECTION]["devices_note"]
    assert not any(key.startswith("train/cuda") for key in skipped)


def test_time_to_accuracy_and_overhead_rows(run):
    (accuracy,) = rows(run, "accuracy")
    # Whether 84% is reached within the profile's epochs depends on the seed and thread count; what must hold
    # is that the row says so consistently.
    assert accuracy["reached"] == (accuracy["val_accuracy"] >= accuracy["target_accuracy"]) and accuracy["epochs"] >= 1
    assert all(accuracy[key] is None for key in TELEMETRY_KEYS)  # recorded, and null on the CPU
    for row in rows(run, "overhead"):
        assert row["bare_samples_per_s"] > 0 and row["overhead_limit_pct"] == 3.0
        assert row["overhead_pct"] == pytest.approx((1 - row["vs_yardstick"]["ratio"]) * 100)


def test_benchmark_json_keeps_working(quick_run):
    exported = json.loads((quick_run.parent / "pytest-benchmark.json").read_text())
    ours = load_run(quick_run)
    assert [b["name"] for b in exported["benchmarks"]] == [b["name"] for b in ours["benchmarks"]]
    assert exported[SECTION]["profile"] == "quick"


def test_run_files_never_overwrite(tmp_path):
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    first = claim_run_path(tmp_path, "AMD EPYC", when)
    second = claim_run_path(tmp_path, "AMD EPYC", when)  # claimed, not written yet: still taken
    assert first.name == "run-20260102T030405Z-amd-epyc.json" and second.name.endswith("-2.json")
    assert first.read_bytes() == second.read_bytes() == b""


def test_latest_run_is_the_one_written_last_even_within_one_second(tmp_path):
    import os

    from mnist_core.runs.runfile import latest_run, run_files

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    earlier = claim_run_path(tmp_path, "AMD EPYC", datetime(2026, 1, 2, 3, 4, 4, tzinfo=timezone.utc))
    earlier.write_text("{}")
    first = claim_run_path(tmp_path, "AMD EPYC", when)
    first.write_text("{}")
    second = claim_run_path(tmp_path, "AMD EPYC", when)  # run-…-amd-epyc-2.json: sorts first by name
    second.write_text("{}")
    for path in (first, second, earlier):
        os.utime(path, (1_000, 1_000))  # as a copy or checkout leaves them: the names must decide
    gpu = claim_run_path(tmp_path, "NVIDIA GeForce RTX 4090", when)  # a machine ending in digits, no counter
    gpu.write_text("{}")
    assert run_files(tmp_path) == [earlier, first, second, gpu]
    assert latest_run(tmp_path) == gpu


@pytest.mark.slow
@pytest.mark.parametrize("option, fragment", [
    ("--bench-profile=nope", "argument --bench-profile: unknown profile 'nope'; use one of quick, default, full"),
    ("--devices=tpu", "argument --devices: 'tpu': tpu is not a device"),
    ("--data-root=/nonexistent-data-root", "ERROR: data root /nonexistent-data-root does not exist"),
    ("--accuracy-target=840", "argument --accuracy-target: 840 is not a percentage"),
    ("--torch-threads=0", "argument --torch-threads: 0 must be >= 1"),
    ("--benchmark-timer=time.process_time", "ERROR: --benchmark-timer=time.process_time cannot apply to bench/"),
])
def test_bad_options_stop_the_session_with_one_line(tmp_path, option, fragment, fashion_dir):
    """Values are checked by the options' type= parsers (pytest's usage error, exit code 4); what needs the
    file system (a data root) is checked before any benchmark runs."""
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--dataset=fashion-mnist",
               f"--data-root={FASHION_DIR}", f"--results-dir={tmp_path}", "-p", "no:cacheprovider", option]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                               env=cpu_session_env())
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    named = [line for line in output.splitlines() if fragment in line]
    assert len(named) == 1, output
    assert "Traceback" not in output and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_options_parse_with_spaces_from_any_folder(tmp_path, fashion_dir):
    """The plugin comes from the installed package's entry point, so pytest knows its options before it reads
    the command line: values given after a space are not taken for paths, from a folder outside the repo."""
    results = tmp_path / "out"
    command = [sys.executable, "-m", "pytest", str(REPO_ROOT / "bench"), "--benchmark-only", "--bench-profile", "quick",
               "--dataset", "fashion-mnist", "--data-root", str(FASHION_DIR), "--results-dir", str(results),
               "--no-report", "-k", "loader and resident", "-p", "no:cacheprovider"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               env=cpu_session_env())
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert f"rootdir: {REPO_ROOT}" in completed.stdout
    (path,) = saved_runs(results)
    assert [bench["name"] for bench in load_run(path)["benchmarks"]] == ["test_loader[cpu-mlp-resident-bs128]"]


@pytest.mark.slow
def test_bad_fault_hook_stops_the_session(tmp_path, fashion_dir):
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--dataset=fashion-mnist",
               f"--data-root={FASHION_DIR}", f"--results-dir={tmp_path}", "-p", "no:cacheprovider",
               "-p", "fault_injection"]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                               env=cpu_session_env({"MNIST_BENCH_INJECT": "slow:5"}))
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: MNIST_BENCH_INJECT: unknown fault 'slow'" in completed.stderr + completed.stdout


@pytest.mark.slow
def test_data_root_without_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--dataset=fashion-mnist",
               f"--data-root={empty}", f"--results-dir={tmp_path / 'out'}", "-p", "no:cacheprovider"]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                               env=cpu_session_env())
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: no fashion-mnist files in" in completed.stderr + completed.stdout
    assert "Traceback" not in completed.stderr + completed.stdout


def test_latest_run_skips_a_claim_and_a_run_still_being_written(tmp_path):
    from mnist_core.runs.files import held_lock
    from mnist_core.runs.runfile import latest_run, writer_lock

    finished = claim_run_path(tmp_path, "AMD EPYC", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    finished.write_text("{}")
    claimed = claim_run_path(tmp_path, "AMD EPYC", datetime(2026, 1, 2, 3, 4, 6, tzinfo=timezone.utc))  # empty
    assert latest_run(tmp_path) == finished
    claimed.write_text("{}")
    with held_lock(writer_lock(claimed)):  # its session is still running
        assert latest_run(tmp_path) == finished
    assert latest_run(tmp_path) == claimed  # the session ended: its lock went with it
