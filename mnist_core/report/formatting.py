"""How report cells read: one label (with its unit) and one number format per column name."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import pandas as pd

MISSING = "-"
_KIB, _MIB = 1024, 1024 * 1024


def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def rate(value) -> str:
    return f"{value:,.0f}"


def seconds(value) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:,.1f}"


def times(value) -> str:
    return f"{value:.2f}x" if abs(value) < 10 else f"{value:,.1f}x"


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
        return rate(value) if abs(value) >= 100 else f"{value:.3g}"
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


FORMATS: dict[str, Callable] = {
    "text": str,
    "auto": auto,
    "rate": rate,
    "seconds": seconds,
    "times": times,
    "pct": lambda value: f"{value:.1f}",
    "signed_pct": signed_pct,
    "count": lambda value: f"{int(value)}",
    "int": lambda value: f"{value:,.0f}",
    "float1": lambda value: f"{value:,.1f}",
    "gbs": lambda value: f"{value:.2f}",
    "bytes": size,
    "onoff": lambda value: "on" if value else "off",
    "yesno": lambda value: "yes" if value else "no",
    "reference": lambda value: "reference" if value else "",
    "best": lambda value: "best" if value else "",
    "noisy": lambda value: "yes" if value else "",
}
# What a missing value reads as, where "-" would mislead.
MISSING_AS = {"onoff": "n/a", "reference": "", "best": "", "noisy": ""}

# column -> (label with unit, format)
COLUMNS: dict[str, tuple[str, str]] = {
    "machine": ("machine", "text"),
    "device": ("device", "text"),
    "id": ("benchmark", "text"),
    "model": ("model", "text"),
    "loader": ("pipeline", "text"),
    "pipeline": ("pipeline", "text"),
    "configuration": ("configuration", "text"),
    "batch_size": ("batch", "count"),
    "num_workers": ("workers", "count"),
    "pin_memory": ("pin_memory", "onoff"),
    "non_blocking": ("non_blocking", "onoff"),
    "samples_per_s": ("samples/s", "rate"),
    "epoch_s": ("epoch (s)", "seconds"),
    "delta_vs_reference_pct": ("Δ vs reference", "signed_pct"),
    "reference": ("reference", "reference"),
    "best": ("best", "best"),
    "noisy": ("spread > 10%", "noisy"),
    "reference_id": ("reference benchmark", "text"),
    "reference_samples_per_s": ("reference samples/s", "rate"),
    "reference_epoch_s": ("reference epoch (s)", "seconds"),
    "fastest_id": ("fastest MLP benchmark", "text"),
    "fastest_samples_per_s": ("fastest samples/s", "rate"),
    "fastest_epoch_s": ("fastest epoch (s)", "seconds"),
    "speedup_vs_reference": ("speedup vs reference", "times"),
    "cpu_id": ("CPU benchmark", "text"),
    "cpu_samples_per_s": ("CPU samples/s", "rate"),
    "cpu_epoch_s": ("CPU epoch (s)", "seconds"),
    "gpu_id": ("GPU benchmark", "text"),
    "gpu_samples_per_s": ("GPU samples/s", "rate"),
    "gpu_epoch_s": ("GPU epoch (s)", "seconds"),
    "gpu_speedup": ("GPU speedup over CPU", "times"),
    "faster": ("faster", "text"),
    "ratio": ("ratio", "text"),
    "numerator_id": ("benchmark", "text"),
    "numerator_samples_per_s": ("samples/s", "rate"),
    "denominator_id": ("vs benchmark", "text"),
    "denominator_samples_per_s": ("vs samples/s", "rate"),
    "measured_x": ("measured", "times"),
    "target_x": ("target (at least)", "times"),
    "status": ("status", "text"),
    "bytes": ("copy size", "bytes"),
    "gb_s": ("GB/s", "gbs"),
    "us_per_copy": ("µs per copy", "float1"),
    "pcie_link": ("PCIe link", "text"),
    "pcie_theoretical_gb_s": ("PCIe max (GB/s)", "gbs"),
    "pcie_pct": ("% of PCIe max", "pct"),
    "gpu_util_mean_pct": ("GPU util mean %", "pct"),
    "gpu_util_max_pct": ("GPU util max %", "pct"),
    "gpu_mem_used_max_mib": ("GPU memory max (MiB)", "int"),
    "torch_peak_allocated_mib": ("torch peak allocated (MiB)", "float1"),
    "gpu_power_mean_w": ("power mean (W)", "float1"),
    "gpu_sm_clock_mean_mhz": ("SM clock mean (MHz)", "int"),
    "pcie_rx_mean_mb_s": ("PCIe rx mean (MB/s)", "int"),
    "target_pct": ("target accuracy %", "pct"),
    "reached": ("reached", "yesno"),
    "epochs": ("epochs", "count"),
    "seconds_to_target": ("seconds to target", "seconds"),
    "seconds": ("seconds in all", "seconds"),
    "val_accuracy_pct": ("final val accuracy %", "pct"),
    "rounds": ("rounds", "count"),
    "median": ("median", "auto"),
    "unit": ("unit", "text"),
    "iqr_pct": ("IQR/median %", "pct"),
    "bare_samples_per_s": ("bare loop samples/s", "rate"),
    "overhead_pct": ("suite overhead", "signed_pct"),
    "overhead_limit_pct": ("limit %", "pct"),
    "overhead_verdict": ("verdict", "text"),
    "bare_iqr_pct": ("bare IQR/median %", "pct"),
    "field": ("", "text"),
    "outcome": ("outcome", "text"),
    "count": ("count", "count"),
    "reason": ("reason", "text"),
    "ids": ("benchmarks", "text"),
}


def column_label(column: str) -> str:
    return COLUMNS.get(column, (column, "auto"))[0]


def format_cell(column: str, value) -> str:
    kind = COLUMNS.get(column, (column, "auto"))[1]
    if _is_missing(value):
        return MISSING_AS.get(kind, MISSING)
    if isinstance(value, np.generic):
        value = value.item()
    return FORMATS[kind](value)


LEFT_FORMATS = {"text", "reference", "best", "noisy", "onoff", "yesno"}


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
    columns = [column for column in frame.columns if column not in hide]
    labels = [column_label(column) for column in columns]
    rows = [[format_cell(column, value) for column, value in zip(columns, record)]
            for record in frame[columns].itertuples(index=False, name=None)]
    return columns, labels, rows
