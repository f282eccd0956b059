"""The report in a terminal (`mnist-bench report`), with rich: status, the answer, findings, and the two
tables that answer the user's questions (GPU vs CPU, DataLoader settings)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from mnist_core.report.model import Report, Table
from mnist_core.report.render import _cells

CONSOLE_TABLES = ("cpu_vs_gpu", "settings")


def rich_table(table: Table) -> RichTable:
    labels, rows, bold, right = _cells(table)
    out = RichTable(title=table.title, title_justify="left")
    for label, is_right in zip(labels, right):
        out.add_column(label, justify="right" if is_right else "left", overflow="fold")
    for cells, flags in zip(rows, bold):
        out.add_row(*cells, style="bold" if any(flags) and table.pivot is None else None)
    return out


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()

    def say(text: str, style: str | None = None) -> None:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    say(report.title, "bold")
    for line in report.status:
        say(line, "bold red" if "PARTIAL" in line else "dim")
    for section in report.sections:
        for table in section.tables:
            if table.key in CONSOLE_TABLES:
                console.print(rich_table(table))
    if report.findings:
        say("Findings", "bold")
        for index, finding in enumerate(report.findings, 1):
            say(f"{index}. {finding.text}")
    say("The answer", "bold")
    for answer in report.answers:
        if len(report.answers) > 1:
            say(answer.machine, "bold")
        for line in answer.lines:
            say(f"- {line}")
