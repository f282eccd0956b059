"""Measure a row under pytest-benchmark: warm-up outside the stats, noise-controlled rounds paired with the
row's yardstick, GPU telemetry over the row's own timed rounds, and the typed row in extra_info."""

from __future__ import annotations

import dataclasses
import zlib
from contextlib import contextmanager

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.devices import release_on_failure
from mnist_core.measure.bare_loop import BareLoop
from mnist_core.measure.launches import kernels_per_step
from mnist_core.measure.measurement import Measurement
from mnist_core.measure.rounds import Pairing, RoundPolicy, Timed, run_rounds
from mnist_core.measure.telemetry import MIN_TELEMETRY_WINDOW_S, NvmlSampler, Telemetry, torch_memory_mib
from mnist_core.measure.workload import Workload
from mnist_core.runs.row_ids import row_id
from mnist_core.runs.rows import ThroughputRow
from mnist_core.units import BYTES_PER_MIB

from bench.replay import record_rounds


def sampled_gpu(config, gpu):
    """The NVML handle to sample for a row: none for CPU rows (their telemetry is null)."""
    return gpu if config.device == "cuda" else None


def warmup_min_s(gpu) -> float:
    """How long warm-up lasts at least before sampling starts, so NVML's averaging window (up to 1 s)
    already holds the same work rather than building or idle time; 0 when no GPU is sampled."""
    return MIN_TELEMETRY_WINDOW_S if NvmlSampler(gpu).active else 0.0


def slowdown(gpu) -> str | None:
    """Why the GPU is running slowly right now (thermal, hardware slowdown, power brake), or None."""
    reason = gpu.slowdown() if gpu is not None and getattr(gpu, "available", False) else None
    return reason or None


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

    @property
    def telemetry(self) -> Telemetry:
        return Telemetry.from_readings(self.readings)


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


def timed(workload: Workload, gpu, *, per_epoch: bool = True) -> Timed:
    """One round's samples/s; per_epoch charges the round its share of the epoch start-up (what a user's
    epoch pays and persistent workers never do), so the rate is what whole epochs get."""
    seconds = workload.timed_round() + (workload.epoch_start_share_s if per_epoch else 0.0)
    return Timed(workload.samples_per_round / seconds, slowdown(gpu))


def measure_throughput(benchmark, kind: str, config: BenchConfig, session, gpu, *, group: str | None = None,
                       bare_loop: bool = False) -> ThroughputRow | None:
    """Time `kind` rounds ("train" or "loader") of `config`, paired with its yardstick (or, for the overhead
    check, with a bare loop of the same work); stores the row in extra_info and returns it."""
    benchmark.group = group or kind
    gpu = sampled_gpu(config, gpu)
    subject = row_id(group or kind, config.label())
    with release_on_failure(config.device), session.workload_for(kind, config) as workload:
        if benchmark.disabled:  # --benchmark-disable: run the work once, as a test
            workload.run_round()
            return None
        profile = session.settings.profile
        workload.warmup(profile.warmup_rounds, min_seconds=warmup_min_s(gpu))
        if not session.is_yardstick(kind, config):  # the yardstick's rounds were fitted when it was built
            workload.fit_rounds(*profile.round_s)
        ran = config.replace(samples_per_round=workload.samples_per_round)  # the round size that runs
        with session.row_budget() as policy, _comparator(session, ran, kind, bare_loop) as pairing:
            with telemetry_during(config.device, gpu) as window:
                if pairing is not None:
                    pairing.run_round = window.unsampled(pairing.run_round)
                # the overhead check compares steady loops: the bare loop has no epoch start-up to charge
                measurement = run_rounds("samples_per_s", lambda: timed(workload, gpu, per_epoch=not bare_loop),
                                         policy, pairing=pairing,
                                         probe=session.state_probe, seed=zlib.crc32(subject.encode()),
                                         subject=subject)
                window.fill(workload.run_round)
        # The parameter named the profile's starting round size; pytest-benchmark's params (JSON, CSV) name what ran.
        benchmark.params = {name: ran if value == config else value for name, value in (benchmark.params or {}).items()}
        record_rounds(benchmark, [1 / rate for rate in measurement.rates])  # seconds per sample
        kernels, kernel_us = None, None
        if config.device == "cuda" and config.pipeline.captured and not bare_loop:  # after the timed rounds
            kernels = kernels_per_step(workload.step, workload.steps_per_call, workload.sync)
            kernel_us = session.replayed_kernel_us
        telemetry = window.telemetry
        if bare_loop:  # both loops held their model and data at once: the peak is not this configuration's alone
            telemetry = dataclasses.replace(telemetry, torch_peak_allocated_mib=None, torch_peak_reserved_mib=None)
        resident = workload.dataset_on_device_bytes
        row = ThroughputRow(name=benchmark.name, row_kind=group or kind, config=ran, measurement=measurement,
                            first_batch_s=workload.first_batch_s, torch_threads_used=torch.get_num_threads(),
                            epoch_start_s=None if bare_loop else workload.epoch_start_s,
                            dataset_on_device_mib=resident / BYTES_PER_MIB if resident else None, telemetry=telemetry,
                            kernels_per_step=kernels, replayed_kernel_us=kernel_us)
    benchmark.extra_info.update(row.to_info())
    return row


@contextmanager
def _comparator(session, config: BenchConfig, kind: str, bare_loop: bool):
    """What the row's rounds are paired with: a bare loop of the same work, or the session's yardstick."""
    if not bare_loop:
        yield session.pairing_for(config, kind)
        return
    with BareLoop(config, session.settings.data, warmup_rounds=session.settings.profile.warmup_rounds) as bare:
        yield Pairing.of("bare loop", lambda: Timed(bare.samples_per_round / bare.round_seconds()))


def measure_copies(benchmark, workload, gpu, policy: RoundPolicy) -> Measurement:
    """Host-to-device copy rounds in GB/s (no yardstick: copies run no Python per step to drift with)."""
    def round_gb_s() -> Timed:
        return Timed(workload.bytes_per_round / workload.timed_round() / 1e9, slowdown(gpu))

    measurement = run_rounds("gb_s", round_gb_s, policy, seed=zlib.crc32(workload.label.encode()))
    record_rounds(benchmark, [1 / rate for rate in measurement.rates])  # seconds per GB
    return measurement
