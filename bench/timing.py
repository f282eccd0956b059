"""Run a workload under pytest-benchmark: warm-up outside the stats, telemetry over the timed rounds only."""

from __future__ import annotations

from contextlib import contextmanager

from mnist_core import faults
from mnist_core.devices import release_on_failure
from mnist_core.records import throughput_row
from mnist_core.telemetry import NvmlSampler, torch_memory_mib
from mnist_core.workload import build_workload


def gpu_for(config, gpu):
    """The NVML handle to sample for `config`: none for CPU rows (their telemetry is null)."""
    if faults.active(config, "nvml_error"):
        return faults.ErroringGpu()
    return gpu if config.device == "cuda" else None


@contextmanager
def telemetry_during(device: str, gpu):
    """Yields a dict that holds, after the block, NVML readings over the block and torch's peak memory."""
    readings: dict = {}
    with NvmlSampler(gpu) as sampler:
        yield readings
    readings.update({**sampler.summary(), **torch_memory_mib(device)})


def measure_throughput(benchmark, kind: str, config, settings, gpu, rounds: int | None = None,
                       group: str | None = None) -> dict:
    """Time `kind` rounds ("train" or "loader") of `config`; returns the row stored in extra_info."""
    benchmark.group = group or kind
    profile = settings.profile
    with release_on_failure(config.device), build_workload(kind, config, settings.data) as workload:
        workload.warmup(profile.warmup_rounds)
        with telemetry_during(config.device, gpu_for(config, gpu)) as telemetry:
            benchmark.pedantic(workload.run_round, rounds=rounds or profile.rounds, iterations=1, warmup_rounds=0)
        round_seconds = list(benchmark.stats.stats.data) if benchmark.stats else []
        row = throughput_row(group or kind, config, workload.samples_per_round, round_seconds, workload.first_batch_s,
                             telemetry, workload.dataset_on_device_bytes)
    benchmark.extra_info.update(row)
    return row
