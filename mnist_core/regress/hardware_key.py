"""The hardware key of a run: what must match for two runs' numbers to be comparable.

GPU model, driver major version, CUDA (torch's build), torch major.minor, CPU model, cores
available and dataset; read from the run's machine and session sections (runs/sections.py). The profile is kept
beside the key (a baseline per machine and profile) but is not hardware: runs of two profiles differ in
round sizes and counts, and a mismatch is its own error.
"""

from __future__ import annotations

import re

from mnist_core.runs.rows import ConfigRow
from mnist_core.runs.runfile import Run, slug

KEY_FIELDS = ("gpu", "driver_major", "cuda", "torch", "cpu", "cores", "dataset")  # what must match: the setup
NONE = "none"


def _major(version) -> str:
    match = re.match(r"\s*(\d+)", str(version or ""))
    return match.group(1) if match else NONE


def _minor(version) -> str:
    match = re.match(r"\s*(\d+)\.(\d+)", str(version or ""))
    return f"{match.group(1)}.{match.group(2)}" if match else str(version or NONE)


def _dataset(run: Run) -> str:
    """The session's dataset; a file whose section does not name it: the datasets its rows ran on."""
    if run.session.dataset.name:
        return str(run.session.dataset.name)
    names = {row.config.dataset for row in run.rows if isinstance(row, ConfigRow)}
    return ",".join(sorted(names)) or NONE


def hardware_key(run: Run) -> dict[str, str]:
    """The key as an ordered dict of strings ("none" where the run had no such thing, e.g. no GPU)."""
    machine = run.machine
    return {
        "gpu": str(machine.gpu_name or NONE),
        "driver_major": _major(machine.gpu_driver),
        "cuda": str(machine.cuda_version or NONE),
        "torch": _minor(machine.torch_version),
        "cpu": str(machine.cpu_model or "unknown"),
        "cores": str(machine.cpu_cores_available or machine.cpu_cores or "unknown"),
        "dataset": _dataset(run),
        "profile": str(run.profile or "unknown"),
    }


def key_slug(key: dict[str, str]) -> str:
    """The baseline's file name stem, e.g. nvidia-h100-80gb-hbm3-drv570-cuda12-8-torch2-11-amd-epyc-16c-mnist-default."""
    gpu = f"{key['gpu']}-drv{key['driver_major']}" if key["gpu"] != NONE else "cpu-only"
    return slug(f"{gpu}-cuda{key['cuda']}-torch{key['torch']}-{key['cpu']}-{key['cores']}c-{key['dataset']}-"
                f"{key['profile']}")


def key_differences(baseline: dict[str, str], current: dict[str, str]) -> list[str]:
    """'torch 2.10 vs 2.11' for each hardware field that differs, in key order (the profile is not one)."""
    return [f"{name} {baseline.get(name)} vs {current.get(name)}" for name in KEY_FIELDS
            if baseline.get(name) != current.get(name)]


def describe(key: dict[str, str], *, profile: bool = True) -> str:
    gpu = f"{key['gpu']} (driver {key['driver_major']})" if key["gpu"] != NONE else "no GPU"
    text = f"{gpu}, CUDA {key['cuda']}, torch {key['torch']}, {key['cpu']} x{key['cores']}, {key['dataset']}"
    return f"{text}, {key['profile']} profile" if profile else text
