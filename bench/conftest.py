"""Fixtures of the benchmark matrix: the session's settings and state, and the GPU's NVML handle."""

from __future__ import annotations

import pytest

from mnist_core.core.devices import cuda_available
from mnist_core.measure.nvml import NvmlGpu

from bench.plugin import bench_session


@pytest.fixture(scope="session")
def session(pytestconfig):
    """The BenchSession (bench/session.py): settings, yardsticks, time budget, run file."""
    return bench_session(pytestconfig)


@pytest.fixture(scope="session")
def bench_settings(session):
    return session.settings


@pytest.fixture(scope="session")
def gpu(session):
    """NVML for the benchmarked GPU, or None; never fails a benchmark."""
    if "cuda" not in session.settings.devices or not cuda_available():
        yield None
        return
    handle = NvmlGpu(0)
    session.yardsticks.gpu = handle  # the CUDA yardstick's slowdowns are read from it
    yield handle
    handle.close()
