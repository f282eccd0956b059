"""The session's options: parsers for pytest's `type=` (a bad value is pytest's one-line usage error) and
the validated settings built from them (dataset loaded once, output folder proven writable)."""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mnist_core.core.config import DEVICES
from mnist_core.core.data import DATASET_NAMES, MnistData, load_dataset
from mnist_core.errors import ConfigError
from mnist_core.measure import profiles


def profile_name(text: str) -> str:
    if text not in profiles.PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {text!r}; use one of {', '.join(profiles.PROFILES)}")
    return text


def dataset_name(text: str) -> str:
    if text not in DATASET_NAMES:
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; use one of {', '.join(DATASET_NAMES)}")
    return text


def device_list(text: str) -> tuple[str, ...]:
    devices = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [device for device in devices if device not in DEVICES]
    if unknown or not devices:
        raise argparse.ArgumentTypeError(f"{text!r}: {', '.join(unknown) or 'nothing'} is not a device; use "
                                         f"{', '.join(DEVICES)} or a comma-separated list such as cpu,cuda")
    return devices


def _number(text: str, convert, in_range, requirement: str, example: str):
    """`text` as a number that `in_range` accepts; otherwise pytest's usage error naming `example`."""
    try:
        value = convert(text)
    except ValueError:
        kind = "a whole number" if convert is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {kind}; e.g. {example}") from None
    if not in_range(value):
        raise argparse.ArgumentTypeError(f"{value:g} {requirement}; e.g. {example}")
    return value


def percentage(text: str) -> float:
    return _number(text, float, lambda value: 0 < value <= 100, "is not a percentage in (0, 100]",
                   "--accuracy-target=84")


def positive_int(text: str) -> int:
    return _number(text, int, lambda value: value >= 1, "must be >= 1", "--torch-threads=1")


def default_devices() -> tuple[tuple[str, ...], str | None]:
    """The devices present, and a line saying which were left out and why (None when none were)."""
    from mnist_core.core.devices import cuda_available  # torch: only once a session of bench/ starts

    if cuda_available():
        return ("cpu", "cuda"), None
    return ("cpu",), "cuda left out: no CUDA GPU is visible to torch (--devices=cpu,cuda to list its rows as skipped)"


@dataclass(frozen=True)
class BenchSettings:
    profile: profiles.Profile
    devices: tuple[str, ...]
    devices_note: str | None  # which devices were left out and why, when --devices was not given
    dataset: str
    data: MnistData
    results_dir: Path
    accuracy_target: float | None  # fraction; None: no accuracy to reach (the synthetic set)
    write_report: bool
    torch_threads: int | None

    @classmethod
    def from_options(cls, option) -> BenchSettings:
        """Raises MnistBenchError (one line) for what a type= parser cannot see: files and folders."""
        devices, note = (option.devices, None) if option.devices else default_devices()
        data = load_dataset(option.dataset, option.data_root, download=not option.no_download)
        dataset = data.location.name
        target = option.accuracy_target / 100 if option.accuracy_target is not None else profiles.ACCURACY_TARGETS[dataset]
        results_dir = writable_results_dir(option.results_dir)  # last: nothing is created unless all else is valid
        return cls(profiles.get_profile(option.bench_profile), devices, note, dataset, data, results_dir, target,
                   not option.no_report, option.torch_threads)


def writable_results_dir(text: str) -> Path:
    """Create the results folder and prove a file can be written there, before any benchmark runs."""
    path = Path(text)
    fix = "give a folder you can write to, e.g. --results-dir=results"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--results-dir {text!r} is a file, not a folder; {fix}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=path, prefix=".mnist-bench-probe-", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        failed_at = Path(exc.filename) if exc.filename else path
        where = "" if path in (failed_at, failed_at.parent) else f" ({failed_at})"  # e.g. a parent that cannot be made
        raise ConfigError(f"--results-dir {text!r}: cannot write there: {exc.strerror or exc}{where}; {fix}") from None
    return path
