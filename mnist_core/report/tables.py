"""The report's tables as DataFrames of raw numbers, one pure function per table.

Every function takes the report's runs and returns a DataFrame whose column names say what and in which
unit (formatting.py turns them into labels). A column that claims a difference carries its 95% interval
and its verdict from the comparison engine in companion columns (`<column>_low/_high/_verdict`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from mnist_core.core.pipelines import RESIDENT, RESIDENT_COMPILED, RESIDENT_GRAPH
from mnist_core.units import BYTES_PER_MIB
from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, Effect, Verdict, compare, unpaired
from mnist_core.report.analysis import (DEVICE_NAME, adjusted_rate, copy_rows, crossover, device_answer, gpu_vs_cpu,
                                        judge, setting_grid, setting_label, settings_words, train_rows, tutorial_row,
                                        vs_tutorial)
from mnist_core.report.formatting import when
from mnist_core.report.inputs import RunInput
from mnist_core.runs.frame import epoch_samples
from mnist_core.runs.rows import AccuracyRow, ThroughputRow
from mnist_core.runs.sections import MachineInfo

TABLES = ("cpu_vs_gpu", "settings", "pipelines", "launch", "loader", "bandwidth", "telemetry", "accuracy", "noise", "drift",
          "suite_checks", "not_measured", "unusable", "side_by_side", "crossover")


@dataclass(frozen=True)
class Target:
    """A ratio the suite is designed to reach on an H100-class GPU or a 2-core CPU machine (docs/evidence.md,
    runs in docs/evidence/): a check of the suite itself (is its fast path as fast as it
    should be), not a grade of the user's machine."""

    name: str
    device: str
    numerator: str  # loader of the numerator row
    denominator: str  # "tutorial" or a loader
    minimum: float


TARGETS = (
    Target("resident-graph vs the tutorial's setting", "cuda", RESIDENT_GRAPH.name, "tutorial", 40.0),
    Target("resident-graph vs eager resident", "cuda", RESIDENT_GRAPH.name, RESIDENT.name, 5.0),
    Target("resident-compiled vs resident-graph", "cuda", RESIDENT_COMPILED.name, RESIDENT_GRAPH.name, 2.3),
    Target("resident vs the tutorial's setting", "cpu", RESIDENT.name, "tutorial", 10.0),
)
# An absolute target on an H100/H200-class GPU: the compiled path at batch 128, as a multiple of 3.1M samples/s.
COMPILED_TARGET_SAMPLES_PER_S = 3.1e6
PCIE_TARGET_BYTES = 64 * BYTES_PER_MIB
PCIE_TARGET_FRACTION = 0.70


def _interval(prefix: str, effect: Effect, verdict: Verdict | None = None, *, pct: bool = False) -> dict:
    """The effect, its interval and verdict; `_why` says why a verdict departs from the interval's reading (too
    few rounds for a 95% interval: inconclusive wherever the interval lies)."""
    scale = (lambda value: (value - 1) * 100) if pct else (lambda value: value)
    why = f"too few rounds ({effect.pairs})" if verdict is not None and not effect.reliable else None
    return {prefix: scale(effect.ratio), f"{prefix}_low": scale(effect.low), f"{prefix}_high": scale(effect.high),
            f"{prefix}_verdict": verdict.label if verdict is not None else None, f"{prefix}_why": why}


def _rate(prefix: str, row) -> dict:
    interval = row.measurement.interval
    return {prefix: interval.estimate, f"{prefix}_low": interval.low, f"{prefix}_high": interval.high}


def _epoch(run: RunInput, samples_per_s: float | None) -> float | None:
    samples = epoch_samples(run.run)
    return samples / samples_per_s if samples and samples_per_s else None


# GPU vs CPU ------------------------------------------------------------------------------------------
def cpu_vs_gpu_table(runs: list[RunInput]) -> pd.DataFrame:
    rows = []
    for run in runs:
        for item in gpu_vs_cpu(run.run):
            gpu_rate, cpu_rate = item.rates or (item.gpu.measurement.median, item.cpu.measurement.median)
            rows.append({"machine": run.label, "what": item.what,
                         "cpu_setting": setting_label(item.cpu.config, with_batch=True),
                         "cpu_adjusted_samples_per_s": cpu_rate, "cpu_epoch_s": _epoch(run, cpu_rate),
                         "gpu_setting": setting_label(item.gpu.config, with_batch=True),
                         "gpu_adjusted_samples_per_s": gpu_rate, "gpu_epoch_s": _epoch(run, gpu_rate),
                         **_interval("gpu_vs_cpu", item.verdict.effect, item.verdict)})
    return pd.DataFrame(rows)


# DataLoader settings ---------------------------------------------------------------------------------
def settings_table(runs: list[RunInput]) -> pd.DataFrame:
    """Every DataLoader setting of the tutorial MLP at each batch size: Δ vs the tutorial's setting (long form;
    the report shows it pivoted, batch size across)."""
    rows = []
    for run in runs:
        for device in ("cpu", "cuda"):
            tutorial = tutorial_row(run.run, device)
            if tutorial is None:
                continue
            answer = device_answer(run.run, device)
            best = answer.best_setting.row if answer.best_setting else None
            rows.append({"machine": run.label, "device": DEVICE_NAME[device],
                         "setting": ", ".join(settings_words(tutorial.config)),
                         "batch_size": tutorial.config.batch_size, **_rate("samples_per_s", tutorial),
                         "adjusted_samples_per_s": adjusted_rate(run.run, tutorial),
                         "delta_pct": 0.0, "delta_pct_low": None, "delta_pct_high": None, "delta_pct_verdict": None,
                         "reference": True, "best": best is tutorial})
            for judged in setting_grid(run.run, device):
                row = judged.row
                rows.append({"machine": run.label, "device": DEVICE_NAME[device],
                             "setting": ", ".join(settings_words(row.config)),
                             "batch_size": row.config.batch_size, **_rate("samples_per_s", row),
                             "adjusted_samples_per_s": adjusted_rate(run.run, row),
                             **_interval("delta_pct", judged.effect, judged.verdict, pct=True),
                             "reference": False, "best": row is best})
    return pd.DataFrame(rows)


# pipelines and batch sizes -----------------------------------------------------------------------------
def _throughput_rows(runs: list[RunInput], kind: str) -> pd.DataFrame:
    rows = []
    for run in runs:
        for row in run.run.rows:
            if not isinstance(row, ThroughputRow) or row.kind != kind:
                continue
            tutorial = tutorial_row(run.run, row.config.device)
            verdict = vs_tutorial(run.run, row)
            rows.append({"machine": run.label, "device": DEVICE_NAME.get(row.config.device, row.config.device),
                         "model": row.config.model.upper(), "setting": setting_label(row.config),
                         "batch_size": row.config.batch_size, **_rate("samples_per_s", row),
                         "epoch_s": _epoch(run, row.measurement.median) if kind == "train" else None,
                         "adjusted_samples_per_s": adjusted_rate(run.run, row),
                         **(_interval("vs_tutorial", verdict.effect, verdict) if verdict else
                            {"vs_tutorial": 1.0 if row is tutorial else None}),
                         "tutorial": row is tutorial, "id": row.id, "loader": row.config.loader})
    out = pd.DataFrame(rows)
    if kind != "train" and not out.empty:
        out = out.drop(columns=["epoch_s"])
    return out


def crossover_table(runs: list[RunInput]) -> pd.DataFrame:
    """GPU ÷ CPU samples/s per pipeline family and batch size (each device's best MLP row of the family), with
    the interval and verdict: where the GPU starts to pay. Empty unless a run has both devices."""
    rows = [{"machine": run.label, "pipeline": family, "batch_size": batch,
             **_interval("gpu_vs_cpu", judged.effect, judged.verdict), "loader": judged.row.config.loader}
            for run in runs for family, cells in crossover(run.run).items() for batch, judged in cells]
    return pd.DataFrame(rows)


def pipelines_table(runs: list[RunInput]) -> pd.DataFrame:
    return _throughput_rows(runs, "train")


def launch_table(runs: list[RunInput]) -> pd.DataFrame:
    """The captured GPU pipelines against the launch floor: µs per step, kernels per step, their floor."""
    rows = []
    for run in runs:
        for row in train_rows(run.run, "cuda"):
            if row.kernels_per_step is not None:
                rows.append({"machine": run.label, "setting": setting_label(row.config, with_batch=True),
                             "samples_per_s": row.measurement.median, "us_per_step": row.us_per_step,
                             "kernels_per_step": row.kernels_per_step, "replayed_kernel_us": row.replayed_kernel_us,
                             "launch_floor_us": row.launch_floor_us, "id": row.id})
    return pd.DataFrame(rows)


def loader_table(runs: list[RunInput]) -> pd.DataFrame:
    return _throughput_rows(runs, "loader")


# host -> device --------------------------------------------------------------------------------------
def bandwidth_table(runs: list[RunInput]) -> pd.DataFrame:
    rows = []
    for run in runs:
        for row in copy_rows(run.run):
            fraction = row.pcie_fraction
            rows.append({"machine": run.label, "bytes": row.bytes,
                         "copy": f"{'pinned' if row.pin_memory else 'pageable'}, "
                                 f"{'non_blocking' if row.non_blocking else 'blocking'}",
                         **_rate("gb_s", row), "us_per_copy": row.us_per_copy,
                         "pcie_pct": fraction * 100 if fraction is not None else None,
                         "pin_memory": row.pin_memory, "non_blocking": row.non_blocking,
                         "pcie_theoretical_gb_s": row.pcie_theoretical_gb_s, "id": row.id})
    out = pd.DataFrame(rows)
    return out.sort_values(["machine", "bytes", "pin_memory", "non_blocking"], ascending=[True, True, False, False],
                           kind="stable").reset_index(drop=True) if not out.empty else out


# GPU telemetry, accuracy --------------------------------------------------------------------------------
TELEMETRY_COLUMNS = ("gpu_util_mean_pct", "gpu_mem_used_max_mib", "torch_peak_allocated_mib", "gpu_power_mean_w",
                     "gpu_sm_clock_mean_mhz", "pcie_rx_mean_mb_s")


def _each_row(runs: list[RunInput], keep):
    """(run, row) for every row of the runs that `keep(row)` accepts, in run order."""
    return ((run, row) for run in runs for row in run.run.rows if keep(row))


def telemetry_table(runs: list[RunInput]) -> pd.DataFrame:
    gpu_rows = _each_row(runs, lambda row: isinstance(row, ThroughputRow) and row.kind in ("train", "loader")
                         and row.config.device == "cuda")
    return pd.DataFrame([{"machine": run.label, "setting": setting_label(row.config, with_batch=True),
                          "samples_per_s": row.measurement.median,
                          **{key: getattr(row.telemetry, key) for key in TELEMETRY_COLUMNS}, "id": row.id}
                         for run, row in gpu_rows])


def accuracy_table(runs: list[RunInput]) -> pd.DataFrame:
    return pd.DataFrame([{"machine": run.label, "device": DEVICE_NAME.get(row.config.device),
                          "setting": setting_label(row.config, with_batch=True),
                          "target_pct": row.target_accuracy * 100, "reached": row.reached, "epochs": row.epochs,
                          "seconds_to_target": row.seconds_to_target, "seconds": row.seconds,
                          "val_accuracy_pct": row.val_accuracy * 100, "id": row.id}
                         for run, row in _each_row(runs, lambda row: isinstance(row, AccuracyRow))])


# noise and drift ------------------------------------------------------------------------------------------
def noise_table(runs: list[RunInput]) -> pd.DataFrame:
    return pd.DataFrame([{"machine": run.label, "id": row.id, "rounds": row.measurement.rounds,
                          "median": row.measurement.median, "unit": row.measurement.unit,
                          "ci_half_pct": row.measurement.half_width_pct, "iqr_pct": row.measurement.iqr_pct,
                          "noisy": row.measurement.noisy, "paired_with": row.measurement.yardstick or "-",
                          "stop_reason": row.measurement.stop_reason or "fixed rounds (format 1)"}
                         for run, row in _each_row(runs, lambda row: not isinstance(row, AccuracyRow))])


def drift_table(runs: list[RunInput]) -> pd.DataFrame:
    """Per device: how far the yardstick (the tutorial's setting, paired with every row) strayed over the run."""
    rows = [{"machine": run.label, "id": drift.yardstick, "rounds": drift.rows, "median": drift.median,
             "spread_pct": drift.spread_pct} for run in runs for drift in run.run.drift().values()]
    return pd.DataFrame(rows)


# the suite's own checks -------------------------------------------------------------------------------------
def _target_row(rows: list[ThroughputRow], loader: str) -> ThroughputRow | None:
    rows = [row for row in rows if row.config.model == "mlp" and row.config.batch_size == 128]
    rows = [row for row in rows if row.reference] if loader == "tutorial" else \
        [row for row in rows if row.config.loader == loader]
    return max(rows, key=lambda row: row.measurement.median) if rows else None


def suite_checks_table(runs: list[RunInput]) -> pd.DataFrame:
    """The suite's design targets, for the devices the run measured, and its own overhead vs a bare loop."""
    rows = []
    for run in runs:
        present = {row.config.device for row in train_rows(run.run)}
        for target in TARGETS:
            if target.device not in present:
                continue
            device_rows = train_rows(run.run, target.device)
            numerator, denominator = _target_row(device_rows, target.numerator), _target_row(device_rows, target.denominator)
            if numerator is None or denominator is None:
                continue
            ratio = judge(run.run, numerator, denominator).effect.ratio  # as the throughput table's ratios
            rows.append({"machine": run.label, "check": f"{target.name} ({DEVICE_NAME[target.device]})",
                         "measured_x": ratio, "target_x": target.minimum,
                         "status": "reached" if ratio >= target.minimum else "not reached on this machine"})
        compiled = _target_row(train_rows(run.run, "cuda"), RESIDENT_COMPILED.name)
        if compiled is not None:
            rows.append({"machine": run.label, "check": "resident-compiled at batch 128 vs 3.1M samples/s (GPU; "
                                                        "H100/H200-class)",
                         "measured_x": compiled.measurement.median / COMPILED_TARGET_SAMPLES_PER_S, "target_x": 1.0,
                         "status": "reached" if compiled.measurement.median >= COMPILED_TARGET_SAMPLES_PER_S else
                                   "not reached on this machine"})
        pinned = [row for row in copy_rows(run.run) if row.pin_memory and row.bytes == PCIE_TARGET_BYTES]
        best = max(pinned, key=lambda row: row.measurement.median) if pinned else None
        if best is not None and best.pcie_fraction is not None:
            rows.append({"machine": run.label, "check": "pinned 64 MiB host→device copy vs the PCIe limit",
                         "measured_x": best.pcie_fraction, "target_x": PCIE_TARGET_FRACTION,
                         "status": "reached" if best.pcie_fraction >= PCIE_TARGET_FRACTION else
                                   "not reached on this machine"})
        for row in run.run.rows:
            verdict = row.overhead() if isinstance(row, ThroughputRow) else None
            if verdict is not None:
                rows.append({"machine": run.label, "check": f"suite overhead on {setting_label(row.config)} "
                                                            f"({DEVICE_NAME[row.config.device]})",
                             **_interval("suite_vs_bare", verdict.effect, verdict, pct=True),
                             "status": {"slower": "over its 3% limit", "same": "within its 3% limit",
                                        "faster": "faster than the bare loop"}.get(verdict.label,
                                                                                   "too noisy to judge")})
    return pd.DataFrame(rows)


# what the run did not measure -------------------------------------------------------------------------------
def not_measured_table(runs: list[RunInput]) -> pd.DataFrame:
    """Skips counted by reason (their ids folded away in the report), then each failure with its reason."""
    rows = []
    for run in runs:
        skipped = run.session.skipped
        counts = Counter(str(item.reason) for item in skipped)
        for reason, count in counts.most_common():
            ids = [str(item.id) for item in skipped if str(item.reason) == reason]
            rows.append({"machine": run.label, "outcome": "skipped", "count": count, "reason": reason,
                         "ids": ", ".join(ids)})
        for item in run.session.failed:
            rows.append({"machine": run.label, "outcome": "failed", "count": 1, "reason": str(item.reason),
                         "ids": str(item.id)})
    return pd.DataFrame(rows, columns=["machine", "outcome", "count", "reason", "ids"])


def unusable_table(runs: list[RunInput]) -> pd.DataFrame:
    rows = [{"machine": run.label, "id": item.id, "reason": item.reason} for run in runs for item in run.run.unusable]
    return pd.DataFrame(rows, columns=["machine", "id", "reason"])


# several machines ---------------------------------------------------------------------------------------------
def side_by_side_table(runs: list[RunInput]) -> pd.DataFrame:
    """Every benchmark measured on more than one machine, one row per machine, adjacent: its median with the 95%
    interval, and its ratio to the first machine's (independent sessions: an unpaired interval of the two
    machines' rounds). Empty for one machine."""
    if len(runs) < 2:
        return pd.DataFrame()
    measured: dict[str, dict[str, object]] = {}
    for run in runs:
        for row in run.run.rows:
            if not isinstance(row, AccuracyRow):
                measured.setdefault(row.id, {})[run.label] = row.measurement
    first = runs[0].label
    rows = []
    for bench_id, by_machine in measured.items():
        if len(by_machine) < 2:
            continue
        for run in runs:
            measurement = by_machine.get(run.label)
            if measurement is None:
                continue
            interval = measurement.interval
            vs_first = ({"vs_first_machine": 1.0} if run.label == first or first not in by_machine else
                        _interval("vs_first_machine", *_judged(measurement, by_machine[first])))
            rows.append({"id": bench_id, "machine": run.label, "unit": measurement.unit,
                         "machine_median": interval.estimate, "machine_median_low": interval.low,
                         "machine_median_high": interval.high, **vs_first})
    return pd.DataFrame(rows)


def _judged(measurement, first) -> tuple[Effect, Verdict]:
    verdict = compare(unpaired(measurement.rates, first.rates), SETTINGS_THRESHOLD_PCT)
    return verdict.effect, verdict


# environment (from the run files, not the rows) ---------------------------------------------------------------
def _gpu_text(machine: MachineInfo) -> str:
    if not machine.gpu_name:
        return "none (no CUDA GPU visible to torch)"
    memory, count = machine.gpu_memory_mib, machine.gpu_count
    text = machine.gpu_name + (f", {memory:,.0f} MiB" if isinstance(memory, (int, float)) else "")
    return text + (f" ({count} visible)" if isinstance(count, int) and count > 1 else "")


def _pcie_text(machine: MachineInfo) -> str | None:
    gen, width, limit = machine.pcie_link_gen, machine.pcie_link_width, machine.pcie_theoretical_gb_s
    if gen is None or width is None:
        return None
    return f"gen{gen} x{width}" + (f", {limit:.1f} GB/s per direction theoretical" if limit else "")


def environment_table(runs: list[RunInput]) -> pd.DataFrame:
    """The machine, software, dataset and run each column of numbers comes from."""
    fields = {}
    for run in runs:
        machine, session, dataset = run.machine, run.session, run.session.dataset
        cores = machine.cpu_cores_available
        fields[run.label] = {
            "GPU": _gpu_text(machine),
            **({"GPU driver": machine.gpu_driver,
                "CUDA": f"torch built for CUDA {machine.cuda_version or 'none'}"
                        + (f", driver supports CUDA {machine.gpu_cuda_driver}" if machine.gpu_cuda_driver else ""),
                "PCIe link": _pcie_text(machine)} if machine.gpu_name else {}),
            "torch": machine.torch_version,
            "torchvision": machine.torchvision_version,
            "Python": machine.python_version,
            "CPU": machine.cpu_model,
            "cores": f"{cores} of {machine.cpu_cores} available" if cores is not None else machine.cpu_cores,
            "torch threads": machine.torch_threads,
            "platform": machine.platform,
            "dataset": (f"{dataset.name} (train {dataset.train_size:,}, test {dataset.test_size:,})"
                        if dataset.train_size else dataset.name),
            "dataset from": dataset.path or dataset.source,
            "why this dataset": dataset.reason or None,
            "profile": session.profile,
            "date": when(run.started),
            "session wall time": f"{session.wall_s:.0f} s" if session.wall_s else None,
            "run file": str(run.path),
            "status": str(run.status),
            "benchmarks": f"{len(run.run.rows)} measured, {len(session.skipped)} skipped, {len(session.failed)} failed"
                          + (f", {len(run.run.unusable)} unusable" if run.run.unusable else ""),
        }
    out = pd.DataFrame(fields)
    out.index.name = "field"
    return out.dropna(how="all").reset_index()


def report_tables(runs: list[RunInput]) -> dict[str, pd.DataFrame]:
    """Every table, keyed as in TABLES (the notebook API: `mnist_core.report.report_tables`)."""
    return {
        "cpu_vs_gpu": cpu_vs_gpu_table(runs),
        "settings": settings_table(runs),
        "pipelines": pipelines_table(runs),
        "launch": launch_table(runs),
        "loader": loader_table(runs),
        "bandwidth": bandwidth_table(runs),
        "telemetry": telemetry_table(runs),
        "accuracy": accuracy_table(runs),
        "noise": noise_table(runs),
        "drift": drift_table(runs),
        "suite_checks": suite_checks_table(runs),
        "not_measured": not_measured_table(runs),
        "unusable": unusable_table(runs),
        "side_by_side": side_by_side_table(runs),
        "crossover": crossover_table(runs),
    }
