"""The session's validated options: profile, devices, dataset (loaded once), output folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnist_core import faults, profiles
from mnist_core.config import DEVICES
from mnist_core.data import MnistData, load_dataset, spec_for
from mnist_core.errors import ConfigError


@dataclass(frozen=True)
class BenchSettings:
    profile: profiles.Profile
    devices: tuple[str, ...]
    dataset: str
    data: MnistData
    results_dir: Path
    accuracy_target: float  # fraction
    write_report: bool
    torch_threads: int | None

    @classmethod
    def from_options(cls, option) -> BenchSettings:
        profile = profiles.get_profile(option.bench_profile)
        devices = parse_devices(option.devices)
        spec_for(option.dataset)  # unknown dataset: fail before touching files
        faults.parse(os.environ.get(faults.ENV_VAR, ""))  # a typo in the test hook fails once, at start
        target = option.accuracy_target
        if target is None:
            target = profiles.ACCURACY_TARGETS[option.dataset] * 100
        if not 0 < target <= 100:
            raise ConfigError(f"--accuracy-target {target:g} is not a percentage in (0, 100]; e.g. --accuracy-target 84")
        if option.torch_threads is not None and option.torch_threads < 1:
            raise ConfigError(f"--torch-threads {option.torch_threads} must be >= 1; e.g. --torch-threads=1")
        data = load_dataset(option.dataset, option.data_root, download=not option.no_download)
        return cls(profile, devices, option.dataset, data, Path(option.results_dir), target / 100,
                   not option.no_report, option.torch_threads)


def parse_devices(text: str) -> tuple[str, ...]:
    devices = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [device for device in devices if device not in DEVICES]
    if unknown or not devices:
        raise ConfigError(f"--devices {text!r}: {', '.join(unknown) or 'nothing'} is not a device; "
                          f"use {', '.join(DEVICES)} or a comma-separated list such as cpu,cuda")
    return devices
