"""Plain-language findings derived from the report's tables; each names the table row it comes from.

Pure functions: tables in, `Finding`s out. Thresholds are named constants so a reader of a
finding can tell what "no clear difference" means.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mnist_core.report.formatting import rate, seconds, signed_pct, size, times
from mnist_core.report.model import Finding
from mnist_core.report.results import NOISE_LIMIT_PCT
from mnist_core.report.tables import WIN_MARGIN, flag, winner

EFFECT_MIN_PCT = 3.0  # a setting's effect below this reads as "no clear difference"
BUSY_GPU_PCT = 50.0  # mean utilisation below this: the GPU mostly waits
REFERENCE_BATCH = 128
DEVICE_NAME = {"cpu": "CPU", "cuda": "GPU"}


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


class _Rows:
    """Builds Finding rows, prefixing the machine only when the report covers several."""

    def __init__(self, several: bool):
        self.several = several

    def __call__(self, text: str, section: str, table: str, machine: str, row: str) -> Finding:
        if self.several:
            text = f"{machine}: {text}"
            row = f"{machine}: {row}"
        return Finding(text=text, section=section, table=table, row=row)


def effect_phrase(delta_pct: float, what: str = "samples/s") -> str:
    if abs(delta_pct) < EFFECT_MIN_PCT:
        return f"made no clear difference to {what} ({signed_pct(delta_pct)})"
    return f"{'raised' if delta_pct > 0 else 'lowered'} {what} by {abs(delta_pct):.0f}%"


def _noisy_note(*rows) -> str:
    return f" (a row above {NOISE_LIMIT_PCT:.0f}% spread: see Noise)" if any(bool(row.get("noisy")) for row in rows) else ""


# headline -------------------------------------------------------------------------------------
def reference_findings(cpu_vs_gpu: pd.DataFrame, headline: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    for _, line in cpu_vs_gpu.iterrows():
        machine = line["machine"]
        cpu, gpu = line["cpu_samples_per_s"], line["gpu_samples_per_s"]
        if line["configuration"] == "tutorial reference":
            if _present(cpu) and _present(gpu):
                speedup = line["gpu_speedup"]
                verdict = winner(speedup)
                numbers = (f"{rate(gpu)} vs {rate(cpu)} samples/s, {times(speedup)}; one epoch "
                           f"{seconds(line['gpu_epoch_s'])} s vs {seconds(line['cpu_epoch_s'])} s")
                if verdict == "GPU":
                    text = f"With the tutorial's setting the GPU trains {times(speedup)} as fast as the CPU ({numbers})."
                elif verdict == "CPU":
                    text = f"At batch {REFERENCE_BATCH} the tutorial MLP is slower on the GPU than on the CPU ({numbers})."
                else:
                    text = f"At batch {REFERENCE_BATCH} the tutorial MLP is no faster on the GPU than on the CPU ({numbers})."
                out.append(row(text, "headline", "cpu_vs_gpu", machine, "tutorial reference"))
            elif _present(cpu) or _present(gpu):
                device = "CPU" if _present(cpu) else "GPU"
                value, epoch = (cpu, line["cpu_epoch_s"]) if _present(cpu) else (gpu, line["gpu_epoch_s"])
                ident = line["cpu_id"] if _present(cpu) else line["gpu_id"]
                other = "GPU" if device == "CPU" else "CPU"
                out.append(row(f"The tutorial's setting trains at {rate(value)} samples/s on the {device} "
                               f"({seconds(epoch)} s per epoch); this run has no {other} rows to compare with.",
                               "headline", "headline", machine, ident))
        elif _present(cpu) and _present(gpu):
            out.append(row(f"Fastest against fastest, the GPU trains the MLP {times(line['gpu_speedup'])} as fast as "
                           f"the CPU ({rate(gpu)} samples/s with {line['gpu_id']} vs {rate(cpu)} with {line['cpu_id']}).",
                           "headline", "cpu_vs_gpu", machine, "fastest MLP"))
    for _, line in headline.iterrows():
        device = DEVICE_NAME.get(line["device"], line["device"])
        if not _present(line["fastest_id"]):
            continue
        if line["fastest_id"] == line["reference_id"]:
            text = f"On the {device} the tutorial's setting is already the fastest MLP configuration measured."
        elif _present(line["speedup_vs_reference"]):
            text = (f"On the {device} the fastest MLP configuration is {line['fastest_id']} at "
                    f"{rate(line['fastest_samples_per_s'])} samples/s, {times(line['speedup_vs_reference'])} the "
                    f"tutorial's setting ({rate(line['reference_samples_per_s'])} samples/s).")
        else:
            text = (f"On the {device} the fastest MLP configuration is {line['fastest_id']} at "
                    f"{rate(line['fastest_samples_per_s'])} samples/s (no reference row to compare with).")
        out.append(row(text, "headline", "headline", line["machine"], line["fastest_id"]))
    return out


def target_findings(targets: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    for _, line in targets.iterrows():
        if not _present(line["measured_x"]):
            continue
        met = "met" if line["status"] == "met" else "below the target"
        out.append(row(f"{line['ratio']} on the {DEVICE_NAME.get(line['device'], line['device'])}: "
                       f"{times(line['measured_x'])} (target at least {times(line['target_x'])}): {met}.",
                       "headline", "targets", line["machine"], line["ratio"]))
    return out


# transfer settings ----------------------------------------------------------------------------
def _one(rows: pd.DataFrame, **equals):
    for key, value in equals.items():
        rows = rows[rows[key].map(lambda cell, value=value: cell == value if _present(cell) else value is None)]
    return rows.iloc[0] if len(rows) == 1 else None


@dataclass(frozen=True)
class _Effect:
    """One comparison of two rows that differ in one setting, at one batch size."""

    batch: int
    delta_pct: float
    on: pd.Series
    off: pd.Series


def _flag_effect(group: pd.DataFrame, flag_name: str, other: str, workers: int, batch: int) -> _Effect | None:
    on = _one(group, num_workers=workers, **{flag_name: True, other: True})
    off = _one(group, num_workers=workers, **{flag_name: False, other: True})
    if on is None or off is None:
        return None
    return _Effect(batch, (on["samples_per_s"] / off["samples_per_s"] - 1) * 100, on, off)


def _workers_effect(group: pd.DataFrame, batch: int) -> _Effect | None:
    """The best worker count against the fewest (or the most against the fewest when fewest is best)."""
    counts = sorted({int(value) for value in group["num_workers"] if _present(value)})
    if len(counts) < 2:
        return None
    rows = group[group["num_workers"].isin(counts)]
    fewest = rows[rows["num_workers"] == counts[0]].iloc[0]
    best = rows.loc[pd.to_numeric(rows["samples_per_s"]).idxmax()]
    if best["id"] == fewest["id"]:
        best = rows[rows["num_workers"] == counts[-1]].iloc[0]
    return _Effect(batch, (best["samples_per_s"] / fewest["samples_per_s"] - 1) * 100, best, fewest)


def _anchor(effects: list[_Effect]) -> _Effect:
    """The effect stated in words: at the tutorial's batch size when measured there."""
    return next((effect for effect in effects if effect.batch == REFERENCE_BATCH), effects[0])


def _across(effects: list[_Effect]) -> str:
    if len(effects) < 2:
        return ""
    deltas = [effect.delta_pct for effect in effects]
    batches = [effect.batch for effect in effects]
    if signed_pct(min(deltas)) == signed_pct(max(deltas)):
        return f"; the same at every batch size from {min(batches)} to {max(batches)}"
    return (f"; across batch sizes {min(batches)}–{max(batches)} it ranged from {signed_pct(min(deltas))} "
            f"to {signed_pct(max(deltas))}")


def transfer_findings(settings: pd.DataFrame, pipeline: pd.DataFrame, headline: pd.DataFrame,
                      row: _Rows) -> list[Finding]:
    """Per device, one finding per setting (pin_memory, non_blocking, num_workers), worded at batch 128,
    with the range over the other batch sizes; then the best DataLoader setting against the reference."""
    out: list[Finding] = []
    if not settings.empty:
        for (machine, device), rows in settings.groupby(["machine", "device"], sort=False):
            where = DEVICE_NAME.get(device, device)
            flags: dict[str, list[_Effect]] = {"pin_memory": [], "non_blocking": []}
            workers: list[_Effect] = []
            for batch, group in rows.groupby("batch_size", sort=True):
                batch = int(batch)
                counts = sorted({int(value) for value in group["num_workers"] if _present(value)})
                at = 2 if 2 in counts else (counts[-1] if counts else None)
                if device == "cuda" and at is not None:
                    for flag_name, other in (("pin_memory", "non_blocking"), ("non_blocking", "pin_memory")):
                        effect = _flag_effect(group, flag_name, other, at, batch)
                        if effect is not None:
                            flags[flag_name].append(effect)
                same = group if device != "cuda" else group[flag(group["pin_memory"]) & flag(group["non_blocking"])]
                effect = _workers_effect(same, batch)
                if effect is not None:
                    workers.append(effect)
            for flag_name, effects in flags.items():
                if effects:
                    first = _anchor(effects)
                    other = "non_blocking" if flag_name == "pin_memory" else "pin_memory"
                    out.append(row(
                        f"{flag_name} {effect_phrase(first.delta_pct)} at batch {first.batch} on the {where} "
                        f"({int(first.on['num_workers'])} workers, {other} on: {rate(first.on['samples_per_s'])} vs "
                        f"{rate(first.off['samples_per_s'])}){_across(effects)}{_noisy_note(first.on, first.off)}.",
                        "transfer", "transfer_settings", machine, first.on["id"]))
            if workers:
                first = _anchor(workers)
                out.append(row(
                    f"{int(first.on['num_workers'])} DataLoader workers instead of {int(first.off['num_workers'])} "
                    f"{effect_phrase(first.delta_pct)} at batch {first.batch} on the {where} "
                    f"({rate(first.on['samples_per_s'])} vs {rate(first.off['samples_per_s'])}){_across(workers)}"
                    f"{_noisy_note(first.on, first.off)}.", "transfer", "transfer_settings", machine, first.on["id"]))
            best = rows[flag(rows["best"]) & (rows["batch_size"] == REFERENCE_BATCH)]
            if not best.empty and not bool(best.iloc[0]["reference"]) and _present(best.iloc[0]["delta_vs_reference_pct"]):
                best = best.iloc[0]
                out.append(row(f"The best DataLoader setting at batch {REFERENCE_BATCH} on the {where} is {best['id']}: "
                               f"{signed_pct(best['delta_vs_reference_pct'])} against the tutorial's setting.",
                               "transfer", "transfer_settings", machine, best["id"]))
    if not pipeline.empty:
        loaders = pipeline[pipeline["loader"] == "dataloader"]
        for (machine, device), group in loaders.groupby(["machine", "device"], sort=False):
            same = group if device != "cuda" else group[flag(group["pin_memory"])]
            effect = _workers_effect(same, REFERENCE_BATCH)
            if effect is not None:
                out.append(row(
                    f"The input pipeline alone on the {DEVICE_NAME.get(device, device)}: "
                    f"{int(effect.on['num_workers'])} DataLoader workers instead of {int(effect.off['num_workers'])} "
                    f"{effect_phrase(effect.delta_pct)} ({rate(effect.on['samples_per_s'])} vs "
                    f"{rate(effect.off['samples_per_s'])}){_noisy_note(effect.on, effect.off)}.",
                    "transfer", "pipeline", machine, effect.on["id"]))
            out.extend(_pipeline_cap(group, headline, machine, device, row))
    return out


def _pipeline_cap(loaders: pd.DataFrame, headline: pd.DataFrame, machine, device, row: _Rows) -> list[Finding]:
    """The reference's DataLoader alone vs training with it: an upper bound on what training can reach."""
    reference = headline[(headline["machine"] == machine) & (headline["device"] == device)] if not headline.empty else headline
    if reference.empty or not _present(reference.iloc[0]["reference_samples_per_s"]):
        return []
    reference = reference.iloc[0]
    wanted = _one(loaders, num_workers=2, batch_size=REFERENCE_BATCH,
                  pin_memory=True if device == "cuda" else None)
    if wanted is None:
        return []
    alone, training = wanted["samples_per_s"], reference["reference_samples_per_s"]
    device_name = DEVICE_NAME.get(device, device)
    if alone >= training:
        text = (f"With the tutorial's DataLoader settings the pipeline alone delivers {rate(alone)} samples/s on the "
                f"{device_name}, {times(alone / training)} what training with it reaches ({rate(training)}): "
                f"no model step can make that setting faster than {rate(alone)} samples/s.")
    else:
        text = (f"With the tutorial's DataLoader settings the pipeline alone measured {rate(alone)} samples/s on the "
                f"{device_name}, below training's {rate(training)}: the two disagree more than their spread allows "
                f"a conclusion (see Noise).")
    return [row(text, "transfer", "pipeline", machine, wanted["id"])]


# crossover ------------------------------------------------------------------------------------
def crossover_sentence(model: str, pipeline: str, cells: pd.DataFrame) -> tuple[str, int]:
    """One sentence saying where the GPU starts to win for `model` on `pipeline`; and the batch it names."""
    cells = cells.sort_values("batch_size")
    batches = [int(batch) for batch in cells["batch_size"]]
    speedups = list(cells["gpu_speedup"])
    wins = [winner(value) == "GPU" for value in speedups]
    subject = f"{'The tutorial MLP' if model == 'mlp' else model.upper()} with the {pipeline} pipeline"
    if all(wins):
        if len(batches) == 1:
            return f"{subject}: the GPU wins at batch {batches[0]} ({times(speedups[0])}), the only size measured.", batches[0]
        return (f"{subject}: the GPU wins at every batch size measured, from {times(speedups[0])} at batch "
                f"{batches[0]} to {times(speedups[-1])} at batch {batches[-1]}.", batches[0])
    if not any(wins):
        best = max(range(len(speedups)), key=lambda index: speedups[index])
        if len(batches) == 1:
            no = "no faster" if winner(speedups[0]) != "CPU" else "slower"
            return (f"{subject}: at batch {batches[0]} the GPU is {no} than the CPU ({times(speedups[0])}); "
                    f"it does not win at the only size measured.", batches[0])
        return (f"{subject}: the GPU does not win at any batch size measured (at best {times(speedups[best])} at "
                f"batch {batches[best]}; a win needs {times(WIN_MARGIN)}).", batches[best])
    start = len(wins)
    while start > 0 and wins[start - 1]:
        start -= 1
    if start < len(wins):
        return (f"{subject}: the GPU starts to win at batch {batches[start]} ({times(speedups[start])}); "
                f"below that the CPU is as fast or faster.", batches[start])
    winning = [str(batch) for batch, won in zip(batches, wins) if won]
    return f"{subject}: the GPU wins only at batch {', '.join(winning)}.", int(winning[0])


def crossover_findings(crossover: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    if crossover.empty:
        return out
    for (machine, model, pipeline), cells in crossover.groupby(["machine", "model", "pipeline"], sort=False):
        text, batch = crossover_sentence(model, pipeline, cells)
        out.append(row(text, "crossover", "crossover", machine, f"{model}/{pipeline}/batch {batch}"))
    return out


# host -> device -------------------------------------------------------------------------------
def bandwidth_findings(bandwidth: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    if bandwidth.empty:
        return out
    for machine, group in bandwidth.groupby("machine", sort=False):
        largest = group[group["bytes"] == group["bytes"].max()]
        pinned, pageable = largest[flag(largest["pin_memory"])], largest[~flag(largest["pin_memory"])]
        if not pinned.empty:
            best = pinned.loc[pd.to_numeric(pinned["gb_s"]).idxmax()]
            limit = (f", {best['pcie_pct']:.0f}% of the PCIe {best['pcie_link']} limit "
                     f"({best['pcie_theoretical_gb_s']:.1f} GB/s)" if _present(best["pcie_pct"]) else
                     " (PCIe limit unknown)")
            other = ""
            if not pageable.empty:
                page = pageable.loc[pd.to_numeric(pageable["gb_s"]).idxmax()]
                other = f"; pageable copies reached {page['gb_s']:.1f} GB/s"
            out.append(row(f"Pinned host→device copies of {size(best['bytes'])} reached {best['gb_s']:.1f} GB/s{limit}"
                           f"{other}.", "bandwidth", "bandwidth", machine, best["id"]))
        batch_bytes = REFERENCE_BATCH * 28 * 28 * 4
        small = group[group["bytes"] == (batch_bytes if (group["bytes"] == batch_bytes).any() else group["bytes"].min())]
        pinned, pageable = small[flag(small["pin_memory"])], small[~flag(small["pin_memory"])]
        if not pinned.empty and not pageable.empty:
            fast = pinned.loc[pd.to_numeric(pinned["us_per_copy"]).idxmin()]
            slow = pageable.loc[pd.to_numeric(pageable["us_per_copy"]).idxmin()]
            what = (f"one batch of {REFERENCE_BATCH} images ({size(fast['bytes'])})" if fast["bytes"] == batch_bytes
                    else size(fast["bytes"]))
            out.append(row(f"Copying {what}: pinned {fast['us_per_copy']:.1f} µs vs pageable {slow['us_per_copy']:.1f} µs "
                           f"(pinned is {times(slow['us_per_copy'] / fast['us_per_copy'])} as fast).",
                           "bandwidth", "bandwidth", machine, fast["id"]))
    return out


# GPU telemetry, accuracy, noise ---------------------------------------------------------------
def telemetry_findings(telemetry: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    if telemetry.empty:
        return out
    for machine, group in telemetry.groupby("machine", sort=False):
        readings = group[pd.to_numeric(group["gpu_util_mean_pct"], errors="coerce").notna()]
        if readings.empty:
            out.append(row("NVML gave no utilisation readings on this GPU, so busy time is unknown.",
                           "gpu", "telemetry", machine, group.iloc[0]["id"]))
            continue
        reference = readings[flag(readings["reference"])]
        if not reference.empty:
            line = reference.iloc[0]
            util = line["gpu_util_mean_pct"]
            why = ": it mostly waits for the input pipeline" if util < BUSY_GPU_PCT else ""
            out.append(row(f"On the tutorial's setting the GPU was busy {util:.0f}% of the time (mean NVML "
                           f"utilisation){why}.", "gpu", "telemetry", machine, line["id"]))
        busiest = readings.loc[pd.to_numeric(readings["gpu_util_mean_pct"]).idxmax()]
        out.append(row(f"The GPU was busiest on {busiest['id']} ({busiest['gpu_util_mean_pct']:.0f}% mean utilisation, "
                       f"{rate(busiest['samples_per_s'])} samples/s).", "gpu", "telemetry", machine, busiest["id"]))
    return out


def accuracy_findings(accuracy: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    for _, line in accuracy.iterrows():
        target = f"{line['target_pct']:.0f}%"
        if line["reached"]:
            text = (f"{line['id']} reached {target} validation accuracy in {seconds(line['seconds_to_target'])} s "
                    f"({int(line['epochs'])} epochs).")
        else:
            text = (f"{line['id']} did not reach {target} validation accuracy in {int(line['epochs'])} epochs "
                    f"({seconds(line['seconds'])} s); it ended at {line['val_accuracy_pct']:.1f}%.")
        out.append(row(text, "accuracy", "accuracy", line["machine"], line["id"]))
    return out


def noise_findings(noise: pd.DataFrame, overhead: pd.DataFrame, row: _Rows) -> list[Finding]:
    out = []
    if not noise.empty:
        for machine, group in noise.groupby("machine", sort=False):
            noisy = group[flag(group["noisy"])]
            judged = group[pd.to_numeric(group["iqr_pct"], errors="coerce").notna()]
            if noisy.empty:
                if not judged.empty:
                    out.append(row(f"All {len(judged)} rows with several rounds have a spread (IQR/median) within 10%.",
                                   "noise", "noise", machine, judged.iloc[0]["id"]))
                continue
            worst = noisy.loc[pd.to_numeric(noisy["iqr_pct"]).idxmax()]
            verb = "has" if len(noisy) == 1 else "have"
            out.append(row(f"{len(noisy)} of {len(judged)} rows {verb} a spread (IQR/median) above 10%, the worst "
                           f"{worst['id']} at {worst['iqr_pct']:.0f}%: trust a difference involving a flagged row only "
                           f"when it is larger than that row's spread; rerun on an idle machine or with a bigger "
                           f"profile.", "noise", "noise", machine, worst["id"]))
    for _, line in overhead.iterrows():
        if line["overhead_verdict"] == "over":
            out.append(row(f"The suite's own overhead on {line['id']} is {line['overhead_pct']:.1f}% of samples/s, "
                           f"over its {line['overhead_limit_pct']:.0f}% limit.", "noise", "overhead", line["machine"],
                           line["id"]))
    return out


def machines_findings(headline: pd.DataFrame) -> list[Finding]:
    """Several machines: where the tutorial's setting and the fastest MLP ran fastest."""
    out = []
    if headline.empty or headline["machine"].nunique() < 2:
        return out
    for device, group in headline.groupby("device", sort=False):
        for prefix, what in (("reference", "the tutorial's setting"), ("fastest", "the fastest MLP setting")):
            values = pd.to_numeric(group[f"{prefix}_samples_per_s"], errors="coerce")
            if values.notna().sum() < 2:
                continue
            top, bottom = group.loc[values.idxmax()], group.loc[values.idxmin()]
            out.append(Finding(
                f"Across machines, {what} on the {DEVICE_NAME.get(device, device)} is fastest on {top['machine']} "
                f"({rate(top[f'{prefix}_samples_per_s'])} samples/s), {times(values.max() / values.min())} "
                f"{bottom['machine']} ({rate(bottom[f'{prefix}_samples_per_s'])}).",
                "headline", "headline", f"{top['machine']}: {top[f'{prefix}_id']}"))
    return out


def all_findings(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    several = not tables["noise"].empty and tables["noise"]["machine"].nunique() > 1
    row = _Rows(several)
    return [
        *reference_findings(tables["cpu_vs_gpu"], tables["headline"], row),
        *machines_findings(tables["headline"]),
        *target_findings(tables["targets"], row),
        *transfer_findings(tables["transfer_settings"], tables["pipeline"], tables["headline"], row),
        *crossover_findings(tables["crossover"], row),
        *bandwidth_findings(tables["bandwidth"], row),
        *telemetry_findings(tables["telemetry"], row),
        *accuracy_findings(tables["accuracy"], row),
        *noise_findings(tables["noise"], tables["overhead"], row),
    ]
