"""Shared fixtures: real Fashion-MNIST (Debian package) and the real MNIST test digits."""

from __future__ import annotations

import os
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
