"""The answer to the user's two questions, in plain words and their own units, for the top of the report
and the end of the terminal session: is the GPU helping, which DataLoader setting to use, how far the
tutorial's setting is from the fastest path, and what to rerun when the evidence is inconclusive."""

from __future__ import annotations

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, FASTER, SAME, SLOWER, Verdict
from mnist_core.report.analysis import (DEVICE_NAME, TUTORIAL_BATCH, adjusted_rate, device_answer, devices,
                                        gpu_vs_cpu, is_root, root_row, setting_label, settings_words, train_rows,
                                        tutorial_row, undecided_why)
from mnist_core.report.formatting import duration, rate, times
from mnist_core.runs.frame import epoch_samples
from mnist_core.runs.rows import ThroughputRow
from mnist_core.runs.runfile import Run

RERUN = ("rerun on an idle machine, or with --bench-profile=full for more rounds, to decide")


def _adjusted_note(run: Run) -> str:
    """What 'adjusted' means, once, under an answer that uses it."""
    root = root_row(run)
    paired = any(row.measurement.paired for row in train_rows(run))
    how = ("from rounds paired with it, so the machine's drift is divided out" if paired else
           "from the two configurations' rounds (this run file took no paired rounds)")
    anchor = (f"the {DEVICE_NAME[root.config.device]}'s tutorial setting's median ({rate(root.measurement.median)})"
              if root is not None else "the median of the tutorial's setting's rounds beside a configuration")
    return (f"Adjusted samples/s: {anchor} x a configuration's ratio to it, estimated {how}; every ratio above is "
            "one adjusted samples/s over another, and the report's tables give each configuration's median too.")


def _per_epoch(run: Run, row: ThroughputRow, samples_per_s: float) -> str:
    samples = epoch_samples(run)
    if not samples:
        return ""
    # not a timed epoch: an epoch's samples at the row's rate, which charges each round its share of the
    # start-up of a fresh epoch's workers (rows.ThroughputRow.epoch_start_s: 0 without workers, null in older runs)
    what = "start-up + batches at this rate" if row.epoch_start_s else "batches at this rate"
    return f", {duration(samples / samples_per_s)} per epoch ({what})"


def _speed(row: ThroughputRow, run: Run) -> str:
    """The row's samples/s as the comparisons read it: adjusted, named so, except the tutorial's own median."""
    adjusted = adjusted_rate(run, row)
    if adjusted is None or is_root(run, row):
        value, label = row.measurement.median, "samples/s"
    else:
        value, label = adjusted, "samples/s adjusted"
    return f"{rate(value)} {label}{_per_epoch(run, row, value)}"


def _ratio(verdict: Verdict) -> str:
    effect = verdict.effect
    return f"{times(effect.ratio)} [{times(effect.low)}–{times(effect.high)}]"


def _basis(rates: tuple[float, float] | None, run: Run | None = None) -> str:
    """' (A vs B samples/s, adjusted)': the two throughputs a ratio or change is the quotient of (with `run`,
    what they make an epoch take)."""
    if rates is None:
        return " (from the two configurations' own rounds)"
    samples = epoch_samples(run) if run is not None else None
    epochs = f"; {duration(samples / rates[0])} vs {duration(samples / rates[1])} per epoch" if samples else ""
    return f" ({rate(rates[0])} vs {rate(rates[1])} samples/s, adjusted{epochs})"


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
        head = {FASTER: "the GPU is faster", SLOWER: "the GPU is slower",
                SAME: f"no difference beyond ±{SETTINGS_THRESHOLD_PCT:g}%"}.get(label, "inconclusive")
        if item.what == "tutorial setting":
            where, detail = "at the tutorial's setting", _basis(item.rates, run)
            settings = f": {_tutorial_settings(run)}"
        else:
            where, detail = "each at its fastest", _basis(item.rates, run)
            settings = (f": GPU {setting_label(item.gpu.config, with_batch=True)}; "
                        f"CPU {setting_label(item.cpu.config, with_batch=True)}")
        lines.append(f"GPU vs CPU {where}: {head}, {_ratio(item.verdict)} the CPU{detail}{settings}.")
    return lines, [item.verdict for item in comparisons]


def _tutorial_settings(run: Run) -> str:
    """What 'the tutorial's setting' is on each device: on the CPU pinning and non_blocking have nothing to act on."""
    gpu, cpu = tutorial_row(run, "cuda"), tutorial_row(run, "cpu")
    return (f"GPU {setting_label(gpu.config, with_batch=True)}; CPU {setting_label(cpu.config, with_batch=True)} "
            "(pin_memory and non_blocking have no effect without a GPU)")


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
        ties = (f" (tied with {len(best.ties)} other setting{'s' if len(best.ties) != 1 else ''}: not reliably "
                "slower)") if best.tied else ""
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: keep the tutorial's setting; it measured "
                f"fastest{ties}."), []
    judged = answer.setting_vs_tutorial
    effect = f"{judged.verdict.why}{_basis(judged.rates)}"
    name = ", ".join(settings_words(best.row.config))
    ties = f"; tied with {len(best.ties)} other setting{'s' if len(best.ties) != 1 else ''}" if best.tied else ""
    label = judged.verdict.label
    if label == FASTER:
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: use {name}: {effect} vs the tutorial's "
                f"setting{ties}."), [judged.verdict]
    if label == SAME:
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: no difference beyond ±"
                f"{SETTINGS_THRESHOLD_PCT:g}% from the tutorial's setting (best measured: {name}, {effect}): keep "
                "it."), [judged.verdict]
    if label == SLOWER:  # the fastest setting can be reliably slower only when the tutorial's did not run here
        return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: keep the tutorial's setting; the best other "
                f"setting, {name}, is slower: {effect}."), [judged.verdict]
    # with too few rounds the effect's own text already says so; otherwise say why the interval decides nothing
    why = f", {undecided_why(judged.verdict)}" if judged.verdict.effect.reliable else ""
    return (f"DataLoader on the {where} at batch {TUTORIAL_BATCH}: not decided: the best measured, {name}, is "
            f"{effect} vs the tutorial's setting{why}; keep the tutorial's setting until a rerun decides."), \
        [judged.verdict]


def _settings_at_tutorial_batch(run: Run, device: str) -> list:
    return [row for row in train_rows(run, device) if row.config.model == "mlp" and row.config.pipeline.dataloader
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
    # Against the tutorial's row, or (a run narrowed past it) the yardstick rounds beside the fastest row.
    tutorial_rate = (adjusted_rate(run, answer.tutorial) if answer.tutorial is not None else
                     answer.fastest.measurement.yardstick_median)
    adjusted = adjusted_rate(run, answer.fastest)
    basis = _basis((adjusted, tutorial_rate) if adjusted is not None and tutorial_rate is not None else None)
    return f"{text}: {_ratio(verdict)} the tutorial's setting{basis}{ties}.", [verdict]


def _ties(rows: tuple) -> str:
    """' (no reliable difference from: …)' naming the configurations the fastest is not reliably faster than
    (the two fastest of them, and how many more)."""
    if not rows:
        return ""
    ranked = sorted(rows, key=lambda row: -row.measurement.median)
    names = "; ".join(setting_label(row.config, with_batch=True) for row in ranked[:2])
    more = f" and {len(ranked) - 2} more" if len(ranked) > 2 else ""
    return f" (no reliable difference from: {names}{more})"


DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "synthetic": "a synthetic MNIST-shaped set generated here"}


def _dataset_line(run: Run) -> list[str]:
    """The data, when it was not MNIST: speeds carry over (same image shape), accuracies and times to them do not."""
    name = run.session.dataset.name
    if not name or name == "mnist":
        return []
    return [f"Data: {DATASET_NAMES.get(name, name)}, not MNIST; samples/s carry over to MNIST (same 28x28 "
            "images), accuracies and times to an accuracy do not."]


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
        whys = "; ".join(sorted({undecided_why(verdict) for verdict in undecided}))
        lines.append(f"{len(undecided)} of these comparisons {verb} inconclusive ({whys}): {RERUN}.")
    if any("adjusted" in line for line in lines):
        lines.append(_adjusted_note(run))
    lines += _dataset_line(run)
    if not run.complete:
        lines.append(f"{run.status} run: {len(run.rows)} benchmarks measured before it stopped; the answer covers those.")
    return lines
