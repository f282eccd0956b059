"""The report's tidy frame: one row per benchmark with every config field and metric (what results.csv
holds), plus the columns the tables read: a benchmark id, the machine, the epoch time and the spread."""

from __future__ import annotations

import json
import re

import pandas as pd

from mnist_core.core.config import label_for
from mnist_core.runs.frame import run_frame
from mnist_core.core.loaders import VALIDATION_SIZE
from mnist_core.measure.stats import iqr_pct
from mnist_core.runs.records import ROW_KEYS
from mnist_core.report.inputs import RunInput, is_measured

NOISE_LIMIT_PCT = 10.0  # IQR/median above this: the row's differences are within its own noise

# The columns results.csv starts with; every other field follows in the order the runs give it.
LEADING_COLUMNS = (
    "machine", "id", "kind", "device", "model", "hidden_width", "loader", "batch_size", "num_workers",
    "pin_memory", "non_blocking", "reference", "dataset", "samples_per_s", "epoch_s", "gb_s", "rounds",
    "iqr_pct", "noisy",
)
TRANSFER_KEYS = ("transfer", "bytes", "copies_per_round", "gb_s", "gb_s_rounds", "us_per_copy",
                 "pcie_theoretical_gb_s", "pcie_fraction")
ACCURACY_KEYS = ("tutorial_setting", "target_accuracy", "reached", "epochs", "seconds_to_target", "seconds",
                 "train_seconds", "val_accuracy", "val_accuracy_by_epoch", "train_samples")
OVERHEAD_KEYS = ("bare_samples_per_s", "bare_samples_per_s_rounds", "suite_to_bare_ratio", "overhead_pct",
                 "overhead_limit_pct", "overhead_verdict", "bare_iqr_pct")
# Present in every report frame (None where no row has them), so tables never miss a column.
EXPECTED_COLUMNS = tuple(dict.fromkeys(LEADING_COLUMNS + ROW_KEYS + TRANSFER_KEYS + ACCURACY_KEYS + OVERHEAD_KEYS
                                       + ("name", "group", "hardware", "profile", "run", "epoch_samples")))


def benchmark_id(name: str | None, kind: str, info: dict) -> str:
    """kind/parameter id, as the run file's skipped/failed lists name benchmarks: train/cpu-mlp-resident-bs128."""
    match = re.search(r"\[(.+)\]$", name or "")
    return f"{kind}/{match.group(1) if match else label_for(info)}"


def epoch_samples(train_size: int | None) -> int | None:
    """Samples in one training epoch: the train split minus the tutorial's 10,000 validation images."""
    if not train_size:
        return None
    validation = VALIDATION_SIZE if 0 < VALIDATION_SIZE < train_size else max(1, train_size // 6)
    return train_size - validation


def round_values(row: dict) -> list[float] | None:
    """The per-round numbers a row's spread is judged on: samples/s, or GB/s for copies."""
    for key in ("samples_per_s_rounds", "gb_s_rounds"):
        values = row.get(key)
        if isinstance(values, list) and values:
            return values
    return None


def _run_rows(run: RunInput) -> pd.DataFrame:
    measured = {**run.data, "benchmarks": [bench for bench in run.data["benchmarks"] if is_measured(bench)]}
    frame = run_frame(measured, source=str(run.path))
    frame["machine"] = run.label
    frame["epoch_samples"] = epoch_samples((run.section.get("dataset") or {}).get("train_size"))
    return frame


def tidy_frame(runs: list[RunInput]) -> pd.DataFrame:
    frame = pd.concat([_run_rows(run) for run in runs], ignore_index=True)
    for column in EXPECTED_COLUMNS:
        if column not in frame:
            frame[column] = None
    records = frame.to_dict("records")
    frame["id"] = [benchmark_id(row["name"], row["kind"], row) for row in records]
    frame["iqr_pct"] = [_spread(row) for row in records]
    frame["noisy"] = [value is not None and value > NOISE_LIMIT_PCT for value in frame["iqr_pct"]]
    frame["epoch_s"] = [row["epoch_samples"] / row["samples_per_s"]
                        if _number(row["samples_per_s"]) and row["kind"] != "transfer" and _number(row["epoch_samples"])
                        else None for row in records]
    leading = list(LEADING_COLUMNS)
    return frame[leading + [column for column in frame.columns if column not in leading]]


def _spread(row: dict) -> float | None:
    values = round_values(row)
    return iqr_pct(values) if values else None


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value > 0


def csv_text(frame: pd.DataFrame) -> str:
    """results.csv: lists as JSON so a reader gets them back with json.loads; floats at full precision."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda value: isinstance(value, (list, tuple, dict))).any():
            out[column] = out[column].map(lambda value: json.dumps(value) if isinstance(value, (list, tuple, dict))
                                          else value)
    return out.to_csv(index=False)
