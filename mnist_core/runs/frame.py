"""Runs as pandas DataFrames: one tidy row per benchmark, for tables, reports and notebooks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mnist_core.runs.runfile import SECTION, load_run

STAT_KEYS = ("min", "max", "mean", "median", "iqr", "stddev", "rounds")
MACHINE_KEYS = ("gpu_name", "gpu_driver", "cuda_version", "torch_version", "cpu_model", "cpu_cores_available",
                "torch_threads", "node")


def hardware_label(machine_info: dict) -> str:
    """How a run's machine is named in side-by-side tables: the GPU if it had one, else the CPU."""
    gpu = machine_info.get("gpu_name")
    cpu = machine_info.get("cpu_model") or "CPU"
    return f"{gpu} + {cpu}" if gpu else cpu


def run_frame(run: dict, source: str | None = None) -> pd.DataFrame:
    """One row per benchmark of one loaded run: its extra_info, timing stats and machine."""
    machine = run.get("machine_info", {})
    section = run.get(SECTION, {})
    rows = []
    for bench in run["benchmarks"]:
        row = {"name": bench.get("name"), "group": bench.get("group")}
        row.update(bench.get("extra_info", {}))
        stats = bench.get("stats", {})
        row.update({f"round_s_{key}": stats.get(key) for key in STAT_KEYS})
        row.update({key: machine.get(key) for key in MACHINE_KEYS})
        row["hardware"] = hardware_label(machine)
        row["profile"] = section.get("profile")
        row["run"] = source
        rows.append(row)
    return pd.DataFrame(rows)


def load_frame(*paths: str | Path) -> pd.DataFrame:
    """Several run files as one DataFrame (the notebook API): `load_frame("results/run-....json")`."""
    frames = [run_frame(load_run(path), source=str(path)) for path in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
