"""The report's tables as DataFrames of raw numbers, one pure function per table.

Every function takes the tidy frame (results.tidy_frame) and returns a DataFrame whose
column names say what and in which unit (formatting.py turns them into labels). Rows keep
the benchmark `id` they come from, so a finding can point at its row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mnist_core.report.formatting import when
from mnist_core.report.inputs import RunInput
from mnist_core.measure.units import BYTES_PER_MIB

DEVICE_ORDER = {"cpu": 0, "cuda": 1}
WIN_MARGIN = 1.10  # a device "wins" when it is at least 10% faster: the noise limit
PIPELINE_FAMILY = {"dataloader": "dataloader", "resident": "resident", "resident-graph": "resident"}


@dataclass(frozen=True)
class Target:
    """A ratio the suite aims for: numerator / denominator samples/s on one device, batch 128 MLP."""

    name: str
    device: str
    numerator: str  # loader of the numerator row
    denominator: str  # "reference" or a loader
    minimum: float


TARGETS = (
    Target("resident-graph vs tutorial reference", "cuda", "resident-graph", "reference", 40.0),
    Target("resident-graph vs eager resident", "cuda", "resident-graph", "resident", 5.0),
    Target("resident vs tutorial reference", "cpu", "resident", "reference", 10.0),
)
PCIE_TARGET_NAME = "pinned 64 MiB host→device copy vs PCIe limit"
PCIE_TARGET_BYTES = 64 * BYTES_PER_MIB
PCIE_TARGET_FRACTION = 0.70


# helpers --------------------------------------------------------------------------------------
def is_true(value) -> bool:
    """True only for a real True: a column may hold True/False/None/NaN."""
    return bool(value) if isinstance(value, (bool, np.bool_)) else False


def flag(series: pd.Series) -> pd.Series:
    """A boolean mask from a column that may hold True/False/None/NaN."""
    return series.map(is_true).astype(bool)


def measured(frame: pd.DataFrame, *kinds: str, metric: str = "samples_per_s") -> pd.DataFrame:
    rows = frame[frame["kind"].isin(kinds)] if kinds else frame
    return rows[pd.to_numeric(rows[metric], errors="coerce").notna()]


def machines(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["machine"]))


def _sorted(frame: pd.DataFrame, rows: list[dict], by: list[str], ascending: list[bool] | None = None) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {name: index for index, name in enumerate(machines(frame))}
    keys = out.assign(_machine=out["machine"].map(order))
    if "device" in out:
        keys["_device"] = out["device"].map(lambda device: DEVICE_ORDER.get(device, 9))
    columns = ["_machine"] + (["_device"] if "device" in out else []) + by
    ascending = [True] * (len(columns) - len(by)) + (ascending or [True] * len(by))
    keys = keys.sort_values(columns, ascending=ascending, kind="stable")
    return out.loc[keys.index].reset_index(drop=True)


def _value(row, key):
    value = row.get(key) if row is not None else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _best(group: pd.DataFrame, metric: str = "samples_per_s"):
    values = pd.to_numeric(group[metric], errors="coerce")
    return group.loc[values.idxmax()] if values.notna().any() else None


def _reference_rows(frame: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    train = measured(frame, "train")
    refs = train[flag(train["reference"])]
    return {(row["machine"], row["device"]): row for _, row in refs.iterrows()}


def _transfer_flag(row, key):
    """pin_memory/non_blocking as shown: None (n/a) where the run collapsed them (the CPU)."""
    collapsed = row.get("collapsed")
    if isinstance(collapsed, (list, tuple)) and key in collapsed:
        return None
    if row.get("device") == "cpu":
        return None
    return _value(row, key)


# headline -------------------------------------------------------------------------------------
def headline_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per machine and device: the tutorial's reference row and the fastest MLP configuration."""
    rows = []
    for (machine, device), group in measured(frame, "train").groupby(["machine", "device"], sort=False):
        reference = group[flag(group["reference"])]
        reference = reference.iloc[0] if not reference.empty else None
        fastest = _best(group[group["model"] == "mlp"])
        reference_value = _value(reference, "samples_per_s")
        fastest_value = _value(fastest, "samples_per_s")
        rows.append({
            "machine": machine, "device": device,
            "reference_id": _value(reference, "id"), "reference_samples_per_s": reference_value,
            "reference_epoch_s": _value(reference, "epoch_s"),
            "fastest_id": _value(fastest, "id"), "fastest_samples_per_s": fastest_value,
            "fastest_epoch_s": _value(fastest, "epoch_s"),
            "speedup_vs_reference": _ratio(fastest_value, reference_value),
        })
    return _sorted(frame, rows, [])


def cpu_vs_gpu_table(headline: pd.DataFrame) -> pd.DataFrame:
    """Per machine: the reference and the fastest MLP setting, CPU next to GPU, and the GPU's speedup."""
    if headline.empty:
        return pd.DataFrame()
    rows = []
    for machine, group in headline.groupby("machine", sort=False):
        cpu = group[group["device"] == "cpu"]
        gpu = group[group["device"] == "cuda"]
        cpu = cpu.iloc[0] if not cpu.empty else None
        gpu = gpu.iloc[0] if not gpu.empty else None
        for configuration, prefix in (("tutorial reference", "reference"), ("fastest MLP", "fastest")):
            cpu_value, gpu_value = _value(cpu, f"{prefix}_samples_per_s"), _value(gpu, f"{prefix}_samples_per_s")
            rows.append({
                "machine": machine, "configuration": configuration,
                "cpu_id": _value(cpu, f"{prefix}_id"), "cpu_samples_per_s": cpu_value,
                "cpu_epoch_s": _value(cpu, f"{prefix}_epoch_s"),
                "gpu_id": _value(gpu, f"{prefix}_id"), "gpu_samples_per_s": gpu_value,
                "gpu_epoch_s": _value(gpu, f"{prefix}_epoch_s"),
                "gpu_speedup": _ratio(gpu_value, cpu_value),
            })
    return pd.DataFrame(rows)


def _target_row(group: pd.DataFrame, loader: str):
    rows = group[(group["model"] == "mlp") & (group["batch_size"] == 128)]
    if loader == "reference":
        rows = rows[flag(rows["reference"])]
    else:
        rows = rows[rows["loader"] == loader]
    return _best(rows)


def targets_table(frame: pd.DataFrame, targets: Iterable[Target] = TARGETS) -> pd.DataFrame:
    """Each target ratio on each machine: measured, promised, and whether it was met."""
    train = measured(frame, "train")
    rows = []
    for machine in machines(frame):
        for target in targets:
            group = train[(train["machine"] == machine) & (train["device"] == target.device)]
            numerator, denominator = _target_row(group, target.numerator), _target_row(group, target.denominator)
            ratio = _ratio(_value(numerator, "samples_per_s"), _value(denominator, "samples_per_s"))
            if ratio is None and group.empty:
                status = f"not measured: no {target.device} training rows"
            elif ratio is None:
                missing = [name for name, row in ((target.numerator, numerator), (target.denominator, denominator))
                           if row is None]
                status = f"not measured (no {target.device} {' or '.join(missing)} row)"
            else:
                status = "met" if ratio >= target.minimum else "below target"
            rows.append({
                "machine": machine, "device": target.device, "ratio": target.name,
                "numerator_id": _value(numerator, "id"), "numerator_samples_per_s": _value(numerator, "samples_per_s"),
                "denominator_id": _value(denominator, "id"),
                "denominator_samples_per_s": _value(denominator, "samples_per_s"),
                "measured_x": ratio, "target_x": target.minimum, "status": status,
            })
        rows.append(_pcie_target(frame, machine))
    return pd.DataFrame(rows)


def _pcie_target(frame: pd.DataFrame, machine: str) -> dict:
    """The best pinned 64 MiB copy as a fraction of the link's theoretical maximum (from NVML)."""
    copies = frame[(frame["machine"] == machine) & (frame["kind"] == "transfer")]
    if not copies.empty:
        copies = copies[flag(copies["pin_memory"]) & (copies["bytes"] == PCIE_TARGET_BYTES)]
    best = _best(copies, "pcie_fraction") if not copies.empty else None
    fraction = _value(best, "pcie_fraction")
    if copies.empty:
        status = "not measured: no pinned 64 MiB copy (CUDA only)"
    elif fraction is None:
        status = "not measured: the PCIe link was not readable through NVML"
    else:
        status = "met" if fraction >= PCIE_TARGET_FRACTION else "below target"
    return {"machine": machine, "device": "cuda", "ratio": PCIE_TARGET_NAME, "numerator_id": _value(best, "id"),
            "numerator_samples_per_s": None, "denominator_id": None, "denominator_samples_per_s": None,
            "measured_x": fraction, "target_x": PCIE_TARGET_FRACTION, "status": status}


# transfer settings ----------------------------------------------------------------------------
def transfer_settings_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Tutorial MLP on the DataLoader: each batch x workers x pin_memory x non_blocking, Δ% vs the reference."""
    train = measured(frame, "train")
    train = train[(train["loader"] == "dataloader") & (train["model"] == "mlp")]
    references = _reference_rows(frame)
    rows = []
    for _, row in train.iterrows():
        reference = references.get((row["machine"], row["device"]))
        reference_value = _value(reference, "samples_per_s")
        value = _value(row, "samples_per_s")
        rows.append({
            "machine": row["machine"], "device": row["device"], "batch_size": _value(row, "batch_size"),
            "num_workers": _value(row, "num_workers"), "pin_memory": _transfer_flag(row, "pin_memory"),
            "non_blocking": _transfer_flag(row, "non_blocking"), "id": row["id"], "samples_per_s": value,
            "delta_vs_reference_pct": (value / reference_value - 1) * 100 if reference_value else None,
            "reference": is_true(row["reference"]),
            "noisy": bool(row["noisy"]),
        })
    out = _sorted(frame, rows, ["batch_size", "num_workers", "pin_memory", "non_blocking"],
                  [True, True, False, False])
    return _mark_best(out, ["machine", "device", "batch_size"])


def pipeline_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The input pipeline alone (no model): samples/s per loader and its settings."""
    rows = []
    for _, row in measured(frame, "loader").iterrows():
        dataloader = row["loader"] == "dataloader"
        rows.append({
            "machine": row["machine"], "device": row["device"], "loader": row["loader"],
            "batch_size": _value(row, "batch_size"),
            "num_workers": _value(row, "num_workers") if dataloader else None,
            "pin_memory": _transfer_flag(row, "pin_memory") if dataloader else None,
            "id": row["id"], "samples_per_s": _value(row, "samples_per_s"), "noisy": bool(row["noisy"]),
        })
    out = _sorted(frame, rows, ["loader", "num_workers"])
    return _mark_best(out, ["machine", "device"])


def _mark_best(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if out.empty:
        return out
    out["best"] = False
    for _, group in out.groupby(keys, sort=False, dropna=False):
        values = pd.to_numeric(group["samples_per_s"], errors="coerce")
        if values.notna().any():
            out.loc[values.idxmax(), "best"] = True
    return out


# crossover ------------------------------------------------------------------------------------
def winner(speedup: float | None) -> str | None:
    if speedup is None:
        return None
    if speedup >= WIN_MARGIN:
        return "GPU"
    if speedup <= 1 / WIN_MARGIN:
        return "CPU"
    return "neither (within 10%)"


def crossover_table(frame: pd.DataFrame) -> pd.DataFrame:
    """GPU speedup over the CPU per model x pipeline x batch size: the best row of each device, same machine.

    Pipelines are compared like with like: the DataLoader with the DataLoader, data resident on the
    device with data resident (the GPU's resident-graph counts as resident; the CPU cannot graph).
    """
    train = measured(frame, "train").copy()
    train["pipeline"] = train["loader"].map(PIPELINE_FAMILY)
    rows = []
    for machine, group in train.groupby("machine", sort=False):
        if set(group["device"]) < {"cpu", "cuda"}:
            continue
        for (model, pipeline, batch_size), cell in group.groupby(["model", "pipeline", "batch_size"]):
            cpu, gpu = _best(cell[cell["device"] == "cpu"]), _best(cell[cell["device"] == "cuda"])
            if cpu is None or gpu is None:
                continue
            speedup = _ratio(_value(gpu, "samples_per_s"), _value(cpu, "samples_per_s"))
            rows.append({
                "machine": machine, "model": model, "pipeline": pipeline, "batch_size": int(batch_size),
                "cpu_id": cpu["id"], "cpu_samples_per_s": _value(cpu, "samples_per_s"),
                "gpu_id": gpu["id"], "gpu_samples_per_s": _value(gpu, "samples_per_s"),
                "gpu_speedup": speedup, "faster": winner(speedup),
            })
    return _sorted(frame, rows, ["model", "pipeline", "batch_size"], [False, True, True])


# host -> device -------------------------------------------------------------------------------
def bandwidth_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Host-to-device copies by size: pinned vs pageable, against the PCIe link's theoretical maximum."""
    rows = []
    for _, row in measured(frame, "transfer", metric="gb_s").iterrows():
        gen, width = _value(row, "pcie_link_gen"), _value(row, "pcie_link_width")
        fraction = _value(row, "pcie_fraction")
        rows.append({
            "machine": row["machine"], "id": row["id"], "bytes": _value(row, "bytes"),
            "pin_memory": _value(row, "pin_memory"), "non_blocking": _value(row, "non_blocking"),
            "gb_s": _value(row, "gb_s"), "us_per_copy": _value(row, "us_per_copy"),
            "pcie_link": f"gen{int(gen)} x{int(width)}" if gen is not None and width is not None else None,
            "pcie_theoretical_gb_s": _value(row, "pcie_theoretical_gb_s"),
            "pcie_pct": fraction * 100 if fraction is not None else None, "noisy": bool(row["noisy"]),
        })
    return _sorted(frame, rows, ["bytes", "pin_memory", "non_blocking"], [True, False, False])


# GPU telemetry, accuracy ----------------------------------------------------------------------
TELEMETRY_COLUMNS = ("gpu_util_mean_pct", "gpu_util_max_pct", "gpu_mem_used_max_mib", "torch_peak_allocated_mib",
                     "gpu_power_mean_w", "gpu_sm_clock_mean_mhz", "pcie_rx_mean_mb_s")


def telemetry_table(frame: pd.DataFrame) -> pd.DataFrame:
    """GPU utilisation, memory and power during each GPU configuration's timed rounds."""
    rows = []
    gpu_rows = measured(frame, "train", "loader")
    for _, row in gpu_rows[gpu_rows["device"] == "cuda"].iterrows():
        rows.append({"machine": row["machine"], "id": row["id"], "samples_per_s": _value(row, "samples_per_s"),
                     **{key: _value(row, key) for key in TELEMETRY_COLUMNS},
                     "reference": is_true(row["reference"])})
    return _sorted(frame, rows, [])


def accuracy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Time-to-accuracy: seconds (and epochs) until the validation accuracy reached the target."""
    rows = []
    for _, row in measured(frame, "accuracy").iterrows():
        target, accuracy = _value(row, "target_accuracy"), _value(row, "val_accuracy")
        rows.append({
            "machine": row["machine"], "device": row["device"], "id": row["id"],
            "target_pct": target * 100 if target is not None else None,
            "reached": _value(row, "reached"), "epochs": _value(row, "epochs"),
            "seconds_to_target": _value(row, "seconds_to_target"), "seconds": _value(row, "seconds"),
            "val_accuracy_pct": accuracy * 100 if accuracy is not None else None,
            "samples_per_s": _value(row, "samples_per_s"),
        })
    return _sorted(frame, rows, [])


# noise ----------------------------------------------------------------------------------------
def noise_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every row's rounds and spread (IQR/median of the per-round numbers); above 10% is flagged."""
    rows = []
    for _, row in frame.iterrows():
        transfer = row["kind"] == "transfer"
        rows.append({
            "machine": row["machine"], "id": row["id"], "rounds": _value(row, "rounds"),
            "median": _value(row, "gb_s" if transfer else "samples_per_s"),
            "unit": "GB/s" if transfer else "samples/s",
            "iqr_pct": _value(row, "iqr_pct"), "noisy": bool(row["noisy"]),
        })
    return _sorted(frame, rows, [])


def overhead_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The suite's own cost: samples/s through the suite vs a bare loop, same process."""
    rows = []
    for _, row in measured(frame, "overhead").iterrows():
        rows.append({
            "machine": row["machine"], "id": row["id"], "samples_per_s": _value(row, "samples_per_s"),
            "bare_samples_per_s": _value(row, "bare_samples_per_s"), "overhead_pct": _value(row, "overhead_pct"),
            "overhead_limit_pct": _value(row, "overhead_limit_pct"), "overhead_verdict": _value(row, "overhead_verdict"),
            "iqr_pct": _value(row, "iqr_pct"), "bare_iqr_pct": _value(row, "bare_iqr_pct"),
        })
    return _sorted(frame, rows, [])


# several machines -----------------------------------------------------------------------------
def side_by_side_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark id, one column per machine: samples/s (GB/s for copies). Empty for one machine."""
    names = machines(frame)
    if len(names) < 2:
        return pd.DataFrame()
    rows: dict[str, dict] = {}
    for _, row in frame.iterrows():
        transfer = row["kind"] == "transfer"
        entry = rows.setdefault(row["id"], {"id": row["id"], "unit": "GB/s" if transfer else "samples/s"})
        entry[row["machine"]] = _value(row, "gb_s" if transfer else "samples_per_s")
    out = pd.DataFrame(list(rows.values()))
    for name in names:
        if name not in out:
            out[name] = None
    values = out[names].apply(pd.to_numeric, errors="coerce")
    out["fastest"] = [_fastest(row) for _, row in values.iterrows()]
    return out[["id", "unit", *names, "fastest"]]


def _fastest(values: pd.Series) -> str | None:
    values = values.dropna()
    if len(values) < 2:
        return None
    return values.idxmax() if (values == values.max()).sum() == 1 else "tie"


# environment and outcomes (from the run files, not the rows) ----------------------------------
def _gpu_text(info: dict) -> str:
    if not info.get("gpu_name"):
        return "none (no CUDA GPU visible to torch)"
    memory = info.get("gpu_memory_mib")
    count = info.get("gpu_count")
    text = info["gpu_name"] + (f", {memory:,.0f} MiB" if isinstance(memory, (int, float)) else "")
    return text + (f" ({count} visible)" if isinstance(count, int) and count > 1 else "")


def _pcie_text(info: dict) -> str | None:
    gen, width, limit = info.get("pcie_link_gen"), info.get("pcie_link_width"), info.get("pcie_theoretical_gb_s")
    if gen is None or width is None:
        return None
    return f"gen{gen} x{width}" + (f", {limit:.1f} GB/s per direction theoretical" if limit else "")


def environment_table(runs: list[RunInput]) -> pd.DataFrame:
    """The machine, software, dataset and run each column of numbers comes from."""
    fields = {}
    for run in runs:
        info, section = run.machine_info, run.section
        dataset = section.get("dataset") or {}
        failed, skipped = section.get("failed") or [], section.get("skipped") or []
        measured_count = sum(1 for bench in run.data["benchmarks"] if (bench.get("extra_info") or {}).get("kind"))
        cores = info.get("cpu_cores_available")
        fields[run.label] = {
            "GPU": _gpu_text(info),
            "GPU driver": info.get("gpu_driver"),
            "CUDA": (f"torch built for CUDA {info.get('cuda_version') or 'none'}"
                     + (f", driver supports CUDA {info['gpu_cuda_driver']}" if info.get("gpu_cuda_driver") else "")),
            "PCIe link": _pcie_text(info),
            "torch": info.get("torch_version"),
            "torchvision": info.get("torchvision_version"),
            "Python": info.get("python_version"),
            "CPU": info.get("cpu_model"),
            "cores": (f"{cores} of {info.get('cpu_cores')} available" if cores is not None else info.get("cpu_cores")),
            "torch threads": info.get("torch_threads"),
            "platform": info.get("platform"),
            "dataset": (f"{dataset.get('name')} (train {dataset.get('train_size'):,}, test {dataset.get('test_size'):,})"
                        if dataset.get("train_size") else dataset.get("name")),
            "dataset from": (f"{dataset.get('path')} ({dataset.get('source')}"
                             f"{', downloaded in this run' if dataset.get('downloaded') else ''})"
                             if dataset.get("path") else None),
            "profile": section.get("profile"),
            "date": when(section.get("started_at") or run.data.get("datetime")),
            "run file": str(run.path),
            "status": "complete" if run.complete else
                      ("PARTIAL (interrupted)" if section.get("interrupted") else "PARTIAL (unfinished)"),
            "benchmarks": f"{measured_count} measured, {len(skipped)} skipped, {len(failed)} failed",
        }
    out = pd.DataFrame(fields)
    out.index.name = "field"
    return out.reset_index()


def outcome_table(runs: list[RunInput]) -> pd.DataFrame:
    """Skips grouped by reason, then each failure: what the run could not measure and why."""
    rows = []
    for run in runs:
        section = run.section
        by_reason: dict[str, list[str]] = {}
        for item in section.get("skipped") or []:
            by_reason.setdefault(str(item.get("reason")), []).append(str(item.get("id")))
        for reason, ids in by_reason.items():
            rows.append({"machine": run.label, "outcome": "skipped", "count": len(ids), "reason": reason,
                         "ids": ", ".join(ids)})
        for item in section.get("failed") or []:
            rows.append({"machine": run.label, "outcome": "failed", "count": 1, "reason": str(item.get("reason")),
                         "ids": str(item.get("id"))})
    return pd.DataFrame(rows, columns=["machine", "outcome", "count", "reason", "ids"])


def frame_tables(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table computed from the rows alone (the notebook API: `report_tables`)."""
    headline = headline_table(frame)
    return {
        "headline": headline,
        "cpu_vs_gpu": cpu_vs_gpu_table(headline),
        "targets": targets_table(frame),
        "transfer_settings": transfer_settings_table(frame),
        "pipeline": pipeline_table(frame),
        "crossover": crossover_table(frame),
        "bandwidth": bandwidth_table(frame),
        "telemetry": telemetry_table(frame),
        "accuracy": accuracy_table(frame),
        "noise": noise_table(frame),
        "overhead": overhead_table(frame),
        "side_by_side": side_by_side_table(frame),
    }

