"""Run a workload under pytest-benchmark: warm-up outside the stats, GPU telemetry around the timed rounds."""

from __future__ import annotations

from contextlib import contextmanager

from mnist_core.measure import faults
from mnist_core.core.devices import release_on_failure
from mnist_core.runs.records import throughput_row
from mnist_core.measure.telemetry import MIN_TELEMETRY_WINDOW_S, NvmlSampler, torch_memory_mib
from mnist_core.measure.workload import build_workload


def gpu_for(config, gpu):
    """The NVML handle to sample for `config`: none for CPU rows (their telemetry is null)."""
    if faults.active(config, "nvml_error"):
        return faults.ErroringGpu()
    return gpu if config.device == "cuda" else None


def warmup_min_s(gpu) -> float:
    """How long warm-up lasts at least before sampling starts, so NVML's averaging window (up to 1 s)
    already holds the same work rather than building or idle time; 0 when no GPU is sampled."""
    return MIN_TELEMETRY_WINDOW_S if NvmlSampler(gpu).active else 0.0


class TelemetryWindow:
    """NVML sampling and torch's peak memory over a block; `readings` holds the row keys afterwards."""

    def __init__(self, gpu):
        self.sampler = NvmlSampler(gpu)
        self.untimed_rounds = 0
        self.readings: dict = {}

    def fill(self, run_round) -> None:
        """After the timed rounds, repeat untimed rounds of the same work until NVML has seen enough.

        Fast GPU configurations finish their timed rounds in milliseconds, far shorter than
        NVML's utilisation window.
        """
        while self.sampler.active and self.sampler.elapsed_s() < MIN_TELEMETRY_WINDOW_S:
            run_round()
            self.untimed_rounds += 1

    def unsampled(self, action):
        """`action` wrapped to run with the sampler paused: work in the block that is not this row's."""
        if action is None:
            return None

        def run_paused():
            with self.sampler.paused():
                return action()
        return run_paused


@contextmanager
def telemetry_during(device: str, gpu):
    """Yields a TelemetryWindow whose readings, after the block, cover the block only."""
    window = TelemetryWindow(gpu)
    with window.sampler:
        yield window
    window.readings.update({
        **window.sampler.summary(), **torch_memory_mib(device),
        "telemetry_untimed_rounds": window.untimed_rounds if window.sampler.active else None,
    })


def measure_throughput(benchmark, kind: str, config, settings, gpu, rounds: int | None = None,
                       group: str | None = None, before_each_round=None) -> dict:
    """Time `kind` rounds ("train" or "loader") of `config`; returns the row stored in extra_info.

    `before_each_round` runs untimed before every timed round (pytest-benchmark's setup hook), with
    the NVML sampler paused: its work is not this row's.
    """
    benchmark.group = group or kind
    profile = settings.profile
    sampled_gpu = gpu_for(config, gpu)
    with release_on_failure(config.device), build_workload(kind, config, settings.data) as workload:
        workload.warmup(profile.warmup_rounds, min_seconds=warmup_min_s(sampled_gpu))
        with telemetry_during(config.device, sampled_gpu) as telemetry:
            benchmark.pedantic(workload.run_round, setup=telemetry.unsampled(before_each_round),
                               rounds=rounds or profile.rounds, iterations=1, warmup_rounds=0)
            telemetry.fill(workload.run_round)
        round_seconds = list(benchmark.stats.stats.data) if benchmark.stats else []
        row = throughput_row(group or kind, config, workload.samples_per_round, round_seconds, workload.first_batch_s,
                             telemetry.readings, workload.dataset_on_device_bytes)
    benchmark.extra_info.update(row)
    return row
