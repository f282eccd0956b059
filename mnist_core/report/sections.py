"""The report in reading order: status, the answer, findings, then only the sections the runs measured."""

from __future__ import annotations

import pandas as pd

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT
from mnist_core.report.answer import answer_lines
from mnist_core.report.findings import all_findings
from mnist_core.report.formatting import when
from mnist_core.report.inputs import RunInput
from mnist_core.report.model import Answer, Figure, Report, Section, Table
from mnist_core.report.plots import BANDWIDTH_PNG, CROSSOVER_PNG, SETTINGS_PNG, THROUGHPUT_PNG, Drawing
from mnist_core.report.tables import environment_table

COLLAPSE_ROWS = 12  # longer tables are folded away behind their title
# Under the throughput table, whose verdicts the findings quote with its threshold
VERDICT_RULE = (f"▲ faster or ▼ slower: the 95% interval lies wholly beyond ±{SETTINGS_THRESHOLD_PCT:g}%; = same: "
                "wholly within it; ? inconclusive otherwise, and wherever it lies when the row had too few rounds "
                "for a 95% interval.")


def _table(key: str, title: str, frame: pd.DataFrame, several: bool, **options) -> tuple[Table, ...]:
    """The table when it has rows; with one machine its `machine` column says nothing and is hidden."""
    if frame.empty:
        return ()
    hide = tuple(options.pop("hide", ())) + (() if several else ("machine",))
    collapsed = options.pop("collapsed", len(frame) > COLLAPSE_ROWS)
    return (Table(key, title, frame, hide=hide, collapsed=collapsed, **options),)


def _figure(figures: dict[str, Drawing], filename: str, caption: str) -> tuple[Figure, ...]:
    if filename not in figures:
        return ()
    drawing = figures[filename]
    return (Figure(filename, caption, drawing.png, drawing.svg, drawing.svg_narrow),)


def _noisy_count(noise: pd.DataFrame, several: bool) -> str | None:
    """'7 of 20 rows have rounds spread more than 10%.' per machine: the count a finding quotes, in its table."""
    if noise.empty:
        return None
    counts = [f"{machine + ': ' if several else ''}{int(group['noisy'].sum())} of {len(group)} rows"
              for machine, group in noise.groupby("machine", sort=False)]
    return f"{'; '.join(counts)} have rounds spread more than 10%."


def status_line(run: RunInput) -> str:
    skipped, failed = len(run.session.skipped), len(run.session.failed)
    counts = f"{len(run.run.rows)} benchmarks" + (f", {failed} failed" if failed else "") + \
        (f", {skipped} skipped" if skipped else "") + (f", {len(run.run.unusable)} unusable" if run.run.unusable else "")
    return (f"{run.label}: {run.path.name} · {run.profile} profile · {when(run.started)} · {run.status} · {counts}")


def build_report(runs: list[RunInput], tables: dict[str, pd.DataFrame], figures: dict[str, Drawing]) -> Report:
    several = len(runs) > 1
    gpu = any(run.machine.gpu_name for run in runs)
    sections = []
    if not tables["cpu_vs_gpu"].empty:
        sections.append(Section("cpu-vs-gpu", "GPU vs CPU", (
            "Each device at the tutorial's setting, and each at its own fastest configuration. Each ratio is the "
            "quotient of the two adjusted samples/s beside it (at the tutorial's setting, its median); its 95% "
            "interval combines each row's ratio to its device's tutorial setting with the interval between the two "
            "devices' tutorial settings.",),
            _table("cpu_vs_gpu", "GPU vs CPU", tables["cpu_vs_gpu"], several),
            _figure(figures, CROSSOVER_PNG, "GPU ÷ CPU samples/s by batch size per pipeline, 95% intervals: above "
                                            "the 1× line the GPU is faster")))
    sections.append(Section("settings", "DataLoader settings", (
        "Every DataLoader setting of the tutorial's MLP against the tutorial's setting (batch 128, 2 workers, "
        "pinned, non_blocking; on the CPU pinning and non_blocking cannot act). Each cell: the change in "
        f"samples/s with its 95% interval and the verdict: faster or slower only when the whole interval lies "
        f"beyond ±{SETTINGS_THRESHOLD_PCT:g}%, same when it lies within, inconclusive otherwise, and inconclusive "
        "wherever it lies when the row had too few rounds for a 95% interval (the cell says so; rerun with "
        "--bench-profile=full). A cell's change is the row's adjusted samples/s (Training throughput table) over "
        "the tutorial's setting's median.",),
        _table("settings", "Δ samples/s vs the tutorial's setting, by batch size", tables["settings"], several,
               pivot=(("machine", "device", "setting"), "batch_size", "delta_pct"), collapsed=False),
        _figure(figures, SETTINGS_PNG, "Each setting vs the tutorial's, with 95% intervals, per device and batch size")))
    sections.append(Section("pipelines", "Pipelines and batch sizes", (
        "Training samples/s of every configuration measured: the median of its own rounds with its 95% interval, "
        "and its adjusted samples/s, the tutorial's setting's median times the row's ratio to that setting. The "
        "ratio is estimated round by round against the tutorial's setting (paired rounds, Hodges-Lehmann, so the "
        "machine's drift while the row ran is divided out; older run files: from the two rows' rounds), so it can "
        "differ from the ratio of the two medians; every ratio and change in this report is a quotient of adjusted "
        "samples/s.",),
        _table("pipelines", "Training throughput", tables["pipelines"], several, hide=("id", "tutorial", "loader"),
               note=VERDICT_RULE)
        + _table("launch", "The captured GPU steps against the launch floor (kernels per step x a replayed kernel's "
                           "cost: what launches alone would take)", tables["launch"], several, hide=("id",),
                 collapsed=False)
        + _table("loader", "The input pipeline alone (no model)", tables["loader"], several,
                   hide=("id", "tutorial", "loader")),
        _figure(figures, THROUGHPUT_PNG, "Training samples/s vs batch size, best setting per pipeline, 95% intervals")))
    if not tables["bandwidth"].empty:
        sections.append(Section("bandwidth", "Host→device copies", (
            "Copies of one batch and of a 64 MiB block, pinned vs pageable source, against the PCIe link's "
            "theoretical maximum per direction (from its generation and width).",),
            _table("bandwidth", "Host→device copies", tables["bandwidth"], several,
                   hide=("id", "pin_memory", "non_blocking", "pcie_theoretical_gb_s")),
            _figure(figures, BANDWIDTH_PNG, "Host→device GB/s vs copy size, 95% intervals, with the PCIe limit")))
    if not tables["telemetry"].empty:
        sections.append(Section("gpu", "GPU utilisation, memory and power", (
            "NVML readings over each GPU configuration's timed rounds (- where the GPU does not report one).",),
            _table("telemetry", "GPU telemetry", tables["telemetry"], several, hide=("id",))))
    if not tables["accuracy"].empty:
        sections.append(Section("accuracy", "Time to accuracy", (
            "Seconds of training (validation passes included) until the validation accuracy reached the target: "
            "one timed run each, so no interval.",),
            _table("accuracy", "Time to accuracy", tables["accuracy"], several, hide=("id",))))
    sections.append(Section("noise", "Noise and drift", (
        "Each row took rounds until its 95% interval was tight enough or its share of the session's time ran out, "
        "each round paired with a round of the tutorial's setting on the same device. The tutorial's setting, "
        "measured throughout the session, shows how much the machine itself drifted.",),
        _table("drift", "Machine drift over the session (the tutorial's setting, per row it was paired with)",
               tables["drift"], several)
        + _table("noise", "Rounds and spread of every row", tables["noise"], several, highlight="noisy",
                 collapsed=True, note=_noisy_count(tables["noise"], several))))
    checks = tables["suite_checks"]
    if not checks.empty:
        sections.append(Section("checks", "Suite checks", (
            "Checks of the suite itself, not of your machine: the ratios its fast paths were designed to reach on "
            "machines like those in the project's evidence (docs/evidence.md), and its own cost against a bare training loop written the "
            "way a user writes it (the suite must not be more than 3% slower).",),
            _table("suite_checks", "The suite's design targets and overhead", checks, several)))
    environment = environment_table(runs)
    no_gpu = [] if gpu else ["No GPU was visible to torch on this machine: the report covers the CPU only."]
    sections.append(Section("environment", "Environment and what was not measured", tuple(no_gpu),
                            _table("environment", "Machine, software, dataset and run", environment, several=True,
                                   collapsed=False)
                            + _table("not_measured", "Not measured: skips by reason, and failures",
                                     tables["not_measured"], several, collapsed=False)
                            + _table("unusable", "Rows set aside: numbers that cannot be real", tables["unusable"],
                                     several, collapsed=False)))
    if several:
        sections.append(Section("machines", "Side by side", (
            "Every benchmark measured on more than one machine: its median on each, with the 95% interval, and "
            f"its ratio to {runs[0].label}'s (samples/s; GB/s for copies). The machines ran in separate sessions, so "
            "a ratio's interval comes from the two machines' rounds alone: drift between sessions is not in it.",),
            _table("side_by_side", "Side by side by machine", tables["side_by_side"], several=True)))
    answers = tuple(Answer(run.label, tuple(answer_lines(run.run))) for run in runs)
    title = f"mnist-bench report: {' vs '.join(run.label for run in runs)}"
    return Report(title, tuple(status_line(run) for run in runs), answers, tuple(all_findings(runs)), tuple(sections))
