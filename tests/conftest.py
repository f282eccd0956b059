"""Shared fixtures: real Fashion-MNIST, the real MNIST test digits, and real benchmark sessions.

The MNIST test digits ship in tests/data (a clone needs nothing beside it). Fashion-MNIST, MNIST's
format at full size, comes from Debian's dataset-fashion-mnist (what .ci/run installs), ./data or a
download; without it the tests that need it skip with the command that installs it, unless
MNIST_BENCH_REQUIRE_DATA=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mnist_core.core.data import load_dataset, resolve
from mnist_core.errors import DatasetError
from mnist_core.core.idx import read_idx_pair

REPO_ROOT = Path(__file__).resolve().parents[1]
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
T10K_DIR = Path(__file__).resolve().parent / "data" / "mnist-t10k"  # shipped with the repository


def _located(name: str, preferred: Path, env_var: str) -> Path | None:
    """`env_var`, else `preferred` when present, else wherever the suite finds the dataset (./data or a download)."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    if preferred.is_dir():
        return preferred
    try:
        location, _ = resolve(name)
    except DatasetError:
        return None
    return Path(location.path)


# Real data only: Debian's Fashion-MNIST (what CI installs), else ./data or a torchvision download.
FASHION_DIR = _located("fashion-mnist", DEBIAN_FASHION_DIR, "MNIST_BENCH_FASHION_DIR")
FASHION_MISSING = ("needs Fashion-MNIST at full size: sudo apt-get install -y dataset-fashion-mnist "
                   "(or set MNIST_BENCH_FASHION_DIR)")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    if FASHION_DIR is None or not FASHION_DIR.is_dir():
        if os.environ.get("MNIST_BENCH_REQUIRE_DATA") == "1":
            pytest.fail(FASHION_MISSING, pytrace=False)
        pytest.skip(FASHION_MISSING)
    return FASHION_DIR


@pytest.fixture(scope="session")
def fashion(fashion_dir):
    return load_dataset("fashion-mnist", fashion_dir)


@pytest.fixture(scope="session")
def mnist_t10k_dir() -> Path:
    return T10K_DIR


@pytest.fixture(scope="session")
def mnist_t10k(mnist_t10k_dir) -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 real MNIST test digits."""
    return read_idx_pair(mnist_t10k_dir / "t10k-images-idx3-ubyte.gz", mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")


def pytest_configure(config):
    """MNIST_BENCH_TEST_THREADS=N runs every test with torch at N intra-op threads (the audit runs 1 and 2)."""
    threads = os.environ.get("MNIST_BENCH_TEST_THREADS")
    if threads:
        torch.set_num_threads(int(threads))


@pytest.fixture(scope="session")
def test_seed() -> int:
    """The seed of the seed-bound tests: MNIST_BENCH_TEST_SEED (default 0); the audit runs several."""
    return int(os.environ.get("MNIST_BENCH_TEST_SEED", "0"))


@pytest.fixture(autouse=True)
def _torch_threads():
    """Tests that change torch's thread count must not leak it into the next test."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


TESTS_DIR = Path(__file__).resolve().parent

# Test tiers. `slow`: runs a benchmark session (a subprocess pytest of bench/), marked by hand or through a
# fixture below, or takes seconds a test for another reason (HEAVY_MODULES); `unit`: every other test, marked here
# at collection (`pytest tests -m unit`: under a minute on 2 cores, for the edit-test loop).
SLOW, UNIT = "slow", "unit"
# Fixtures that run a benchmark session: a test that uses one, directly or through another fixture, is slow.
SESSION_FIXTURES = {"quick_run", "faulty_sweep", "run_a", "run_b", "run_slow", "run_rules", "benchmark_workflow"}
# Modules that run no session but cost seconds a test: training to an accuracy, torch.compile, real ab workers,
# a browser, whole-pair calibration redraws, fresh interpreters and reports drawn from every committed run.
HEAVY_MODULES = {"test_train", "test_compiled", "test_graph", "test_ab_real", "test_report_browser",
                 "test_calibration", "test_import_costs", "test_races", "test_report_real", "test_cli_bad_run_files",
                 "test_numbers_agree", "test_report_plots", "test_pytest_benchmark_agrees", "test_cli_info",
                 "test_notebook", "test_committed_comparisons"}
_running: dict = {}  # "test": the test being set up or run, whose tier cpu_session_env checks


def pytest_collection_modifyitems(config, items):
    for item in items:
        heavy = item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in HEAVY_MODULES
        if item.get_closest_marker(SLOW) is None and (heavy or SESSION_FIXTURES & set(item.fixturenames)):
            item.add_marker(SLOW)
        if item.get_closest_marker(SLOW) is None:
            item.add_marker(UNIT)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _running["test"] = item


def cpu_session_env(extra: dict | None = None) -> dict:
    """The environment for a benchmark session in a subprocess: the CPU only, GPU or not, with the tests'
    folder importable for the fault-injection plugin (tests/fault_injection.py).

    The tests' claims about a session (one device, null telemetry, CUDA rows skipped with a reason)
    are the CPU's; on a machine with a GPU the CUDA paths have their own `cuda`-marked tests.
    Every session a test starts takes its environment from here, so a test in the unit tier that starts one
    fails, saying how to put it in the right tier.
    """
    test = _running.get("test")
    if test is not None and test.get_closest_marker(SLOW) is None:
        pytest.fail(f"{test.nodeid} runs a benchmark session: mark it @pytest.mark.{SLOW} (or add the fixture "
                    "that runs the session to SESSION_FIXTURES in tests/conftest.py)", pytrace=False)
    extra = dict(extra or {})
    path = os.pathsep.join(filter(None, [str(TESTS_DIR), extra.pop("PYTHONPATH", None), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": path, **extra}


def bench_command(results_dir: Path, *extra_args: str, data_root: Path = FASHION_DIR) -> list[str]:
    """A quick-profile benchmark session on Fashion-MNIST, as a subprocess command line."""
    return [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--bench-profile=quick",
            "--dataset=fashion-mnist", f"--data-root={data_root}", f"--results-dir={results_dir}",
            "-p", "no:cacheprovider", "-p", "fault_injection", "-q", *extra_args]


def run_bench(results_dir: Path, *extra_args: str, env: dict | None = None, data_root: Path = FASHION_DIR,
              timeout_s: float = 300) -> subprocess.CompletedProcess:
    """One real benchmark session (quick profile, CPU, Fashion-MNIST) in a subprocess."""
    return subprocess.run(bench_command(results_dir, *extra_args, data_root=data_root), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout_s, env=cpu_session_env(env))


def interrupt_bench(results_dir: Path, *extra_args: str, signum: int = signal.SIGTERM, after_benchmarks: int = 2,
                    whole_group: bool = False) -> tuple[Path, str, int]:
    """Start a real quick sweep, send `signum` once `after_benchmarks` are saved in its run file.

    whole_group: wait until the next benchmark has DataLoader workers, then signal the whole process
    group, workers included, as `timeout` and Ctrl-C in a terminal do.
    Returns (run file, output, exit code)."""
    process = subprocess.Popen(bench_command(results_dir, *extra_args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=cpu_session_env(),
                               start_new_session=whole_group)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        runs = saved_runs(results_dir)
        text = runs[0].read_text() if runs else ""  # empty: the name is claimed, nothing saved yet
        if text and len(json.loads(text)["benchmarks"]) >= after_benchmarks:
            if not whole_group or child_processes(process.pid):
                break
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be interrupted"
    if whole_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    output, _ = process.communicate(timeout=120)
    (path,) = saved_runs(results_dir)
    return path, output, process.returncode


def child_processes(pid: int) -> list[int]:
    """Live children of `pid`, read from /proc (Linux)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def saved_runs(results_dir: Path) -> list[Path]:
    return sorted(results_dir.glob("run-*.json"))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, fashion_dir) -> Path:
    """The run file of one real quick-profile session, shared by the tests that read runs."""
    results_dir = tmp_path_factory.mktemp("quick-run")
    completed = run_bench(results_dir, f"--benchmark-json={results_dir / 'pytest-benchmark.json'}")
    runs = saved_runs(results_dir)
    if completed.returncode != 0 or len(runs) != 1:
        pytest.fail(f"quick benchmark session failed (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}", pytrace=False)
    return runs[0]
