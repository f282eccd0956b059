"""What a report is, independent of how it is rendered: the answer, findings, sections of tables and figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Table:
    """One table of a section. `frame` keeps raw numbers; rendering formats them by column name.

    `highlight` names a boolean column: rows where it is true are shown in bold (the best setting,
    the tutorial's row). `hide` columns steer rendering but are not shown. `pivot` shows a long table
    across one column (index columns, the column whose values become columns, the column shown in the
    cells). A `collapsed` table is folded away (HTML <details>) behind its title.
    """

    key: str
    title: str
    frame: pd.DataFrame
    highlight: str | None = None
    hide: tuple[str, ...] = ()
    note: str | None = None
    pivot: tuple[tuple[str, ...], str, str] | None = None
    collapsed: bool = False

    @property
    def anchor(self) -> str:
        """Its HTML id, which findings link to; prefixed, as some table keys are also section keys."""
        return "table-" + self.key.replace("_", "-")


@dataclass(frozen=True)
class Figure:
    filename: str  # the PNG beside report.md
    caption: str
    png: bytes = field(default=b"", repr=False)
    svg: str = field(default="", repr=False)  # the same plot as vector, which report.html embeds
    svg_narrow: str = field(default="", repr=False)  # its layout for a phone


@dataclass(frozen=True)
class Finding:
    """A sentence derived from the numbers, and the tables that print every number in it."""

    text: str
    tables: tuple[str, ...]  # Table.key of each
    configs: tuple = ()  # the BenchConfig of every row whose numbers it quotes: the text names each by its label


@dataclass(frozen=True)
class Section:
    key: str  # also the HTML anchor
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The answer block of one machine: the lines the report opens with and the terminal ends with."""

    machine: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    title: str
    status: tuple[str, ...]  # one short line per run: file, profile, date, complete or PARTIAL
    answers: tuple[Answer, ...]
    findings: tuple[Finding, ...]
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def table(self, key: str) -> Table:
        return next(table for section in self.sections for table in section.tables if table.key == key)

    def has_table(self, key: str) -> bool:
        return any(table.key == key for section in self.sections for table in section.tables)

    def has_section(self, key: str) -> bool:
        return any(section.key == key for section in self.sections)
