"""What a report is, independent of how it is rendered: sections of tables, figures, findings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Table:
    """One table of a section. `frame` keeps raw numbers; rendering formats them by column name.

    `highlight` names a boolean column: rows where it is true are shown in bold (the best
    setting, the reference row). `hide` columns steer rendering but are not shown.
    """

    key: str
    title: str
    frame: pd.DataFrame
    highlight: str | None = None
    hide: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Figure:
    filename: str  # relative to the report folder
    caption: str


@dataclass(frozen=True)
class Finding:
    """A sentence derived from the numbers, with the table row it comes from."""

    text: str
    section: str  # Section.key the row is in
    table: str  # Table.key
    row: str  # the row's benchmark id (or the row label), prefixed by the machine when several


@dataclass(frozen=True)
class Section:
    key: str  # also the HTML anchor
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    banner: tuple[str, ...]  # lines shown above everything: runs, partial or not
    sections: tuple[Section, ...]
    findings: tuple[Finding, ...] = field(default=())

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def table(self, key: str) -> Table:
        return next(table for section in self.sections for table in section.tables if table.key == key)
