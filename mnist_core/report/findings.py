"""Findings: at most seven sentences, ranked by how much they change a user's decision.

They add what the answer block and the tables do not say on their own: why the GPU helps or not (how busy
it is), where it starts to win, how a setting's effect changes with the batch size, what copies cost, how
long training takes to a useful accuracy, and how trustworthy the run is. Every comparison in them is a
verdict from the comparison engine; an undecided one is called inconclusive. Settings are named in plain
words, never by benchmark id.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, FASTER, SAME, SLOWER
from mnist_core.report.analysis import (DEVICE_NAME, TUTORIAL_BATCH, accuracy_rows, copy_rows, crossover,
                                        devices, judge, setting_label, train_rows, tutorial_row)
from mnist_core.report.formatting import duration, size, times
from mnist_core.report.inputs import RunInput
from mnist_core.report.model import Finding

MAX_FINDINGS = 7
BUSY_GPU_PCT = 50.0  # mean utilisation below this: the GPU mostly waits
WORDS = {FASTER: "faster", SLOWER: "slower", SAME: "no different"}


@dataclass(frozen=True)
class _Candidate:
    priority: int  # higher: changes a decision more
    finding: Finding


def _busy_gpu(run: RunInput) -> list[_Candidate]:
    tutorial = tutorial_row(run.run, "cuda")
    util = tutorial.telemetry.gpu_util_mean_pct if tutorial else None
    if util is None:
        return []
    why = (": it spends most of the time waiting for the DataLoader, which is why keeping the data on the GPU "
           "pays more than any DataLoader setting") if util < BUSY_GPU_PCT else ""
    return [_Candidate(90, Finding(f"At the tutorial's setting the GPU is busy {util:.0f}% of the time (NVML's mean "
                                   f"utilisation){why}.", "gpu"))]


def _crossover(run: RunInput) -> list[_Candidate]:
    """Per pipeline family, GPU vs CPU at each batch size both measured."""
    out = []
    for family, cells in crossover(run.run).items():
        if len(cells) < 2:
            continue
        wins = [batch for batch, judged in cells if judged.verdict.label == FASTER]
        parts = ", ".join(f"{times(judged.effect.ratio)} at {batch}" for batch, judged in cells)
        if not wins:
            text = f"With {family} the GPU does not reliably beat the CPU at any batch size measured ({parts})."
        elif len(wins) == len(cells):
            text = f"With {family} the GPU beats the CPU at every batch size measured ({parts})."
        else:
            text = (f"With {family} the GPU reliably beats the CPU from batch {min(wins)} on ({parts}); below that, "
                    "choose the CPU or a bigger batch.")
        out.append(_Candidate(80, Finding(text, "pipelines")))
    return out


FLIPS = {"pin_memory": (False, "turning pinned memory off"), "non_blocking": (False, "blocking copies"),
         "num_workers": (0, "0 DataLoader workers instead of 2")}


def _setting_effects(run: RunInput) -> list[_Candidate]:
    """How changing one of the tutorial's settings (pinning, non_blocking, workers) acts at each batch size."""
    out = []
    for device in devices(run.run):
        tutorial = tutorial_row(run.run, device)
        if tutorial is None:
            continue
        rows = {row.config: row for row in train_rows(run.run, device)}
        batches = sorted({config.batch_size for config in rows if config.loader == "dataloader"})
        for field, (value, change) in FLIPS.items():
            per_batch = []
            for batch in batches:
                base = tutorial.config.replace(batch_size=batch)
                flipped = base.replace(**{field: value})
                if flipped != base and base in rows and flipped in rows:
                    per_batch.append((batch, judge(rows[flipped], rows[base])))
            if not per_batch:
                continue
            labels = {judged.verdict.label for _, judged in per_batch}
            detail = "; ".join(f"{judged.verdict.why} at batch {batch}" for batch, judged in per_batch)
            where = DEVICE_NAME[device]
            if labels == {SAME}:
                text, priority = (f"On the {where}, {change} makes no difference beyond "
                                  f"±{SETTINGS_THRESHOLD_PCT:g}% ({detail}).", 40)
            elif len(labels) > 1 and labels & {FASTER, SLOWER}:
                text, priority = f"On the {where}, what {change} does depends on the batch size: {detail}.", 70
            elif labels <= {FASTER, SLOWER}:
                text, priority = f"On the {where}, {change} is {WORDS[next(iter(labels))]} at every batch size measured: {detail}.", 75
            else:
                text, priority = f"On the {where}, the effect of {change} is inconclusive ({detail}).", 30
            out.append(_Candidate(priority, Finding(text, "settings")))
    return out


def _compiled_step(run: RunInput) -> list[_Candidate]:
    """Whether torch.compile pays on each device: the compiled resident step against the eager one, batch by batch."""
    out = []
    for device in devices(run.run):
        rows = {(row.config.loader, row.config.batch_size): row for row in train_rows(run.run, device)
                if row.config.model == "mlp" and row.config.loader in ("resident", "resident-compiled")}
        per_batch = [(batch, judge(rows["resident-compiled", batch], rows["resident", batch]))
                     for batch in sorted({batch for _, batch in rows}) if ("resident", batch) in rows
                     and ("resident-compiled", batch) in rows]
        if not per_batch:
            continue
        labels = {judged.verdict.label for _, judged in per_batch}
        detail = "; ".join(f"{judged.verdict.why} at batch {batch}" for batch, judged in per_batch)
        if len(labels) == 1 and labels <= set(WORDS):
            summary = WORDS[next(iter(labels))]
        elif FASTER in labels:
            summary = "faster at some batch sizes, not at others"
        else:
            summary = "not reliably faster"
        out.append(_Candidate(65, Finding(
            f"On the {DEVICE_NAME[device]}, the step compiled by torch.compile against the eager step (both with "
            f"resident data): {summary} ({detail}).", "pipelines")))
    return out


def _copies(run: RunInput) -> list[_Candidate]:
    rows = copy_rows(run.run)
    if not rows:
        return []
    largest = max(row.bytes for row in rows)
    pinned = [row for row in rows if row.bytes == largest and row.pin_memory]
    pageable = [row for row in rows if row.bytes == largest and not row.pin_memory]
    if not pinned or not pageable:
        return []
    best_pinned = max(pinned, key=lambda row: row.measurement.median)
    best_pageable = max(pageable, key=lambda row: row.measurement.median)
    limit = (f", {best_pinned.pcie_fraction:.0%} of the PCIe link's theoretical maximum"
             if best_pinned.pcie_fraction is not None else "")
    text = (f"Copying {size(largest)} to the GPU: pinned memory reaches {best_pinned.measurement.median:.1f} GB/s"
            f"{limit}, pageable {best_pageable.measurement.median:.1f} GB/s; for one batch of {TUTORIAL_BATCH} images "
            "the copy is microseconds, small beside a DataLoader step.")
    return [_Candidate(50, Finding(text, "bandwidth"))]


def _accuracy(run: RunInput) -> list[_Candidate]:
    rows = accuracy_rows(run.run)
    if not rows:
        return []
    reached = [row for row in rows if row.reached]
    if not reached:
        best = max(rows, key=lambda row: row.val_accuracy)
        return [_Candidate(45, Finding(
            f"No configuration reached {rows[0].target_accuracy:.0%} validation accuracy within its epochs (best "
            f"{best.val_accuracy:.1%}, {setting_label(best.config, with_batch=True)}).", "accuracy"))]
    fastest = min(reached, key=lambda row: row.seconds_to_target)
    slowest = max(rows, key=lambda row: row.seconds)
    other = f"; {setting_label(slowest.config)} ({DEVICE_NAME[slowest.config.device]}) took {duration(slowest.seconds)}" \
        if slowest is not fastest else ""
    return [_Candidate(60, Finding(
        f"Time to {fastest.target_accuracy:.0%} validation accuracy (one timed run each, so no interval): fastest "
        f"{duration(fastest.seconds_to_target)} with {setting_label(fastest.config)} "
        f"({DEVICE_NAME[fastest.config.device]}, {fastest.epochs} epochs){other}.", "accuracy"))]


def _trust(run: RunInput) -> list[_Candidate]:
    drift = run.run.drift()
    parts = [f"the {DEVICE_NAME.get(device, device)}'s speed strayed ±{item.spread_pct:.0f}% over the session"
             for device, item in drift.items() if item.spread_pct is not None]
    noisy = [row for row in run.run.rows if getattr(row, "measurement", None) is not None and row.measurement.noisy]
    total = sum(1 for row in run.run.rows if getattr(row, "measurement", None) is not None)
    if noisy:
        parts.append(f"{len(noisy)} of {total} rows have rounds spread more than 10% (see Noise)")
    if not parts:
        return []
    tail = ("; every row's rounds were paired with the tutorial's setting, so comparisons within the run divide "
            "that drift out" if drift else "; this run's rounds were not paired (an older format), so a difference "
            "smaller than that spread is not evidence")
    return [_Candidate(35, Finding(f"How far to trust it: {', '.join(parts)}{tail}.", "noise"))]


def all_findings(runs: list[RunInput]) -> list[Finding]:
    several = len(runs) > 1
    candidates: list[_Candidate] = []
    for run in runs:
        for make in (_busy_gpu, _crossover, _setting_effects, _compiled_step, _accuracy, _copies, _trust):
            for candidate in make(run):
                finding = candidate.finding
                if several:
                    finding = Finding(f"{run.label}: {finding.text}", finding.section)
                candidates.append(_Candidate(candidate.priority, finding))
    candidates.sort(key=lambda candidate: -candidate.priority)
    return [candidate.finding for candidate in candidates[:MAX_FINDINGS]]

