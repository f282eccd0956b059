"""Test hook: inject documented faults into chosen configurations through one environment variable.

MNIST_BENCH_INJECT holds `;`-separated entries `KIND[:ARG][@FIELD=VALUE,...]`; an entry applies
to the configurations whose fields all match. Kinds:
  delay_ms:N    sleep N ms each time the input pipeline hands out a batch (a slower pipeline)
  oom           raise torch.cuda.OutOfMemoryError from the training step
  worker_error  make every DataLoader worker fail while loading a sample
  nvml_error    make every NVML reading fail
  masked_interrupt  SIGTERM this process from the training step and let a cleanup error replace the
                interrupt, as closing a DataLoader whose workers died with the same signal did
Example: MNIST_BENCH_INJECT="delay_ms:5@pin_memory=True;oom@batch_size=2048"
Used by the tests of regression checks and fault tolerance; unset in normal runs.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch.utils.data import Dataset, get_worker_info

from mnist_core.errors import ConfigError

ENV_VAR = "MNIST_BENCH_INJECT"
KINDS = ("delay_ms", "oom", "worker_error", "nvml_error", "masked_interrupt")


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float | None = None
    match: dict = field(default_factory=dict)

    def applies_to(self, config) -> bool:
        values = config.asdict()
        return all(str(values.get(key)).lower() == str(value).lower() for key, value in self.match.items())


def parse(text: str) -> list[Fault]:
    faults = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        head, _, where = entry.partition("@")
        kind, _, arg = head.partition(":")
        if kind not in KINDS:
            raise ConfigError(f"{ENV_VAR}: unknown fault {kind!r} in {entry!r}; use one of {', '.join(KINDS)}")
        match = {}
        for condition in filter(None, where.split(",")):
            key, sep, value = condition.partition("=")
            if not sep:
                raise ConfigError(f"{ENV_VAR}: condition {condition!r} in {entry!r} is not FIELD=VALUE")
            match[key.strip()] = value.strip()
        try:
            number = float(arg) if arg else None
        except ValueError:
            raise ConfigError(f"{ENV_VAR}: argument {arg!r} in {entry!r} is not a number") from None
        faults.append(Fault(kind, number, match))
    return faults


def active(config, kind: str, environ=os.environ) -> Fault | None:
    """The first injected fault of `kind` that applies to `config`, if any."""
    for fault in parse(environ.get(ENV_VAR, "")):
        if fault.kind == kind and fault.applies_to(config):
            return fault
    return None


def delayed(batches: Iterator, delay_ms: float) -> Iterator:
    for batch in batches:
        time.sleep(delay_ms / 1000)
        yield batch


def raise_oom() -> None:
    raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected by MNIST_BENCH_INJECT=oom)")


def interrupt_masked_by_cleanup() -> None:
    """What a GPU sweep met under `timeout`: the KeyboardInterrupt from SIGTERM was replaced by the
    "worker killed" RuntimeError raised while the loader shut its (also signalled) workers down."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the session's SIGTERM handler raises KeyboardInterrupt in here
    except KeyboardInterrupt:
        raise RuntimeError("DataLoader worker is killed by signal: Terminated "
                           "(injected by MNIST_BENCH_INJECT=masked_interrupt)") from None


class FailingInWorker(Dataset):
    """Wraps a dataset so that loading a sample inside a DataLoader worker raises."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        if get_worker_info() is not None:
            raise RuntimeError("DataLoader worker failed (injected by MNIST_BENCH_INJECT=worker_error)")
        return self.dataset[index]


class ErroringGpu:
    """Stands in for NvmlGpu when nvml_error is injected: claims a GPU, fails every reading."""

    available = True

    def __getattr__(self, name):
        def failing(*args, **kwargs):
            raise RuntimeError(f"NVML error in {name} (injected by {ENV_VAR}=nvml_error)")
        return failing
