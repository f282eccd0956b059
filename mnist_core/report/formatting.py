"""How report cells read: one label (with its unit) and one number format per column name.

A column that claims a difference carries its interval and verdict in companion columns named
`<column>_low`, `<column>_high` and `<column>_verdict`: the cell reads "3.56× [3.21–3.94] faster" and the
companions are not shown on their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pandas as pd

MISSING = "-"
_KIB, _MIB = 1024, 1024 * 1024
COMPANIONS = ("_low", "_high", "_verdict", "_why")
VERDICT_MARKS = {"faster": "▲ faster", "slower": "▼ slower", "same": "= same", "inconclusive": "? inconclusive"}


def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _significant(value: float, digits: int = 3) -> str:
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def rate(value) -> str:
    """Throughput with three significant digits: 6,012, 21.4k, 169k, 1.32M."""
    value = float(value)
    if abs(value) >= 1e6:
        return f"{_significant(value / 1e6)}M"
    if abs(value) >= 1e4:
        return f"{_significant(value / 1e3)}k"
    return f"{value:,.0f}"


def duration(seconds) -> str:
    """A time with its unit and three significant digits: 8.31 s, 352 ms, 41.0 µs."""
    seconds = float(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale or unit == "µs":
            return f"{_significant(seconds / scale)} {unit}"
    return f"{seconds} s"


def seconds(value) -> str:
    return duration(value)


def times(value) -> str:
    return f"{_significant(float(value))}×"


def signed_pct(value) -> str:
    return f"{value:+.1f}%"


def size(value) -> str:
    value = float(value)
    if value >= _MIB:
        return f"{value / _MIB:.1f}".removesuffix(".0") + " MiB"
    if value >= _KIB:
        return f"{value / _KIB:.0f} KiB"
    return f"{value:.0f} B"


def auto(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{value:,d}"
    if isinstance(value, (float, np.floating)):
        return _significant(value)
    return str(value)


def when(started_at: str | None) -> str | None:
    """An ISO timestamp as '2026-11-26 13:57 UTC'."""
    try:
        moment = datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return started_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _ratio_interval(value, low, high, verdict) -> str:
    text = f"{times(value)}"
    if not (_is_missing(low) or _is_missing(high)):
        text += f" [{times(low)}–{times(high)}]"
    return f"{text} {VERDICT_MARKS.get(verdict, '')}".rstrip()


def _pct_interval(value, low, high, verdict) -> str:
    text = signed_pct(value)
    if not (_is_missing(low) or _is_missing(high)):
        text += f" [{low:+.1f}, {high:+.1f}]"
    return f"{text} {VERDICT_MARKS.get(verdict, '')}".rstrip()


def _rate_interval(value, low, high, _verdict) -> str:
    if _is_missing(low) or _is_missing(high):
        return rate(value)
    return f"{rate(value)} [{rate(low)}–{rate(high)}]"


INTERVAL_FORMATS = {"ratio_ci": _ratio_interval, "pct_ci": _pct_interval, "rate_ci": _rate_interval}
FORMATS: dict[str, Callable] = {
    "text": str,
    "auto": auto,
    "rate": rate,
    "seconds": duration,
    "times": times,
    "pct": lambda value: f"{value:.1f}",
    "pct0": lambda value: f"{value:.0f}%",
    "pct1": lambda value: f"{value:.1f}%",
    "signed_pct": signed_pct,
    "count": lambda value: f"{int(value)}",
    "int": lambda value: f"{value:,.0f}",
    "float1": lambda value: f"{value:,.1f}",
    "gbs": lambda value: f"{value:.1f}",
    "bytes": size,
    "onoff": lambda value: "on" if value else "off",
    "yesno": lambda value: "yes" if value else "no",
    "noisy": lambda value: "yes" if value else "",
}
# What a missing value reads as, where "-" would mislead.
MISSING_AS = {"onoff": "n/a", "noisy": ""}

# column -> (label with unit, format)
COLUMNS: dict[str, tuple[str, str]] = {
    "machine": ("machine", "text"),
    "device": ("device", "text"),
    "id": ("benchmark", "text"),
    "what": ("", "text"),
    "model": ("model", "text"),
    "loader": ("pipeline", "text"),
    "setting": ("setting", "text"),
    "batch_size": ("batch", "count"),
    "num_workers": ("workers", "count"),
    "pin_memory": ("pin_memory", "onoff"),
    "non_blocking": ("non_blocking", "onoff"),
    "samples_per_s": ("samples/s [95% interval]", "rate_ci"),
    "epoch_s": ("per epoch", "seconds"),
    "adjusted_samples_per_s": ("adjusted samples/s", "rate"),
    "vs_tutorial": ("vs the tutorial's setting [95%]", "ratio_ci"),
    "delta_pct": ("Δ vs the tutorial's setting [95%]", "pct_ci"),
    "cpu_setting": ("CPU setting", "text"),
    "cpu_adjusted_samples_per_s": ("CPU adjusted samples/s", "rate"),
    "cpu_epoch_s": ("CPU per epoch", "seconds"),
    "gpu_setting": ("GPU setting", "text"),
    "gpu_adjusted_samples_per_s": ("GPU adjusted samples/s", "rate"),
    "gpu_epoch_s": ("GPU per epoch", "seconds"),
    "gpu_vs_cpu": ("GPU vs CPU [95%]", "ratio_ci"),
    "check": ("design target", "text"),
    "measured_x": ("measured", "times"),
    "target_x": ("target (at least)", "times"),
    "status": ("", "text"),
    "bytes": ("copy size", "bytes"),
    "copy": ("source, copy", "text"),
    "gb_s": ("GB/s [95% interval]", "rate_ci"),
    "us_per_copy": ("µs per copy", "float1"),
    "us_per_step": ("µs per step", "float1"),
    "kernels_per_step": ("kernels per step", "float1"),
    "replayed_kernel_us": ("µs per replayed kernel", "float1"),
    "launch_floor_us": ("launch floor µs per step", "float1"),
    "pcie_pct": ("% of PCIe max", "pct0"),
    "gpu_util_mean_pct": ("GPU busy (mean %)", "pct"),
    "gpu_mem_used_max_mib": ("GPU memory max (MiB)", "int"),
    "torch_peak_allocated_mib": ("torch peak (MiB)", "float1"),
    "gpu_power_mean_w": ("power (W)", "float1"),
    "gpu_sm_clock_mean_mhz": ("SM clock (MHz)", "int"),
    "pcie_rx_mean_mb_s": ("PCIe rx (MB/s)", "int"),
    "target_pct": ("target accuracy", "pct0"),
    "reached": ("reached", "yesno"),
    "epochs": ("epochs", "count"),
    "seconds_to_target": ("time to target", "seconds"),
    "seconds": ("time in all", "seconds"),
    "val_accuracy_pct": ("final accuracy", "pct1"),  # one decimal: a best short of the target never reads as it
    "rounds": ("rounds", "count"),
    "median": ("median", "auto"),
    "machine_median": ("median [95% interval]", "rate_ci"),
    "vs_first_machine": ("vs the first machine [95%]", "ratio_ci"),
    "pipeline": ("pipeline", "text"),
    "unit": ("unit", "text"),
    "iqr_pct": ("IQR/median %", "pct"),
    "ci_half_pct": ("95% interval ±%", "pct"),
    "noisy": ("spread > 10%", "noisy"),
    "stop_reason": ("stopped", "text"),
    "paired_with": ("rounds paired with", "text"),
    "spread_pct": ("drift (±%)", "pct"),
    "suite_vs_bare": ("suite vs bare loop [95%]", "pct_ci"),
    "field": ("", "text"),
    "outcome": ("outcome", "text"),
    "count": ("count", "count"),
    "reason": ("reason", "text"),
    "ids": ("benchmarks", "text"),
}


def tutorial_cell(record: dict) -> str:
    """The tutorial's own cell of the settings table: the samples/s its row's changes are relative to (adjusted,
    and named so, where that differs from its median)."""
    median, adjusted = rate(record["samples_per_s"]), record.get("adjusted_samples_per_s")
    if _is_missing(adjusted) or rate(adjusted) == median:
        return f"the tutorial's setting ({median}/s)"
    return f"the tutorial's setting ({rate(adjusted)}/s adjusted)"


def column_label(column: str) -> str:
    return COLUMNS.get(column, (column, "auto"))[0]


def is_companion(frame: pd.DataFrame, column: str) -> bool:
    return any(column.endswith(suffix) and column[:-len(suffix)] in frame.columns for suffix in COMPANIONS)


def format_cell(column: str, value, row: dict | None = None) -> str:
    kind = COLUMNS.get(column, (column, "auto"))[1]
    if _is_missing(value):
        return MISSING_AS.get(kind, MISSING)
    if isinstance(value, np.generic):
        value = value.item()
    if kind in INTERVAL_FORMATS:
        row = row or {}
        text = INTERVAL_FORMATS[kind](value, row.get(f"{column}_low"), row.get(f"{column}_high"),
                                      row.get(f"{column}_verdict"))
        why = row.get(f"{column}_why")
        return text if _is_missing(why) else f"{text}: {why}"
    return FORMATS[kind](value)


LEFT_FORMATS = {"text", "noisy", "onoff", "yesno"}


def right_aligned(frame: pd.DataFrame, column: str) -> bool:
    """Numbers right, words left; a column without a declared format is judged by its values."""
    kind = COLUMNS.get(column, (column, "auto"))[1]
    if kind in LEFT_FORMATS:
        return False
    if kind != "auto":
        return True
    values = [value for value in frame[column] if not _is_missing(value)]
    return bool(values) and all(isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
                                for value in values)


def display_rows(frame: pd.DataFrame, hide: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[list[str]]]:
    """(column names, labels, rows of formatted cells) of the visible columns."""
    columns = [column for column in frame.columns if column not in hide and not is_companion(frame, column)]
    labels = [column_label(column) for column in columns]
    records = frame.to_dict("records")
    rows = [[format_cell(column, record[column], record) for column in columns] for record in records]
    return columns, labels, rows
