"""Session-level faults: an unusable --results-dir, a folder lost mid-sweep, interrupts seen by every output file."""

import json
import os
import re
import signal
import subprocess
import textwrap

import pytest

from cli_helpers import as_another_session, run_cli
from conftest import REPO_ROOT, bench_command, cpu_session_env, interrupt_bench, run_bench, saved_runs
from mnist_core.runs.runfile import SECTION, load_run
from mnist_core.runs.status import RunStatus


# --results-dir that cannot be used: the session stops at start, before any benchmark runs -----------------------

@pytest.mark.slow
@pytest.mark.parametrize("make_dir, fragment", [
    (lambda tmp: "/proc/nope", "--results-dir '/proc/nope': cannot write there: No such file or directory"),
    (lambda tmp: tmp / "a-file", "is a file, not a folder"),
    (lambda tmp: tmp / "a-file" / "sub", "cannot write there: Not a directory"),
], ids=["parent-missing", "a-file", "under-a-file"])
def test_unusable_results_dir_stops_the_session_with_one_line(tmp_path, make_dir, fragment):
    (tmp_path / "a-file").write_text("not a folder")
    results_dir = make_dir(tmp_path)
    completed = subprocess.run(bench_command(results_dir, "-k", "loader"), cwd=REPO_ROOT, capture_output=True,
                               text=True, timeout=120, env=cpu_session_env())
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and fragment in errors[0], output
    assert "e.g. --results-dir=results" in errors[0]
    assert "Traceback" not in output and "passed" not in output  # stopped at start: nothing ran
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]


def test_results_dir_is_created_and_the_probe_leaves_nothing(tmp_path):
    from bench.settings import writable_results_dir

    folder = writable_results_dir(str(tmp_path / "new" / "results"))
    assert folder.is_dir() and list(folder.iterdir()) == []


# the folder stops being writable mid-sweep: reported once; pytest-benchmark's outputs keep every result --------

BREAKER = '''
    import os
    import shutil
    from pathlib import Path


    def pytest_runtest_setup(item):
        """Once the first run file is saved, the results folder becomes a plain file."""
        folder = Path(os.environ["MNIST_BENCH_TEST_RESULTS"])
        if folder.is_dir() and any(folder.glob("run-*.json")):
            shutil.rmtree(folder)
            folder.write_text("no longer a folder")
'''


@pytest.mark.slow
def test_results_dir_lost_mid_sweep_is_reported_once_and_nothing_measured_is_lost(tmp_path):
    (tmp_path / "breaker").mkdir()
    (tmp_path / "breaker" / "results_breaker.py").write_text(textwrap.dedent(BREAKER))
    results_dir, exported = tmp_path / "results", tmp_path / "pytest-benchmark.json"
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "breaker"), os.environ.get("PYTHONPATH")])),
           "MNIST_BENCH_TEST_RESULTS": str(results_dir)}
    completed = run_bench(results_dir, "-k", "loader", "-p", "results_breaker", f"--benchmark-json={exported}",
                          env=env)
    output = completed.stdout + completed.stderr
    assert results_dir.is_file(), output  # the breaker did run
    assert "Traceback" not in output and "ERROR at teardown" not in output, output
    assert not re.search(r"\d+ errors?\b", output), output
    notices = [line for line in output.splitlines() if "NOT saved" in line]
    assert len(notices) == 1, output
    assert f"cannot write {results_dir}" in notices[0] and "File exists" in notices[0]
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED  # the main output is missing: not a clean exit
    passed = int(re.search(r"(\d+) passed", output).group(1))
    benchmarks = json.loads(exported.read_text())["benchmarks"]
    assert passed >= 2 and len(benchmarks) == passed  # every measured result reached --benchmark-json
    assert "mnist-bench: the answer" in output  # the answer from what was measured is still printed


# interrupts: --benchmark-json and --benchmark-autosave say so, like the run file ----------------------------------

def interrupt_sweep(tmp_path, signum):
    """A real quick sweep with pytest-benchmark's outputs, sent `signum` once two benchmarks are saved."""
    results_dir, storage = tmp_path / "results", tmp_path / "storage"
    results_dir.mkdir()
    run, output, returncode = interrupt_bench(
        results_dir, "--no-report", "-k", "train or loader or overhead",
        f"--benchmark-json={tmp_path / 'pytest-benchmark.json'}", "--benchmark-autosave",
        f"--benchmark-storage=file://{storage}", signum=signum)
    (autosaved,) = storage.rglob("0001_*.json")
    return {"run": load_run(run), "json": json.loads((tmp_path / "pytest-benchmark.json").read_text()),
            "autosaved": load_run(autosaved), "output": output, "returncode": returncode}


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_sweep_is_partial_in_every_output_file(tmp_path, signum):
    sweep = interrupt_sweep(tmp_path, signum)
    assert sweep["returncode"] == pytest.ExitCode.INTERRUPTED, sweep["output"][-3000:]
    for name in ("run", "json", "autosaved"):
        section = sweep[name][SECTION]
        assert section["complete"] is False and section["interrupted"] is True, name
    measured = {b["name"] for b in sweep["run"]["benchmarks"]}
    assert len(measured) >= 2 and measured <= {b["name"] for b in sweep["json"]["benchmarks"]}
    assert "PARTIAL (interrupted)" in sweep["output"]


def test_completed_sweep_is_complete_in_benchmark_json(quick_run):
    exported = json.loads((quick_run.parent / "pytest-benchmark.json").read_text())
    for section in (exported[SECTION], load_run(quick_run)[SECTION]):
        assert section["complete"] is True and section["interrupted"] is False


@pytest.mark.slow
def test_sweep_stopped_by_maxfail_is_partial_but_not_interrupted(tmp_path, capsys):
    """Every surface names a run stopped by -x alike (runs/status.py): the session's last lines, the report,
    compare and baseline save; none calls it interrupted."""
    exported = tmp_path / "pytest-benchmark.json"
    completed = run_bench(tmp_path / "results", "-k", "train", "-x", "--no-report", f"--benchmark-json={exported}",
                          env={"MNIST_BENCH_INJECT": "oom@model=cnn"})  # after the mlp rows
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    (run,) = saved_runs(tmp_path / "results")
    for section in (load_run(run)[SECTION], json.loads(exported.read_text())[SECTION]):
        assert section["complete"] is False and section["interrupted"] is False
    status = str(RunStatus.STOPPED_EARLY)
    assert f"mnist-bench run ({status}) saved to" in output
    code, report_out, _ = run_cli(capsys, "report", run, "--out", tmp_path / "report")
    report_md = (tmp_path / "report" / "report.md").read_text()
    baseline = as_another_session(run, tmp_path)  # compare refuses a run against itself
    code_compare, compare_out, _ = run_cli(capsys, "compare", baseline, run)
    code_save, save_out, _ = run_cli(capsys, "baseline", "save", run, "--results-dir", tmp_path / "results")
    assert (code, code_compare, code_save) == (0, 0, 0)
    assert f"· {status} ·" in report_md and f"| status | {status} |" in report_md
    assert f"note: the current run is {status}" in compare_out and f"(a {status} run)" in save_out
    for text in (output, report_md, report_out, compare_out, save_out):
        assert "interrupted" not in text.lower()


# an interrupt whose KeyboardInterrupt is lost on the way still stops the sweep --------------------------------------

def _stopped_by(tmp_path, fault: str) -> tuple[dict, str]:
    """A quick sweep of the training rows with `fault` on the resident row: it must end interrupted (exit code 2,
    partial run file). Returns (the run, the output)."""
    completed = run_bench(tmp_path, "--no-report", "-k", "train", env={"MNIST_BENCH_INJECT": f"{fault}@loader=resident"})
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    (path,) = saved_runs(tmp_path)
    run = load_run(path)
    assert run[SECTION]["interrupted"] is True and run[SECTION]["complete"] is False
    measured = [b["name"] for b in run["benchmarks"]]
    assert measured == ["test_train[cpu-mlp-dataloader-bs128-w2]"], measured  # the CNN row after it never ran
    return run, output


@pytest.mark.slow
def test_sigterm_stops_the_sweep_even_when_a_cleanup_error_replaces_the_interrupt(tmp_path):
    """On a GPU machine `timeout` killed the DataLoader workers along with the session; closing the loader
    raised "worker killed" in place of the KeyboardInterrupt and the sweep ran on for 70 s."""
    _, output = _stopped_by(tmp_path, "masked_interrupt")
    assert "PARTIAL (interrupted)" in output


@pytest.mark.slow
def test_a_worker_killed_by_the_groups_signal_stops_the_sweep_when_the_interrupt_never_arrived(tmp_path):
    """A SIGTERM to the process group killed the DataLoader workers, but in this process it landed where Python
    ignores exceptions: the only sign is torch's "worker killed by signal: Terminated". The sweep stops there,
    interrupted, instead of running on with every later DataLoader row failing."""
    run, _ = _stopped_by(tmp_path, "worker_signalled")
    assert [entry["id"] for entry in run[SECTION]["failed"]] == ["train/cpu-mlp-resident-bs128"]
