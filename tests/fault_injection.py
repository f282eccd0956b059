"""Test-only pytest plugin: inject documented faults into chosen configurations of a benchmark session.

Loaded by the tests' benchmark sessions (`-p fault_injection`, tests/ on PYTHONPATH); the suite's own
code has no fault checks. It reads MNIST_BENCH_INJECT once, at configure, and wraps the session's
workload builder and NVML handle for the configurations an entry matches. An `mnist-bench ab` worker, which
runs no pytest, loads it through MNIST_BENCH_WORKER_PLUGINS=fault_injection (wrap_build_workload, below).

MNIST_BENCH_INJECT holds `;`-separated entries `KIND[:ARG][@FIELD=VALUE,...]`; an entry applies
to the configurations whose fields all match. Kinds:
  delay_ms:N    sleep N ms at every step (a slower input pipeline)
  slowdown_pct:N  after every step, sleep as long as makes the step N% slower in samples/s (the step's own time
                x N / (100 - N)): a slowdown of one row by a known share on any machine, however fast
  sample_us:N   make every sample the tutorial's Dataset converts (PIL image -> ToTensor) N µs slower, busy, in
                this process and its DataLoader workers: a slower input pipeline, every DataLoader row and the
                yardstick alike (a whole-process fault: it takes no @FIELD=VALUE)
  oom           raise torch.cuda.OutOfMemoryError from the training step
  worker_error  make every DataLoader worker fail while loading a sample
  nvml_error    make every NVML reading fail
  masked_interrupt  SIGTERM this process from the training step and let a cleanup error replace the
                interrupt, as closing a DataLoader whose workers died with the same signal did
  worker_signalled  raise torch's "DataLoader worker (pid N) is killed by signal: Terminated." from the
                training step, with no signal to this process: the group's SIGTERM reached the workers and
                was lost here (seen when it landed in logging's lock release, where exceptions are ignored)
Example: MNIST_BENCH_INJECT="delay_ms:5@pin_memory=True;oom@batch_size=2048"
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field

import pytest
import torch
from torch.utils.data import get_worker_info

ENV_VAR = "MNIST_BENCH_INJECT"
KINDS = ("delay_ms", "slowdown_pct", "sample_us", "oom", "worker_error", "nvml_error", "masked_interrupt", "worker_signalled")


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float | None = None
    match: dict = field(default_factory=dict)

    def applies_to(self, config) -> bool:
        values = config.asdict()
        return all(str(values.get(key)).lower() == str(value).lower() for key, value in self.match.items())


class FaultError(ValueError):
    pass


def parse(text: str) -> list[Fault]:
    faults = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        head, _, where = entry.partition("@")
        kind, _, arg = head.partition(":")
        if kind not in KINDS:
            raise FaultError(f"{ENV_VAR}: unknown fault {kind!r} in {entry!r}; use one of {', '.join(KINDS)}")
        match = {}
        for condition in filter(None, where.split(",")):
            key, sep, value = condition.partition("=")
            if not sep:
                raise FaultError(f"{ENV_VAR}: condition {condition!r} in {entry!r} is not FIELD=VALUE")
            match[key.strip()] = value.strip()
        try:
            number = float(arg) if arg else None
        except ValueError:
            raise FaultError(f"{ENV_VAR}: argument {arg!r} in {entry!r} is not a number") from None
        if kind == "slowdown_pct" and not (number is not None and 0 <= number < 100):
            raise FaultError(f"{ENV_VAR}: slowdown_pct needs a percentage in [0, 100), e.g. slowdown_pct:20")
        if kind == "sample_us" and (match or number is None or number < 0):
            raise FaultError(f"{ENV_VAR}: sample_us needs microseconds and no @FIELD=VALUE, e.g. sample_us:40")
        faults.append(Fault(kind, number, match))
    return faults


def _raise_oom() -> None:
    raise torch.cuda.OutOfMemoryError(f"CUDA out of memory (injected by {ENV_VAR}=oom)")


def _interrupt_masked_by_cleanup() -> None:
    """What a GPU sweep met under `timeout`: the KeyboardInterrupt from SIGTERM was replaced by the
    "worker killed" RuntimeError raised while the loader shut its (also signalled) workers down."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the session's SIGTERM handler raises KeyboardInterrupt in here
    except KeyboardInterrupt:
        raise RuntimeError(f"DataLoader worker is killed by signal: Terminated (injected by {ENV_VAR}="
                           "masked_interrupt)") from None


def _worker_signalled() -> None:
    raise RuntimeError(f"DataLoader worker (pid {os.getpid() + 1}) is killed by signal: Terminated.")


def _slowed(step, pct: float):
    """`step`, then a sleep of its own time x pct / (100 - pct): samples/s fall by pct%. On a GPU the step's
    time without a sync is its launch time, so this is for CPU rows."""
    share = pct / (100 - pct)

    def slowed_step():
        start = time.perf_counter()
        result = step()
        time.sleep((time.perf_counter() - start) * share)
        return result
    return slowed_step


def _failing_in_worker(original):
    def getitem(self, index):
        if get_worker_info() is not None:
            raise RuntimeError(f"DataLoader worker failed (injected by {ENV_VAR}=worker_error)")
        return original(self, index)
    return getitem


class ErroringGpu:
    """Stands in for NvmlGpu when nvml_error is injected: claims a GPU, and every reading fails the way
    NvmlGpu reports a failing NVML query: None, with the query recorded in `failures`."""

    available = True

    def __init__(self):
        self.failures: dict[str, str] = {}

    def __getattr__(self, name):
        def failing(*args, **kwargs):
            self.failures[name] = f"NVML error (injected by {ENV_VAR}=nvml_error)"
            return None
        return failing


def _slower_samples(getitem, microseconds: float):
    """`getitem`, then a busy wait of `microseconds` (a sleep would oversleep by the timer's slack, ~50 µs)."""
    def slower(self, index):
        item = getitem(self, index)
        until = time.perf_counter() + microseconds / 1e6
        while time.perf_counter() < until:
            pass
        return item
    return slower


class Injector:
    def __init__(self, faults: list[Fault]):
        self.faults = faults
        sample = next((fault for fault in faults if fault.kind == "sample_us"), None)
        if sample is not None:  # the whole process from here on; DataLoader workers fork with it
            from mnist_core.core import loaders
            loaders.MnistImages.__getitem__ = _slower_samples(loaders.MnistImages.__getitem__, sample.arg or 0)

    def active(self, config, kind: str) -> Fault | None:
        return next((fault for fault in self.faults if fault.kind == kind and fault.applies_to(config)), None)

    def wrap_build(self, build):
        from mnist_core.core import loaders

        def build_with_faults(kind, config, data):
            patch = contextlib.nullcontext()
            if self.active(config, "worker_error"):  # the workers fork while the pipeline is built
                patch = _patched(loaders.MnistImages, "__getitem__", _failing_in_worker(loaders.MnistImages.__getitem__))
            with patch:
                workload = build(kind, config, data)
            step = workload.step
            delay, oom = self.active(config, "delay_ms"), self.active(config, "oom")
            masked, signalled = self.active(config, "masked_interrupt"), self.active(config, "worker_signalled")
            slowdown = self.active(config, "slowdown_pct")
            if slowdown:
                step = workload.step = _slowed(step, slowdown.arg or 0)
            if delay or oom or masked or signalled:
                def faulty_step():
                    if delay:
                        time.sleep((delay.arg or 0) / 1000)
                    if oom:
                        _raise_oom()
                    if masked:
                        _interrupt_masked_by_cleanup()
                    if signalled:
                        _worker_signalled()
                    return step()
                workload.step = faulty_step
            return workload
        return build_with_faults

    def wrap_gpu(self, sampled_gpu):
        def gpu_with_faults(config, gpu):
            return ErroringGpu() if self.active(config, "nvml_error") else sampled_gpu(config, gpu)
        return gpu_with_faults


@contextlib.contextmanager
def _patched(owner, name, value):
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    try:
        faults = parse(os.environ.get(ENV_VAR, ""))
    except FaultError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not faults:
        return
    import bench.timing
    import bench.yardsticks

    injector = Injector(faults)
    bench.yardsticks.build_workload = injector.wrap_build(bench.yardsticks.build_workload)
    bench.timing.sampled_gpu = injector.wrap_gpu(bench.timing.sampled_gpu)


def wrap_build_workload(build):
    """The ab worker's plugin hook (mnist_core/ab/worker.py, MNIST_BENCH_WORKER_PLUGINS=fault_injection): the
    same faults, from the same MNIST_BENCH_INJECT, in a worker process that runs no pytest. A bad value raises
    FaultError, which the worker reports as its one-line start-up error."""
    faults = parse(os.environ.get(ENV_VAR, ""))
    return Injector(faults).wrap_build(build) if faults else build
