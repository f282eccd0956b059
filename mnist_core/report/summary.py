"""The end-of-session summary: CPU vs GPU samples/s per model/loader/batch size, as a rich table."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from mnist_core.runs.frame import run_frame
from mnist_core.runs.runfile import SECTION

ROW_KEY = ["kind", "model", "loader", "batch_size", "num_workers"]


def comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model/loader/batch size/workers: CPU samples/s, best GPU samples/s, speedup, GPU util and memory.

    The tutorial's group gets its reference row (the GPU at its own pin_memory/non_blocking setting)
    and, when another setting of the same group is faster on the GPU, a second row for that one.
    """
    rows = frame[frame["kind"].isin(["train", "loader"]) & frame["samples_per_s"].notna()]
    if rows.empty:
        return pd.DataFrame()
    out = []
    for key, group in rows.groupby(ROW_KEY, sort=True, dropna=False):
        cpu = group[group["device"] == "cpu"]
        gpu = group[group["device"] == "cuda"]
        cpu_value = cpu["samples_per_s"].max() if not cpu.empty else None
        best_gpu = gpu.loc[gpu["samples_per_s"].idxmax()] if not gpu.empty else None
        is_reference = group["reference"].map(lambda value: value is True)
        if is_reference.any():
            reference_gpu = gpu[is_reference[gpu.index]]
            shown = reference_gpu.iloc[0] if not reference_gpu.empty else None
            out.append(_comparison_row(key, cpu_value, shown, reference=True))
            if best_gpu is not None and (shown is None or best_gpu.name != shown.name):
                out.append(_comparison_row(key, cpu_value, best_gpu, reference=False))
        else:
            out.append(_comparison_row(key, cpu_value, best_gpu, reference=False))
    return pd.DataFrame(out)


def _comparison_row(key: tuple, cpu_value, gpu_row, reference: bool) -> dict:
    gpu_value = gpu_row["samples_per_s"] if gpu_row is not None else None
    return {
        **dict(zip(ROW_KEY, key)),
        "reference": reference,
        "cpu_samples_per_s": cpu_value,
        "gpu_samples_per_s": gpu_value,
        "gpu_speedup": gpu_value / cpu_value if cpu_value and gpu_value else None,
        "gpu_setting": _setting(gpu_row) if gpu_row is not None else None,
        "gpu_util_mean_pct": gpu_row["gpu_util_mean_pct"] if gpu_row is not None else None,
        "torch_peak_allocated_mib": gpu_row["torch_peak_allocated_mib"] if gpu_row is not None else None,
    }


def _setting(row) -> str:
    if row["loader"] != "dataloader":
        return "-"
    return f"{'pin' if row['pin_memory'] else 'nopin'}+{'nb' if row['non_blocking'] else 'blk'}"


def _num(value, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _count(value) -> str:
    """Batch sizes and worker counts as integers: a column with a gap (a 64 MiB copy has no batch) is float."""
    return "-" if value is None or pd.isna(value) else str(int(value))


def summary_table(run: dict) -> Table:
    table = Table(title="mnist-bench: CPU vs GPU (samples/s, median over rounds)")
    for column in ("bench", "model", "loader", "batch", "workers", "CPU samples/s", "GPU samples/s",
                   "GPU speedup", "GPU setting", "GPU util %", "GPU peak MiB"):
        table.add_column(column, justify="right" if column[0].isupper() or column in ("batch", "workers") else "left")
    frame = run_frame(run)
    if frame.empty or "kind" not in frame:
        return table
    for row in comparison(frame).to_dict("records"):
        workers = _count(row["num_workers"]) if row["loader"] == "dataloader" else "-"
        style = "bold" if row["reference"] else None
        table.add_row(
            row["kind"], row["model"], row["loader"] + (" (reference)" if row["reference"] else ""),
            _count(row["batch_size"]), workers, _num(row["cpu_samples_per_s"]), _num(row["gpu_samples_per_s"]),
            _num(row["gpu_speedup"], 1, "x"), row["gpu_setting"] or "-", _num(row["gpu_util_mean_pct"], 0),
            _num(row["torch_peak_allocated_mib"], 0), style=style,
        )
    return table


def outcome_lines(run: dict) -> list[str]:
    """Skips grouped by reason (every id listed), then each failure with its reason."""
    section = run.get(SECTION, {})
    by_reason: dict[str, list[str]] = {}
    for item in section.get("skipped", []):
        by_reason.setdefault(item["reason"], []).append(item["id"])
    lines = [f"skipped {len(ids)}: {reason}: {', '.join(ids)}" for reason, ids in by_reason.items()]
    lines += [f"FAILED {item['id']}: {item['reason']}" for item in section.get("failed", [])]
    return lines
