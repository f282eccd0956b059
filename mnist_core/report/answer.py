"""The answer to the user's two questions, in plain words and their own units, for the top of the report
and the end of the terminal session: is the GPU helping, which DataLoader setting to use, how far the
tutorial's setting is from the fastest path, and what to rerun when the evidence is inconclusive."""

from __future__ import annotations

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, FASTER, SAME, SLOWER, Verdict
from mnist_core.report.analysis import (DEVICE_NAME, TUTORIAL_BATCH, device_answer, devices,
                                        gpu_vs_cpu, setting_label, train_rows)
from mnist_core.report.formatting import duration, rate, times
from mnist_core.runs.frame import epoch_samples
from mnist_core.runs.rows import ThroughputRow
from mnist_core.runs.runfile import Run

RERUN = ("rerun on an idle machine, or with --bench-profile=full for more rounds, to decide")


def _speed(row: ThroughputRow, run: Run) -> str:
    samples = epoch_samples(run)
    # not a timed epoch: an epoch's samples at the row's rate, which charges each round its share of the
    # start-up of a fresh epoch's workers (rows.ThroughputRow.epoch_start_s: 0 without workers, null in older runs)
    what = "start-up + batches at this rate" if row.epoch_start_s else "batches at this rate"
    per_epoch = f", {duration(samples / row.measurement.median)} per epoch ({what})" if samples else ""
    return f"{rate(row.measurement.median)} samples/s{per_epoch}"


def _ratio(verdict: Verdict) -> str:
    effect = verdict.effect
    return f"{times(effect.ratio)} [{times(effect.low)}–{times(effect.high)}]"


def _gpu_lines(run: Run) -> tuple[list[str], list[Verdict]]:
    if "cuda" not in devices(run):
        cpu = device_answer(run, "cpu").tutorial
        what = f": the tutorial's setting trains at {_speed(cpu, run)}" if cpu else ""
        return [f"GPU: no GPU was visible to torch, so this run measured the CPU only{what}."], []
    comparisons = gpu_vs_cpu(run)
    if not comparisons:
        return ["GPU vs CPU: this run lacks the tutorial's setting on one of the devices; nothing to compare."], []
    lines = []
    for item in comparisons:
        label = item.verdict.label
        head = {FASTER: "the GPU is faster", SLOWER: "the GPU is slower", SAME: "no reliable difference"}.get(
            label, "inconclusive")
        where = "at the tutorial's setting" if item.what == "tutorial setting" else "each at its fastest"
        detail = (f"GPU {_speed(item.gpu, run)} vs CPU {_speed(item.cpu, run)}" if item.what == "tutorial setting" else
                  f"GPU {rate(item.gpu.measurement.median)} samples/s ({setting_label(item.gpu.config, with_batch=True)}) "
                  f"vs CPU {rate(item.cpu.measurement.median)} ({setting_label(item.cpu.config, with_batch=True)})")
        lines.append(f"GPU vs CPU {where}: {head}, {_ratio(item.verdict)} the CPU: {detail}.")
    return lines, [item.verdict for item in comparisons]


def _setting_line(run: Run, device: str) -> tuple[str | None, list[Verdict]]:
    answer = device_answer(run, device)
    where = DEVICE_NAME[device]
    if answer.best_setting is None or answer.tutorial is None:
        return None, []
    best = answer.best_setting
    if best.row is answer.tutorial and not best.ties and len(_settings_at_tutorial_batch(run, device)) == 1:
        return (f"DataLoader on the {where}: only the tutorial's setting ran at batch {TUTORIAL_BATCH} (this profile); "
                "run the default profile to compare settings."), []
    if best.row is answer.tutorial:
        ties = (f" (tied with {len(best.ties)} other setting{'s' if len(best.ties) != 1 else ''}: no reliable "
                "difference)") if best.tied else ""
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: keep the tutorial's setting; it measured "
                f"fastest{ties}."), []
    judged = answer.setting_vs_tutorial
    effect = judged.verdict.why
    name = setting_label(best.row.config).removeprefix("DataLoader, ")
    ties = f"; tied with {len(best.ties)} other setting{'s' if len(best.ties) != 1 else ''}" if best.tied else ""
    if judged.verdict.label == FASTER:
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: use {name}: {effect} vs the tutorial's "
                f"setting{ties}."), [judged.verdict]
    why = "within ±{:g}%".format(SETTINGS_THRESHOLD_PCT) if judged.verdict.label == SAME else "inconclusive"
    return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: no reliable difference from the tutorial's setting "
            f"(best measured: {name}, {effect}, {why}): keep it."), [judged.verdict]


def _settings_at_tutorial_batch(run: Run, device: str) -> list:
    return [row for row in train_rows(run, device) if row.config.model == "mlp" and row.config.loader == "dataloader"
            and row.config.batch_size == TUTORIAL_BATCH]


def _fastest_line(run: Run, device: str) -> tuple[str | None, list[Verdict]]:
    answer = device_answer(run, device)
    if answer.fastest is None:
        return None, []
    where = DEVICE_NAME[device]
    text = f"Fastest on the {where}: {setting_label(answer.fastest.config, with_batch=True)}, {_speed(answer.fastest, run)}"
    ties = _ties(answer.fastest_ties)
    verdict = answer.fastest_vs_tutorial
    if verdict is None:
        if answer.fastest is answer.tutorial:
            return f"{text}: the tutorial's setting itself{ties}.", []
        return f"{text}: not compared with the tutorial's setting (neither measured nor paired in this run){ties}.", []
    return f"{text}: {_ratio(verdict)} the tutorial's setting{ties}.", [verdict]


def _ties(rows: tuple) -> str:
    """' (no reliable difference from: …)' naming the configurations the fastest is not reliably faster than
    (the two fastest of them, and how many more)."""
    if not rows:
        return ""
    ranked = sorted(rows, key=lambda row: -row.measurement.median)
    names = "; ".join(setting_label(row.config, with_batch=True) for row in ranked[:2])
    more = f" and {len(ranked) - 2} more" if len(ranked) > 2 else ""
    return f" (no reliable difference from: {names}{more})"


def answer_lines(run: Run) -> list[str]:
    """At most a dozen lines: the GPU question, the setting question and the fastest path per device,
    and what to rerun when a comparison could not be decided."""
    lines, verdicts = _gpu_lines(run)
    for device in devices(run):
        for make in (_setting_line, _fastest_line):
            line, found = make(run, device)
            if line:
                lines.append(line)
                verdicts += found
    undecided = [verdict for verdict in verdicts if verdict.label not in (FASTER, SLOWER, SAME)]
    if undecided:
        verb = "is" if len(undecided) == 1 else "are"
        lines.append(f"{len(undecided)} of these comparisons {verb} inconclusive (the interval overlaps ±"
                     f"{SETTINGS_THRESHOLD_PCT:g}%): {RERUN}.")
    if not run.complete:
        lines.append(f"PARTIAL run: {len(run.rows)} benchmarks measured before it stopped; the answer covers those.")
    return lines
