"""The CPU-vs-GPU report: tables, findings, plots, Markdown/HTML and the pandas API for notebooks.

    from mnist_core.report import report_frame, report_tables, write_report
    frame = report_frame("results/run-....json")          # one tidy row per benchmark
    tables = report_tables(frame)                          # dict of DataFrames, one per report table
    write_report(["results/run-....json"], "results/my-report")

One concern per module: inputs (load and check runs), results (tidy frame, CSV), tables
(DataFrames), findings (sentences from tables), plots (PNG figures), sections (the Report
model in reading order), render (Markdown, HTML), console (rich), writer (the folder).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from mnist_core.report import findings as _findings
from mnist_core.report import plots as _plots
from mnist_core.report import tables as _tables
from mnist_core.report.inputs import RunInput, load_runs
from mnist_core.report.model import Finding, Report
from mnist_core.report.render import to_html, to_markdown
from mnist_core.report.results import csv_text, tidy_frame
from mnist_core.report.sections import build_report as _build_report
from mnist_core.report.writer import CSV, HTML, MARKDOWN, REPORT_FILES, ReportWriteError, WrittenReport, check_out_dir, write_files


def report_frame(*paths: str | Path) -> pd.DataFrame:
    """One tidy row per benchmark of one or more runs (the rows of results.csv), with `machine`,
    `id`, `epoch_s` and `iqr_pct` added. Raises RunFileError for a file that is not a usable run."""
    return tidy_frame(load_runs(paths))


def report_tables(frame_or_paths: pd.DataFrame | str | Path, *more_paths: str | Path) -> dict[str, pd.DataFrame]:
    """Each report table as a DataFrame of raw numbers: headline, cpu_vs_gpu, targets, transfer_settings,
    pipeline, crossover, bandwidth, telemetry, accuracy, noise, overhead, side_by_side."""
    frame = frame_or_paths if isinstance(frame_or_paths, pd.DataFrame) else report_frame(frame_or_paths, *more_paths)
    return _tables.frame_tables(frame)


def build_report(runs: list[RunInput]) -> tuple[Report, pd.DataFrame, dict]:
    """The Report model, its tidy frame and its figures (filename -> matplotlib Figure), nothing written."""
    frame = tidy_frame(runs)
    tables = _tables.frame_tables(frame)
    figures = _plots.draw_all(frame, tables)
    report = _build_report(runs, sorted(set(frame["device"].dropna())), tables, _tables.environment_table(runs),
                           _tables.outcome_table(runs), _findings.all_findings(tables), figures)
    return report, frame, figures


def write_report(run_paths, out_dir: str | Path, force: bool = False) -> WrittenReport:
    """Write out_dir/report.md, report.html, results.csv and the PNG plots for `run_paths`.

    Every run is checked first (RunFileError: not a run, empty, all failed, newer format);
    an existing report is never replaced unless `force` (OutputExistsError)."""
    out_dir = Path(out_dir)
    runs = load_runs(run_paths)
    check_out_dir(out_dir, force)
    report, frame, figures = build_report(runs)
    texts = {MARKDOWN: to_markdown(report), HTML: to_html(report), CSV: csv_text(frame)}
    written = write_files(out_dir, texts, figures, force)
    return replace(written, report=report)


__all__ = ["CSV", "Finding", "HTML", "MARKDOWN", "REPORT_FILES", "Report", "ReportWriteError", "RunInput",
           "WrittenReport", "build_report", "load_runs", "report_frame", "report_tables", "to_html", "to_markdown",
           "write_report"]
