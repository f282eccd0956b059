"""Shared fixtures: real Fashion-MNIST (Debian package) and the real MNIST test digits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnist_core.data import load_dataset
from mnist_core.idx import read_idx_pair

REPO_ROOT = Path(__file__).resolve().parents[1]
FASHION_DIR = Path(os.environ.get("MNIST_BENCH_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))
MNIST_T10K_DIR = Path(os.environ.get("MNIST_BENCH_T10K_DIR", REPO_ROOT.parent / "shared" / "data" / "mnist-t10k"))


def _require(folder: Path, how: str) -> Path:
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: {how}", pytrace=False)
    return folder


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    return _require(FASHION_DIR, "apt-get install dataset-fashion-mnist (or set MNIST_BENCH_FASHION_DIR)")


@pytest.fixture(scope="session")
def fashion(fashion_dir):
    return load_dataset("fashion-mnist", fashion_dir)


@pytest.fixture(scope="session")
def mnist_t10k_dir() -> Path:
    return _require(MNIST_T10K_DIR, "the real MNIST test split lives in ../shared/data/mnist-t10k (or set MNIST_BENCH_T10K_DIR)")


@pytest.fixture(scope="session")
def mnist_t10k(mnist_t10k_dir) -> tuple[torch.Tensor, torch.Tensor]:
    return read_idx_pair(mnist_t10k_dir / "t10k-images-idx3-ubyte.gz", mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def _torch_threads():
    """Tests that change torch's thread count must not leak it into the next test."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def run_bench(results_dir: Path, *extra_args: str, env: dict | None = None, data_root: Path = FASHION_DIR,
              timeout_s: float = 300) -> subprocess.CompletedProcess:
    """One real benchmark session (quick profile, CPU, Fashion-MNIST) in a subprocess."""
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", "--bench-profile=quick",
               "--dataset=fashion-mnist", f"--data-root={data_root}", f"--results-dir={results_dir}",
               "-p", "no:cacheprovider", "-q", *extra_args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s,
                          env={**os.environ, **(env or {})})


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
