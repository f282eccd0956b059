"""The report's summary tables for the terminal, with rich: the headline tables, narrowed to the
columns that fit a terminal, then the findings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from mnist_core.report.formatting import display_rows, right_aligned
from mnist_core.report.model import Report, Table
from mnist_core.report.render import highlighted

# table key -> the columns worth a terminal's width (the files have them all)
CONSOLE_COLUMNS = {
    "cpu_vs_gpu": ("machine", "configuration", "cpu_samples_per_s", "cpu_epoch_s", "gpu_samples_per_s", "gpu_epoch_s",
                   "gpu_speedup"),
    "headline": ("machine", "device", "reference_samples_per_s", "fastest_id", "fastest_samples_per_s",
                 "speedup_vs_reference"),
    "targets": ("machine", "device", "ratio", "measured_x", "target_x", "status"),
    "transfer_settings": ("machine", "device", "batch_size", "num_workers", "pin_memory", "non_blocking",
                          "samples_per_s", "delta_vs_reference_pct", "best"),
    "crossover": ("machine", "model", "pipeline", "batch_size", "cpu_samples_per_s", "gpu_samples_per_s",
                  "gpu_speedup", "faster"),
    "bandwidth": ("machine", "id", "bytes", "gb_s", "pcie_pct"),
}


def rich_table(table: Table, columns: tuple[str, ...] | None = None) -> RichTable:
    hide = table.hide
    if columns is not None:
        hide = hide + tuple(column for column in table.frame.columns if column not in columns)
    names, labels, rows = display_rows(table.frame, hide)
    out = RichTable(title=table.title, title_justify="left")
    for column, label in zip(names, labels):
        out.add_column(label, justify="right" if right_aligned(table.frame, column) else "left")
    for cells, bold in zip(rows, highlighted(table)):
        out.add_row(*cells, style="bold" if bold else None)
    return out


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    console.print(report.title, style="bold", markup=False, highlight=False)
    for line in report.banner:
        console.print(line, style="bold red" if "PARTIAL" in line else None, markup=False, highlight=False,
                      soft_wrap=True)
    for section in report.sections:
        for table in section.tables:
            if table.key in CONSOLE_COLUMNS:
                console.print(rich_table(table, CONSOLE_COLUMNS[table.key]))
    if report.findings:
        console.print("Findings", style="bold", markup=False)
        for index, finding in enumerate(report.findings, 1):
            console.print(f"{index}. {finding.text}", markup=False, highlight=False)
