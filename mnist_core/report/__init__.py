"""The CPU-vs-GPU report: the answer, findings, tables, plots, Markdown/HTML and the pandas API for notebooks.

    from mnist_core.report import report_frame, report_tables, write_report
    frame = report_frame("results/run-....json")           # one tidy row per benchmark (results.csv)
    tables = report_tables("results/run-....json")         # dict of DataFrames, one per report table
    write_report(["results/run-....json"], "results/my-report")

One concern per module: inputs (read and label runs), analysis (every verdict the report states),
answer (the answer block), findings, tables (DataFrames), plots (PNG figures with intervals),
sections (the Report model in reading order), render (Markdown, self-contained HTML), console (rich),
writer (the folder, written whole).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from mnist_core.report import plots as _plots
from mnist_core.report import tables as _tables
from mnist_core.report.inputs import RunInput, load_runs
from mnist_core.report.model import Finding, Report
from mnist_core.report.render import to_html, to_markdown
from mnist_core.report.sections import build_report as _build_report
from mnist_core.report.writer import CSV, HTML, MARKDOWN, REPORT_FILES, ReportWriteError, WrittenReport, check_out_dir, write_files
from mnist_core.runs.frame import csv_text, run_frame


def report_frame(*paths: str | Path) -> pd.DataFrame:
    """One tidy row per usable benchmark of one or more runs (the rows of results.csv), labelled by machine.
    Raises RunFileError for a file that is not a usable run."""
    runs = load_runs(paths)
    return pd.concat([run_frame(run.run, run.label) for run in runs], ignore_index=True)


def report_tables(*paths: str | Path) -> dict[str, pd.DataFrame]:
    """Each report table as a DataFrame of raw numbers (see tables.TABLES), for one or more runs."""
    return _tables.report_tables(load_runs(paths))


def build_report(runs: list[RunInput]) -> tuple[Report, pd.DataFrame, dict[str, _plots.Drawing]]:
    """The Report model, its tidy frame and its plots (filename -> Drawing: PNG and SVG), nothing written."""
    tables = _tables.report_tables(runs)
    figures = _plots.draw_all(tables)
    frame = pd.concat([run_frame(run.run, run.label) for run in runs], ignore_index=True)
    return _build_report(runs, tables, figures), frame, figures


def write_report(run_paths, out_dir: str | Path, force: bool = False) -> WrittenReport:
    """Write out_dir/report.md, report.html (self-contained), results.csv and the PNG plots for `run_paths`.

    Every run is checked first (RunFileError: not a run, empty, all failed, newer format);
    an existing report is never replaced unless `force` (OutputExistsError)."""
    out_dir = Path(out_dir)
    runs = load_runs(run_paths)
    check_out_dir(out_dir, force)
    return write_inputs(runs, out_dir, force)


def write_inputs(runs: list[RunInput], out_dir: Path, force: bool = False) -> WrittenReport:
    """The report files of runs already loaded (a session's run held in memory, or files read by write_report)."""
    report, frame, figures = build_report(runs)
    texts = {MARKDOWN: to_markdown(report), HTML: to_html(report), CSV: csv_text(frame)}
    written = write_files(out_dir, texts, {name: drawing.png for name, drawing in figures.items()}, force)
    return replace(written, report=report)


__all__ = ["CSV", "Finding", "HTML", "MARKDOWN", "REPORT_FILES", "Report", "ReportWriteError", "RunInput",
           "WrittenReport", "build_report", "load_runs", "report_frame", "report_tables", "to_html", "to_markdown",
           "write_inputs", "write_report"]
