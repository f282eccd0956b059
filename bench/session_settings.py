"""The session's validated options: profile, devices, dataset (loaded once), output folder."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mnist_core.measure import faults, profiles
from mnist_core.core.config import DEVICES
from mnist_core.core.data import MnistData, check_name, load_dataset
from mnist_core.errors import ConfigError


@dataclass(frozen=True)
class BenchSettings:
    profile: profiles.Profile
    devices: tuple[str, ...]
    dataset: str
    data: MnistData
    results_dir: Path
    accuracy_target: float | None  # fraction; None: no accuracy to reach (the synthetic set)
    write_report: bool
    torch_threads: int | None

    @classmethod
    def from_options(cls, option) -> BenchSettings:
        profile = profiles.get_profile(option.bench_profile)
        devices = parse_devices(option.devices)
        check_name(option.dataset)  # unknown dataset: fail before touching files
        faults.parse(os.environ.get(faults.ENV_VAR, ""))  # a typo in the test hook fails once, at start
        target = option.accuracy_target
        if target is not None and not 0 < target <= 100:
            raise ConfigError(f"--accuracy-target {target:g} is not a percentage in (0, 100]; e.g. --accuracy-target 84")
        if option.torch_threads is not None and option.torch_threads < 1:
            raise ConfigError(f"--torch-threads {option.torch_threads} must be >= 1; e.g. --torch-threads=1")
        data = load_dataset(option.dataset, option.data_root, download=not option.no_download)
        dataset = data.location.name
        if target is None:
            default = profiles.ACCURACY_TARGETS[dataset]
            target = default * 100 if default is not None else None
        results_dir = writable_results_dir(option.results_dir)  # last: nothing is created unless all else is valid
        return cls(profile, devices, dataset, data, results_dir, target / 100 if target is not None else None,
                   not option.no_report, option.torch_threads)


def parse_devices(text: str) -> tuple[str, ...]:
    devices = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [device for device in devices if device not in DEVICES]
    if unknown or not devices:
        raise ConfigError(f"--devices {text!r}: {', '.join(unknown) or 'nothing'} is not a device; "
                          f"use {', '.join(DEVICES)} or a comma-separated list such as cpu,cuda")
    return devices


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
