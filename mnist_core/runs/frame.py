"""Runs as pandas DataFrames: one tidy row per benchmark, for tables, results.csv and notebooks.

The columns are the typed rows' own keys (runs/rows.py), in their field order, after `machine` and `id`;
`epoch_s` (seconds per training epoch at the row's throughput) is added for throughput rows: not a timed
epoch, but since rounds are charged their share of a fresh epoch's start-up (`epoch_start_s`), it is that
start-up plus an epoch's batches at the rounds' rate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mnist_core.core.config import validation_size
from mnist_core.runs.rows import AccuracyRow
from mnist_core.runs.runfile import Run, read_run

MACHINE_KEYS = ("gpu_name", "gpu_driver", "cuda_version", "torch_version", "cpu_model", "cpu_cores_available",
                "torch_threads")


def epoch_samples(run: Run) -> int | None:
    """Samples in one training epoch: the train split less the tutorial's 10,000 validation images."""
    train_size = run.session.dataset.train_size
    return train_size - validation_size(train_size) if train_size else None


def run_frame(run: Run, machine: str | None = None) -> pd.DataFrame:
    """One row per usable benchmark of `run`."""
    per_epoch = epoch_samples(run)
    records = []
    for row in run.rows:
        info = row.to_info()
        record = {"machine": machine, "id": row.id, **info}
        if not isinstance(row, AccuracyRow) and info.get("samples_per_s") and per_epoch:
            record["epoch_s"] = per_epoch / info["samples_per_s"]
        record.update({key: getattr(run.machine, key) for key in MACHINE_KEYS})
        record["profile"] = run.profile
        record["run"] = str(run.path)
        records.append(record)
    return pd.DataFrame(records)


def load_frame(*paths: str | Path) -> pd.DataFrame:
    """Several run files as one DataFrame (the notebook API): `load_frame("results/run-....json")`."""
    frames = [run_frame(read_run(path), machine=str(path)) for path in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def csv_text(frame: pd.DataFrame) -> str:
    """results.csv: lists and objects as JSON so a reader gets them back with json.loads; floats at full precision."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda value: isinstance(value, (list, tuple, dict))).any():
            out[column] = out[column].map(lambda value: json.dumps(value) if isinstance(value, (list, tuple, dict))
                                          else value)
    return out.to_csv(index=False)
