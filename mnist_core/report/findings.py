"""Findings: at most seven sentences, ranked by how much they change a user's decision.

They add what the answer block and the tables do not say on their own: why the GPU helps or not (how busy
it is), where it starts to win, how a setting's effect changes with the batch size, what copies cost, how
long training takes to a useful accuracy, and how trustworthy the run is. Every comparison in them is a
verdict from the comparison engine; an undecided one is called inconclusive. Settings are named in plain
words, never by benchmark id.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.core.pipelines import RESIDENT, RESIDENT_COMPILED
from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, FASTER, INCONCLUSIVE, SAME, SLOWER
from mnist_core.report.analysis import (DEVICE_NAME, TUTORIAL_BATCH, Judged, accuracy_rows, adjusted_rate, copy_rows,
                                        crossover, devices, judge, setting_label, train_rows, tutorial_row,
                                        undecided_why)
from mnist_core.report.formatting import duration, format_cell, rate, size
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
    return [_Candidate(90, Finding(f"At the tutorial's setting ({setting_label(tutorial.config, with_batch=True)}) the "
                                   f"GPU is busy {util:.1f}% of the time (NVML's mean utilisation){why}.",
                                   ("telemetry",), (tutorial.config,)))]


def _cell(judged: Judged, names: tuple[str, str] = ("", "")) -> str:
    """'batch 32: GPU 27.6k vs CPU 65.3k samples/s, slower': the adjusted samples/s the verdict is the quotient of,
    as the throughput table prints them, and the verdict (with why, when too few rounds decided nothing)."""
    batch = judged.row.config.batch_size
    mine, theirs = judged.rates or (judged.row.measurement.median, judged.against.measurement.median)
    word = WORDS.get(judged.verdict.label)
    if word is None:
        word = "inconclusive" + (f" ({undecided_why(judged.verdict)})" if not judged.effect.reliable else "")
    first, second = (f"{name} " if name else "" for name in names)
    return f"batch {batch}: {first}{rate(mine)} vs {second}{rate(theirs)} samples/s, {word}"


def _by_label(cells: list[Judged]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for judged in cells:
        out.setdefault(judged.verdict.label, []).append(judged.row.config.batch_size)
    return out


def _batches(batches: list[int]) -> str:
    return ("batch " if len(batches) == 1 else "batches ") + ", ".join(str(batch) for batch in batches)


def _named(configs: list) -> str:
    """The configurations compared, by the labels the tables print, each with the batch sizes it stands for:
    'DataLoader, 2 workers, pinned, non_blocking' or '... at batches 32, 128; ... at batch 512'."""
    batches: dict[str, list[int]] = {}
    for config in configs:
        batches.setdefault(setting_label(config), []).append(config.batch_size)
    if len(batches) == 1:
        return next(iter(batches))
    return "; ".join(f"{label} at {_batches(sizes)}" for label, sizes in batches.items())


def _configs(cells: list[Judged]) -> tuple:
    return tuple(config for judged in cells for config in (judged.row.config, judged.against.config))


def _summary(cells: list[Judged], faster: str, slower: str) -> str:
    """What the verdicts say across batch sizes, in words true to every one of them: 'at every batch size' only
    when all agree, 'depends on the batch size' only when some are faster and some slower."""
    labels = _by_label(cells)
    if len(labels) == 1 and next(iter(labels)) in WORDS:
        label = next(iter(labels))
        return {FASTER: faster, SLOWER: slower, SAME: f"no different (within ±{SETTINGS_THRESHOLD_PCT:g}%)"}[label] \
            + " at every batch size measured"
    parts = []
    for label, phrase in ((FASTER, faster), (SLOWER, slower), (SAME, f"within ±{SETTINGS_THRESHOLD_PCT:g}%"),
                          (INCONCLUSIVE, "not decided")):
        if label in labels:
            parts.append(f"{phrase} at {_batches(labels[label])}")
    head = "depends on the batch size: " if FASTER in labels and SLOWER in labels else ""
    return head + "; ".join(parts)


def _crossover(run: RunInput) -> list[_Candidate]:
    """Per pipeline family, GPU vs CPU at each batch size both measured."""
    out = []
    for family, batches in crossover(run.run).items():
        cells = [judged for _, judged in batches]
        if len(cells) < 2:
            continue
        summary = _summary(cells, "the GPU is faster", "the GPU is slower (choose the CPU)")
        detail = "; ".join(_cell(judged, ("GPU", "CPU")) for judged in cells)
        names = (f"GPU: {_named([judged.row.config for judged in cells])}; CPU: "
                 f"{_named([judged.against.config for judged in cells])}")
        named = f"{family[:-1]}; {names})" if family.endswith(")") else f"{family} ({names})"
        out.append(_Candidate(80, Finding(f"With {named}: {summary} (adjusted samples/s: {detail}).",
                                          ("pipelines",), _configs(cells))))
    return out


FLIPS = {"pin_memory": (False, "turning pinned memory off"), "non_blocking": (False, "blocking copies"),
         "num_workers": (0, "0 DataLoader workers instead of 2")}
SETTING_FIELDS = ("device", "model", "loader", "batch_size", "num_workers", "pin_memory", "non_blocking")


def _key(config, **changes) -> tuple:
    """A configuration by the fields a setting comparison varies (not its round size or seed)."""
    values = {field: getattr(config, field) for field in SETTING_FIELDS}
    return tuple({**values, **changes}[field] for field in SETTING_FIELDS)


def _setting_effects(run: RunInput) -> list[_Candidate]:
    """How changing one of the tutorial's settings (pinning, non_blocking, workers) acts at each batch size."""
    out = []
    for device in devices(run.run):
        tutorial = tutorial_row(run.run, device)
        if tutorial is None:
            continue
        rows = {_key(row.config): row for row in train_rows(run.run, device) if row.config.model == "mlp"}
        batches = sorted({row.config.batch_size for row in rows.values() if row.config.pipeline.dataloader})
        for field, (value, change) in FLIPS.items():
            cells = []
            for batch in batches:
                base, flipped = _key(tutorial.config, batch_size=batch), _key(tutorial.config, batch_size=batch,
                                                                               **{field: value})
                if flipped != base and base in rows and flipped in rows:
                    cells.append(judge(run.run, rows[flipped], rows[base]))
            if not cells:
                continue
            labels = {judged.verdict.label for judged in cells}
            detail = "; ".join(_cell(judged) for judged in cells)
            where = DEVICE_NAME[device]
            summary = _summary(cells, "faster", "slower")
            priority = 70 if labels & {FASTER, SLOWER} else (40 if labels == {SAME} else 30)
            names = (f"{_named([judged.row.config for judged in cells])} vs the tutorial's "
                     f"{_named([judged.against.config for judged in cells])}")
            out.append(_Candidate(priority, Finding(
                f"On the {where}, {change} ({names}): {summary} (adjusted samples/s, changed vs the tutorial's: "
                f"{detail}).", ("pipelines",), _configs(cells))))
    return out


def _compiled_step(run: RunInput) -> list[_Candidate]:
    """Whether torch.compile pays on each device: the compiled resident step against the eager one, batch by batch."""
    out = []
    for device in devices(run.run):
        compiled, eager = RESIDENT_COMPILED.name, RESIDENT.name
        rows = {(row.config.loader, row.config.batch_size): row for row in train_rows(run.run, device)
                if row.config.model == "mlp" and row.config.loader in (eager, compiled)}
        cells = [judge(run.run, rows[compiled, batch], rows[eager, batch])
                 for batch in sorted({batch for _, batch in rows}) if (eager, batch) in rows
                 and (compiled, batch) in rows]
        if not cells:
            continue
        detail = "; ".join(_cell(judged) for judged in cells)
        names = (f"{_named([judged.row.config for judged in cells])} vs "
                 f"{_named([judged.against.config for judged in cells])}")
        out.append(_Candidate(65, Finding(
            f"On the {DEVICE_NAME[device]}, the step compiled by torch.compile against the eager step ({names}): "
            f"{_summary(cells, 'faster', 'slower')} (adjusted samples/s, compiled vs eager: {detail}).",
            ("pipelines",), _configs(cells))))
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
    text = (f"Copying {size(largest)} to the GPU: pinned memory reaches {rate(best_pinned.measurement.median)} GB/s"
            f"{limit}, pageable {rate(best_pageable.measurement.median)} GB/s{_tutorial_copy(rows)}.")
    return [_Candidate(50, Finding(text, ("bandwidth",)))]


def _tutorial_copy(rows: list) -> str:
    """The tutorial's own copy (one batch, pinned, non_blocking) by the size and µs the table prints for it."""
    row = next((row for row in rows if row.batch_size == TUTORIAL_BATCH and row.pin_memory and row.non_blocking), None)
    if row is None or row.us_per_copy is None:
        return ""
    return (f"; the tutorial's copy of one batch ({size(row.bytes)}, pinned, non_blocking) takes "
            f"{format_cell('us_per_copy', row.us_per_copy)} µs, small beside a DataLoader step")


def _accuracy(run: RunInput) -> list[_Candidate]:
    rows = accuracy_rows(run.run)
    if not rows:
        return []
    reached = [row for row in rows if row.reached]
    if not reached:
        best = max(rows, key=lambda row: row.val_accuracy)
        return [_Candidate(45, Finding(
            f"No configuration reached {rows[0].target_accuracy:.0%} validation accuracy within its epochs (best "
            f"{best.val_accuracy:.1%}, {setting_label(best.config, with_batch=True)}).", ("accuracy",),
            (best.config,)))]
    fastest = min(reached, key=lambda row: row.seconds_to_target)
    slowest = max(rows, key=lambda row: row.seconds)
    other = (f"; {setting_label(slowest.config, with_batch=True)} ({DEVICE_NAME[slowest.config.device]}) took "
             f"{duration(slowest.seconds)}") if slowest is not fastest else ""
    return [_Candidate(60, Finding(
        f"Time to {fastest.target_accuracy:.0%} validation accuracy (one timed run each, so no interval): fastest "
        f"{duration(fastest.seconds_to_target)} with {setting_label(fastest.config, with_batch=True)} "
        f"({DEVICE_NAME[fastest.config.device]}, {fastest.epochs} epochs){other}.", ("accuracy",),
        (fastest.config,) + ((slowest.config,) if slowest is not fastest else ())))]


def _trust(run: RunInput) -> list[_Candidate]:
    """The machine's drift (the drift table) and how many rows are noisy (the count the noise table's note gives)."""
    drift = run.run.drift()
    parts = [f"the {DEVICE_NAME.get(device, device)}'s speed strayed ±{item.spread_pct:.1f}% over the session"
             for device, item in drift.items() if item.spread_pct is not None]
    tables = ("drift",) if parts else ()
    noisy = [row for row in run.run.rows if getattr(row, "measurement", None) is not None and row.measurement.noisy]
    total = sum(1 for row in run.run.rows if getattr(row, "measurement", None) is not None)
    if noisy:
        parts.append(f"{len(noisy)} of {total} rows have rounds spread more than 10%")
        tables += ("noise",)
    if not parts:
        return []
    tail = ("; every row's rounds were paired with the tutorial's setting, so comparisons within the run divide "
            "that drift out" if drift else "; this run's rounds were not paired (an older format), so a difference "
            "smaller than that spread is not evidence")
    return [_Candidate(35, Finding(f"How far to trust it: {', '.join(parts)}{tail}.", tables))]


def all_findings(runs: list[RunInput], most: int | None = MAX_FINDINGS) -> list[Finding]:
    """The `most` that change a decision most (None: every one, which the tests hold to the same rules)."""
    several = len(runs) > 1
    candidates: list[_Candidate] = []
    for run in runs:
        for make in (_busy_gpu, _crossover, _setting_effects, _compiled_step, _accuracy, _copies, _trust):
            for candidate in make(run):
                finding = candidate.finding
                if several:
                    finding = Finding(f"{run.label}: {finding.text}", finding.tables, finding.configs)
                candidates.append(_Candidate(candidate.priority, finding))
    candidates.sort(key=lambda candidate: -candidate.priority)
    return [candidate.finding for candidate in candidates[:most]]

