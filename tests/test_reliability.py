"""Faults during a sweep: failing configurations are recorded and the rest runs; interrupts keep results."""

import json
import signal

import pytest
import torch

from cli_helpers import as_another_session
from conftest import interrupt_bench, run_bench, saved_runs
from mnist_core.commands.cli import main
from mnist_core.core.config import BenchConfig
from mnist_core.errors import OutputExistsError
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import SECTION, load_run
from mnist_core.measure.telemetry import TELEMETRY_KEYS
from mnist_core.measure.workload import build_workload

FAULTS = "oom@model=cnn;worker_error@loader=dataloader,num_workers=2;nvml_error@loader=resident"


@pytest.fixture(scope="module")
def faulty_sweep(tmp_path_factory, fashion_dir):
    results_dir = tmp_path_factory.mktemp("faulty")
    completed = run_bench(results_dir, "-k", "train or loader", "--no-report", env={"MNIST_BENCH_INJECT": FAULTS})
    (path,) = saved_runs(results_dir)
    return completed, load_run(path)


def test_sweep_goes_on_past_failing_configurations(faulty_sweep):
    completed, run = faulty_sweep
    failed = {item["id"]: item["reason"] for item in run[SECTION]["failed"]}
    assert failed["train/cpu-cnn-resident-bs128"].startswith("OutOfMemoryError: CUDA out of memory")
    assert failed["train/cpu-mlp-dataloader-bs128-w2"].startswith("DataLoader worker failed: RuntimeError")
    assert failed["loader/cpu-mlp-dataloader-bs128-w2"].startswith("DataLoader worker failed")
    measured = {b["name"] for b in run["benchmarks"]}
    assert {"test_train[cpu-mlp-resident-bs128]", "test_loader[cpu-mlp-dataloader-bs128-w0]"} <= measured
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED
    assert "FAILED train/cpu-cnn-resident-bs128: OutOfMemoryError" in completed.stdout  # terminal summary


def test_nvml_errors_leave_null_readings_not_failures(faulty_sweep):
    _, run = faulty_sweep
    (resident,) = [b["extra_info"] for b in run["benchmarks"] if b["name"] == "test_train[cpu-mlp-resident-bs128]"]
    assert resident["samples_per_s"] > 0
    # The injected GPU was sampled (a CPU row without it never is: its sample and untimed-round counts are null)
    # and every reading failed: null, not 0. How many untimed rounds filled the sampling window depends on how
    # long the timed rounds took on this machine, so only their presence is asserted.
    assert resident["telemetry_samples"] >= 1 and resident["telemetry_untimed_rounds"] is not None
    readings = [key for key in TELEMETRY_KEYS if key.startswith(("gpu_", "pcie_"))]
    assert {key: resident[key] for key in readings} == dict.fromkeys(readings)


def test_no_worker_processes_left_after_a_sweep(faulty_sweep, quick_run):
    assert faulty_sweep[1][SECTION]["child_processes_alive"] == 0
    assert load_run(quick_run)[SECTION]["child_processes_alive"] == 0


def test_workers_stop_when_a_workload_closes(fashion):
    import multiprocessing

    config = BenchConfig(dataset="fashion-mnist", num_workers=2, samples_per_round=1280)
    with build_workload("train", config, fashion) as workload:
        workload.run_round()
        assert multiprocessing.active_children()
    assert multiprocessing.active_children() == []


def test_an_interrupt_is_not_replaced_by_a_failing_close(fashion):
    """Ctrl-C or `timeout` also kills the workers, and closing the loader then raises "worker killed".
    That error must not stand in for the KeyboardInterrupt, or the sweep records a failure and goes on."""
    import multiprocessing

    def close_with_dead_workers():
        raise RuntimeError("DataLoader worker (pid 1332) is killed by signal: Terminated.")

    config = BenchConfig(dataset="fashion-mnist", num_workers=2, samples_per_round=1280)
    with pytest.raises(KeyboardInterrupt) as interrupt:
        with build_workload("train", config, fashion) as workload:
            workload.run_round()
            workload.closers.insert(0, close_with_dead_workers)
            raise KeyboardInterrupt
    assert "closing the workload then failed too: RuntimeError" in str(interrupt.value.__notes__)
    assert multiprocessing.active_children() == []  # the other closers still ran


def test_a_failing_close_is_raised_when_nothing_else_went_wrong(fashion):
    def failing_close():
        raise RuntimeError("cannot close")

    config = BenchConfig(dataset="fashion-mnist", loader="resident", samples_per_round=1280)
    with pytest.raises(RuntimeError, match="cannot close"):
        with build_workload("train", config, fashion) as workload:
            workload.closers.insert(0, failing_close)


def interrupted_sweep(tmp_path):
    """A real quick sweep, SIGTERMed once two benchmarks are saved; returns (run path, output)."""
    tmp_path.mkdir(exist_ok=True)
    path, output, _ = interrupt_bench(tmp_path, "--no-report", "-k", "train or loader or overhead")
    return path, output


@pytest.mark.slow
def test_sigterm_mid_sweep_keeps_completed_results(tmp_path):
    path, output = interrupted_sweep(tmp_path)
    run = load_run(path)  # valid JSON: written atomically
    assert run[SECTION]["complete"] is False and run[SECTION]["interrupted"] is True
    assert len(run["benchmarks"]) >= 2 and all(b["extra_info"]["samples_per_s"] > 0 for b in run["benchmarks"])
    assert "PARTIAL (interrupted)" in output
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_whole_process_group_stops_the_sweep(tmp_path, signum):
    """`timeout` and Ctrl-C signal the DataLoader workers too: the error from a killed worker must not
    turn the interrupt into one failed benchmark while the sweep goes on."""
    path, output, returncode = interrupt_bench(tmp_path, "--no-report", "-k", "loader or overhead",
                                               signum=signum, after_benchmarks=1, whole_group=True)
    assert returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    run = load_run(path)
    assert run[SECTION]["interrupted"] is True and run[SECTION]["complete"] is False
    measured = [b["name"] for b in run["benchmarks"]]
    assert len(measured) <= 2 and not any("overhead" in name for name in measured), measured


@pytest.mark.slow
def test_report_and_compare_accept_a_partial_run(tmp_path, capsys):
    partial, _ = interrupted_sweep(tmp_path / "sweep")
    assert main(["report", str(partial), "--out", str(tmp_path / "report")]) == 0
    assert "PARTIAL" in (tmp_path / "report" / "report.md").read_text()
    baseline = as_another_session(partial, tmp_path)  # compare refuses a run against itself
    assert main(["compare", str(baseline), str(partial)]) == 0
    assert "current run is PARTIAL" in capsys.readouterr().out


def test_atomic_write_refuses_to_overwrite_without_force(tmp_path):
    path = write_json_atomic(tmp_path / "baseline.json", {"a": 1})
    with pytest.raises(OutputExistsError, match="already exists; pass --force"):
        write_json_atomic(path, {"a": 2}, overwrite=False)
    assert json.loads(path.read_text()) == {"a": 1}


def test_atomic_write_leaves_the_old_file_when_serialising_fails(tmp_path):
    path = write_json_atomic(tmp_path / "run.json", {"a": 1})

    class Exploding:
        def __repr__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_json_atomic(path, {"a": Exploding()})
    assert json.loads(path.read_text()) == {"a": 1} and len(list(tmp_path.iterdir())) == 1


def _allocated_without_cublas_workspaces() -> int:
    """cuBLAS keeps a workspace per handle in the caching allocator, whichever config made it: not a leak."""
    torch.cuda.synchronize()
    getattr(torch._C, "_cuda_clearCublasWorkspaces", lambda: None)()
    return torch.cuda.memory_allocated()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: checks device memory between configs")
def test_gpu_memory_released_between_configurations(fashion):
    before = _allocated_without_cublas_workspaces()
    big = BenchConfig(device="cuda", dataset="fashion-mnist", model="cnn", loader="resident", batch_size=2048,
                      num_workers=0, pin_memory=False, non_blocking=False, samples_per_round=4096)
    with build_workload("train", big, fashion) as workload:
        workload.run_round()
        big_peak = torch.cuda.max_memory_allocated()
    assert _allocated_without_cublas_workspaces() == before
    small = BenchConfig(device="cuda", dataset="fashion-mnist", loader="resident", num_workers=0, pin_memory=False,
                        non_blocking=False, samples_per_round=1280)
    with build_workload("train", small, fashion) as workload:
        workload.run_round()
        assert torch.cuda.max_memory_allocated() < big_peak  # the peak was reset: config N-1 not counted
    with build_workload("train", small.replace(loader="resident-graph"), fashion) as workload:
        workload.run_round()  # a captured graph holds a private memory pool until the graph is freed
    assert _allocated_without_cublas_workspaces() == before


def test_a_failing_configuration_does_not_keep_its_tensors_alive():
    import weakref

    from mnist_core.core.devices import release_on_failure

    def build_and_fail():
        batch = torch.ones(1024, 784)  # stands in for a configuration's device tensors
        held.append(weakref.ref(batch))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    held = []
    with pytest.raises(torch.cuda.OutOfMemoryError) as info:
        with release_on_failure("cpu"):
            build_and_fail()
    assert info.value.__traceback__ is not None  # the report still has its traceback ...
    assert held[0]() is None  # ... but no longer the tensors of the failed configuration


def test_cuda_that_fails_to_start_is_an_unknown_init_time_not_a_crash(monkeypatch):
    from mnist_core.core import devices

    def broken_init():
        raise RuntimeError("CUDA driver initialization failed")

    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "init", broken_init)
    assert devices.cuda_context_seconds() is None
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)  # started earlier: time unknown
    monkeypatch.setattr(torch.cuda, "init", lambda: pytest.fail("must not start CUDA again"))
    assert devices.cuda_context_seconds() is None


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, mask, mode):
    """Run files, baselines and reports get the mode any program's files get under the user's umask."""
    import os

    from mnist_core.runs.files import held_lock
    from mnist_core.runs.runfile import claim_run_path

    old = os.umask(mask)
    try:
        claimed = claim_run_path(tmp_path, "AMD EPYC")
        written = write_json_atomic(claimed, {"a": 1})
        exclusive = write_json_atomic(tmp_path / "baseline.json", {"a": 1}, overwrite=False)
        with held_lock(tmp_path / ".lock"):
            pass
    finally:
        os.umask(old)
    for path in (claimed, written, exclusive, tmp_path / ".lock"):
        assert path.stat().st_mode & 0o777 == mode, path
