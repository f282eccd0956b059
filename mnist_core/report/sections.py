"""The report's sections in reading order, assembled from tables, findings and the plots drawn."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from mnist_core.report.findings import DEVICE_NAME
from mnist_core.report.formatting import times, when
from mnist_core.report.inputs import RunInput
from mnist_core.report.model import Figure, Finding, Report, Section, Table
from mnist_core.report.plots import BANDWIDTH_PNG, THROUGHPUT_PNG, TRANSFER_PNG
from mnist_core.report.results import NOISE_LIMIT_PCT


def _tables(*tables: Table, several: bool = True) -> tuple[Table, ...]:
    """The non-empty tables; with one machine its column says nothing and is hidden."""
    kept = tuple(table for table in tables if not table.frame.empty)
    if several:
        return kept
    return tuple(replace(table, hide=table.hide + ("machine",)) for table in kept)


def _figures(available: Iterable[str], *figures: Figure) -> tuple[Figure, ...]:
    available = set(available)
    return tuple(figure for figure in figures if figure.filename in available)


def target_sentences(targets: pd.DataFrame) -> list[str]:
    """The suite's target ratios, stated for each machine in the headline."""
    lines = []
    for machine, group in targets.groupby("machine", sort=False):
        parts = []
        for _, row in group.iterrows():
            where = DEVICE_NAME.get(row["device"], row["device"])
            if pd.isna(row["measured_x"]):
                parts.append(f"{row['ratio']} ({where}, target ≥ {times(row['target_x'])}): {row['status']}")
            else:
                parts.append(f"{row['ratio']} ({where}): {times(row['measured_x'])}, target ≥ "
                             f"{times(row['target_x'])}, {row['status']}")
        lines.append(f"Target ratios on {machine}: " + "; ".join(parts) + ".")
    return lines


def banner(runs: list[RunInput]) -> tuple[str, ...]:
    lines = []
    for run in runs:
        section = run.section
        state = "complete" if run.complete else (
            "PARTIAL: the session was interrupted; only the benchmarks that finished are reported"
            if section.get("interrupted") else "PARTIAL: the session did not finish; only finished benchmarks are reported")
        lines.append(f"{run.label}: {run.path.name}, profile {section.get('profile')}, "
                     f"{when(section.get('started_at') or run.data.get('datetime'))}, {state}.")
    return tuple(lines)


def build_report(runs: list[RunInput], devices: list[str], tables: dict[str, pd.DataFrame],
                 environment: pd.DataFrame, outcomes: pd.DataFrame, findings: list[Finding],
                 figures: Iterable[str]) -> Report:
    """`devices`: the devices the rows cover; `figures`: the plot files drawn."""
    figures = list(figures)
    labels = [run.label for run in runs]
    several = len(runs) > 1

    def tables_of(*items: Table) -> tuple[Table, ...]:
        return _tables(*items, several=several)

    crossover_lines = [finding.text for finding in findings if finding.section == "crossover"]
    sections = [
        Section("headline", "Headline", (
            "The reference is the tutorial's own setting: the 784-32-10 MLP fed by a DataLoader with batch 128 and "
            "2 workers, pin_memory and non_blocking on (they cannot act on the CPU). Samples/s are medians over the "
            "timed rounds; an epoch is the training split (the training set less the tutorial's 10,000 validation "
            "images).",
            *target_sentences(tables["targets"]),
        ), tables_of(
            Table("cpu_vs_gpu", "CPU vs GPU: the tutorial's setting and the fastest MLP setting", tables["cpu_vs_gpu"]),
            Table("headline", "Per device: reference and fastest MLP configuration", tables["headline"]),
            Table("targets", "Target ratios: what the fast paths should reach", tables["targets"]),
        )),
        Section("findings", "Findings"),
        Section("environment", "Environment", (), tables_of(
            Table("environment", "Machine, software, dataset and run", environment),
            Table("outcomes", "Not measured: skipped and failed benchmarks", outcomes),
        )),
        Section("throughput", "Throughput vs batch size", (
            "Training samples/s of each pipeline and model at every batch size measured (for the DataLoader, its "
            "best setting at that size).",
        ), (), _figures(figures, Figure(THROUGHPUT_PNG, "Training throughput vs batch size, log-log"))),
        Section("transfer", "Transfer settings", (
            "The tutorial MLP on the DataLoader: samples/s for each num_workers × pin_memory × non_blocking "
            "combination per batch size, Δ against the tutorial's setting on the same device; the best per batch size "
            "is in bold. On the CPU pin_memory and non_blocking cannot act (no pinned pages, no asynchronous copy), "
            "so they read n/a and were not run twice.",
        ), tables_of(
            Table("transfer_settings", "Training with the DataLoader", tables["transfer_settings"], highlight="best"),
            Table("pipeline", "The input pipeline alone (no model)", tables["pipeline"], highlight="best"),
        ), _figures(figures, Figure(TRANSFER_PNG, "DataLoader settings as grouped bars"))),
        Section("crossover", "Crossover: where the GPU starts to win", (
            *(crossover_lines or [f"Needs CPU and GPU training rows from the same machine; "
                                  f"{'these runs have' if several else 'this run has'} "
                                  f"{' and '.join(DEVICE_NAME.get(d, d) for d in devices) or 'no'} rows only."]),
            "GPU speedup = best GPU samples/s ÷ best CPU samples/s for the same model, pipeline and batch size "
            f"(a side wins when at least {times(1.1)} faster; data resident on the GPU includes its CUDA-graph variant).",
        ), tables_of(Table("crossover", "GPU speedup over the CPU", tables["crossover"]))),
        Section("bandwidth", "Host→device bandwidth", (
            ("Copies of one batch and of a large block, pinned vs pageable, against the PCIe link's theoretical "
             "maximum per direction (from its generation and width).") if not tables["bandwidth"].empty else
            "No host→device copies were measured: they need a CUDA GPU.",
        ), tables_of(Table("bandwidth", "Host→device copies", tables["bandwidth"], hide=("noisy",))),
            _figures(figures, Figure(BANDWIDTH_PNG, "Host→device GB/s vs copy size with the PCIe limit"))),
        Section("gpu", "GPU utilisation, memory and power", (
            ("NVML readings over each GPU configuration's timed rounds (None where the GPU does not report one)."
             if not tables["telemetry"].empty else
             "No GPU rows: NVML telemetry is recorded only for CUDA configurations."),
        ), tables_of(Table("telemetry", "GPU telemetry per configuration", tables["telemetry"], highlight="reference"))),
        Section("accuracy", "Time to accuracy", (
            ("Seconds of training (validation included) until the validation accuracy reached the target."
             if not tables["accuracy"].empty else "No time-to-accuracy rows in this run."),
        ), tables_of(Table("accuracy", "Time to accuracy", tables["accuracy"]))),
        Section("noise", "Noise", (
            f"Rounds per row and the spread of their numbers (IQR/median); rows above {NOISE_LIMIT_PCT:.0f}% are "
            "flagged: differences smaller than their spread are not real. The suite's own overhead is measured "
            "against a bare loop in the same process.",
        ), tables_of(
            Table("noise", "Spread per row", tables["noise"], highlight="noisy"),
            Table("overhead", "Suite overhead", tables["overhead"]),
        )),
    ]
    if several:
        sections.append(Section("machines", "Side by side", (
            "Every benchmark id with its number on each machine (samples/s; GB/s for copies).",
        ), tables_of(Table("side_by_side", "Side by side by hardware", tables["side_by_side"]))))
    title = f"mnist-bench report: {' vs '.join(labels)}"
    return Report(title=title, banner=banner(runs), sections=tuple(sections), findings=tuple(findings))
