"""The flat `extra_info` row each benchmark stores: its config, its numbers and its telemetry."""

from __future__ import annotations

from statistics import median

import torch

from mnist_core.core.config import CPU_COLLAPSED_FIELDS, BenchConfig
from mnist_core.measure.telemetry import TELEMETRY_KEYS
from mnist_core.measure.units import BYTES_PER_MIB

ROW_KEYS = (
    "kind", "samples_per_s", "samples_per_s_rounds", "device", "model", "hidden_width", "loader", "batch_size",
    "num_workers", "pin_memory", "non_blocking", "dataset", "first_batch_s", "reference", "seed",
    "samples_per_round", "torch_threads_used", "rounds", "collapsed", "dataset_on_device_mib",
) + TELEMETRY_KEYS


def samples_per_s_rounds(samples_per_round: int, round_seconds: list[float]) -> list[float]:
    return [samples_per_round / seconds for seconds in round_seconds if seconds > 0]


def throughput_row(kind: str, config: BenchConfig, samples_per_round: int, round_seconds: list[float],
                   first_batch_s: float | None, telemetry: dict, dataset_on_device_bytes: int | None = None) -> dict:
    """One benchmark's extra_info: throughput as the median over rounds, plus everything that explains it."""
    rounds = samples_per_s_rounds(samples_per_round, round_seconds)
    row = {
        "kind": kind,
        "samples_per_s": median(rounds) if rounds else None,
        "samples_per_s_rounds": rounds,
        **config.asdict(),
        "samples_per_round": samples_per_round,
        "torch_threads_used": torch.get_num_threads(),  # what ran, whether or not torch_threads was set
        "first_batch_s": first_batch_s,
        # The tutorial's setting as a training benchmark: one such row per device.
        "reference": kind == "train" and config.reference,
        "rounds": len(rounds),
        "dataset_on_device_mib": dataset_on_device_bytes / BYTES_PER_MIB if dataset_on_device_bytes else None,
        # On the CPU there are no pinned pages to copy from nor an async copy to overlap.
        "collapsed": list(CPU_COLLAPSED_FIELDS) if config.device == "cpu" else [],
    }
    row.update({key: telemetry.get(key) for key in TELEMETRY_KEYS})
    return row
