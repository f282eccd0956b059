"""A Report as Markdown and as HTML: strings only, no files.

report.html is one self-contained file: its plots are embedded (SVG data: URIs), so it works when downloaded
alone (from Colab, say). It reads from 390 px (a phone) to 1400 px without scrolling sideways: a cell wraps
between its number, its interval and its verdict, never inside one; on narrow screens tables are stacked
(STACKED: one card per row, each cell under its column's label) and each plot swaps to its narrow layout.
Long tables are folded away (<details>). report.md links the PNGs beside it.
"""

from __future__ import annotations

import base64
import html
import re

from mnist_core.report.formatting import column_label, display_rows, format_cell, right_aligned, tutorial_cell
from mnist_core.report.model import Figure, Finding, Report, Section, Table


def highlighted(table: Table) -> list[bool]:
    if table.highlight is None or table.highlight not in table.frame:
        return [False] * len(table.frame)
    return [bool(value) for value in table.frame[table.highlight]]


def pivot_rows(table: Table) -> tuple[list[str], list[list[str]], list[list[bool]]]:
    """(labels, rows of cells, bold flags) of a pivoted table: one row per index, one column per value of the
    pivot column. The tutorial's own cell reads as such; the best cell of a column is bold."""
    index, across, value = table.pivot
    frame = table.frame
    index = [column for column in index if column not in table.hide]
    columns = sorted(frame[across].dropna().unique())
    labels = [column_label(column) for column in index] + [f"{column_label(across)} {item}" for item in columns]
    rows, bold = [], []
    for key, group in frame.groupby(index, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cells, flags = [str(part) for part in key], [False] * len(key)
        for item in columns:
            match = group[group[across] == item]
            if match.empty:
                cells.append("")
                flags.append(False)
                continue
            record = match.iloc[0].to_dict()
            if record.get("reference"):
                cells.append(tutorial_cell(record))
            else:
                cells.append(format_cell(value, record[value], record) + (" ★" if record.get("best") else ""))
            flags.append(bool(record.get("best")))
        rows.append(cells)
        bold.append(flags)
    return labels, rows, bold


def _cells(table: Table) -> tuple[list[str], list[list[str]], list[list[bool]], list[bool]]:
    """(labels, rows, bold per cell, right-aligned per column) for any table."""
    if table.pivot is not None:
        labels, rows, bold = pivot_rows(table)
        width = len(table.pivot[0]) - sum(column in table.hide for column in table.pivot[0])
        return labels, rows, bold, [False] * width + [True] * (len(labels) - width)
    columns, labels, rows = display_rows(table.frame, table.hide)
    flags = highlighted(table)
    return labels, rows, [[flag] * len(columns) for flag in flags], [right_aligned(table.frame, c) for c in columns]


# Markdown -------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(table: Table) -> str:
    labels, rows, bold, right = _cells(table)
    lines = ["| " + " | ".join(_md_cell(label) for label in labels) + " |",
             "| " + " | ".join("---:" if flag else "---" for flag in right) + " |"]
    for cells, flags in zip(rows, bold):
        lines.append("| " + " | ".join(f"**{_md_cell(cell)}**" if flag and cell else _md_cell(cell)
                                       for cell, flag in zip(cells, flags)) + " |")
    return "\n".join(lines)


def github_anchor(title: str) -> str:
    """The anchor GitHub (and most Markdown viewers) give a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _md_section(section: Section) -> list[str]:
    parts = [f"## {section.title}", *section.paragraphs]
    for table in section.tables:
        body = markdown_table(table) + (f"\n\n{table.note}" if table.note else "")
        anchor = f'<a id="{table.anchor}"></a>'
        if table.collapsed:
            parts.append(f"<details><summary>{anchor}{table.title} ({len(table.frame)} rows)</summary>\n\n{body}\n\n"
                         "</details>")
        else:
            parts += [f"{anchor}**{table.title}**", body]
    parts += [f"![{figure.caption}]({figure.filename})" for figure in section.figures]
    return parts


def _md_answer(report: Report) -> list[str]:
    parts = ["## The answer"]
    for answer in report.answers:
        if len(report.answers) > 1:
            parts.append(f"**{answer.machine}**")
        parts.append("\n".join(f"- {line}" for line in answer.lines))
    return parts


def linked_tables(report: Report, finding: Finding) -> list[Table]:
    """The tables a finding draws its numbers from, those of them this report has."""
    return [report.table(key) for key in finding.tables if report.has_table(key)]


def _md_finding(report: Report, finding: Finding) -> str:
    links = ", ".join(f"[{table.title}](#{table.anchor})" for table in linked_tables(report, finding))
    return finding.text + (f" ({links})" if links else "")


def to_markdown(report: Report) -> str:
    parts = [f"# {report.title}", "\n".join(f"{line}  " for line in report.status), *_md_answer(report)]
    if report.findings:
        parts += ["## Findings", "\n".join(f"{index}. {_md_finding(report, finding)}"
                                           for index, finding in enumerate(report.findings, 1))]
    parts.append("Sections: " + " · ".join(f"[{section.title}](#{github_anchor(section.title)})"
                                          for section in report.sections))
    for section in report.sections:
        parts.extend(_md_section(section))
    return "\n\n".join(parts) + "\n"


# HTML -----------------------------------------------------------------------------------------
STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2rem auto; max-width: 1180px;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.45rem; margin: 0 0 .3rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem;
margin-top: 2rem; font-size: 1.2rem; } h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.status { color: #555; font-size: .85rem; margin: 0 0 .8rem; } .status .partial { color: #b2182b; font-weight: 600; }
.answer { background: #f3f8fc; border: 1px solid #c6dbef; border-left: 5px solid #2171b5; border-radius: 4px;
          padding: .3rem 1.1rem .6rem; }
.answer h2 { border: 0; margin: .4rem 0 .2rem; font-size: 1.15rem; } .answer h3 { margin: .5rem 0 .1rem; }
.answer ul { margin: .2rem 0; padding-left: 1.2rem; } .answer li { margin: .25rem 0; }
nav { font-size: .85rem; margin: .8rem 0; } nav a { margin-right: .8rem; white-space: nowrap; }
.table { overflow-x: auto; max-width: 100%; margin: .3rem 0 1rem; }
table { border-collapse: collapse; font-size: .82rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
th { background: #f4f6f8; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.hl { font-weight: bold; background: #fff6d5; }
details { margin: .4rem 0 1rem; } summary { cursor: pointer; font-weight: 600; }
figure { margin: 1rem 0; } figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
ol li { margin-bottom: .35rem; } .src { color: #555; font-size: .85rem; }
@media (max-width: 900px) { body { padding: 0 .5rem; } table { font-size: .78rem; } }
"""
# A stacked table: one card per row, each cell under its column's label. Every table is stacked at NARROW_PX
# and below; a table of MANY_COLUMNS or more already below MANY_COLUMNS_PX, where its columns stop fitting.
STACKED = """
  body { overflow-wrap: anywhere; }
  T table, T tbody, T tr { display: block; width: 100%; }
  T thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  T tr { border: 1px solid #ccc; border-radius: 4px; margin: 0 0 .5rem; }
  T td { display: grid; grid-template-columns: minmax(4.5rem, 35%) 1fr; gap: .6rem; border: 0;
         border-top: 1px solid #eee; text-align: left; }
  T td:first-child { border-top: 0; } T td.num { text-align: left; } T td.blank { display: none; }
  T td::before { content: attr(data-label); color: #555; font-weight: 600; }
"""
NARROW_PX = 700
MANY_COLUMNS, MANY_COLUMNS_PX = 9, 1000
PLOT_NARROW_PX = 900  # below this the wide plots' smallest text would fall under 9 CSS px: the narrow layout
STYLE += "".join(f"@media (max-width: {width}px) {{{STACKED.replace('T ', selector + ' ')}}}\n"
                 for width, selector in ((MANY_COLUMNS_PX, ".table.many"), (NARROW_PX, ".table")))
_LONG_WORD = re.compile(r"[^\s<>&;]{20,}")  # after escaping: no tag or entity is split
_GROUP = re.compile(r"\[[^\]]*\]|[▲▼=?] \w+")  # an interval or a verdict: shown whole, never split over lines


def _cell_html(cell: str) -> str:
    """The cell with its interval and its verdict each held on one line (the line may break between them),
    and a long word (a benchmark id) free to break after its / and - rather than widen the table."""
    held = _GROUP.sub(lambda match: match.group(0).replace(" ", "\u00a0"), cell)
    return _LONG_WORD.sub(lambda match: re.sub(r"([/\-])", r"\1<wbr>", match.group(0)), html.escape(held))


def _td(cell: str, bold: bool, number: bool, label: str) -> str:
    classes = " ".join(name for name, on in (("num", number), ("hl", bold), ("blank", not cell.strip())) if on)
    return (f'<td data-label="{html.escape(label)}"' + (f' class="{classes}">' if classes else ">")
            + f"{_cell_html(cell)}</td>")


def html_table(table: Table) -> str:
    labels, rows, bold, right = _cells(table)
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    body = ["<tr>" + "".join(_td(cell, flag, is_right, label)
                             for cell, flag, is_right, label in zip(cells, flags, right, labels)) + "</tr>"
            for cells, flags in zip(rows, bold)]
    many = " many" if len(labels) >= MANY_COLUMNS else ""
    return (f'<div class="table{many}"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _html_figure(figure: Figure) -> str:
    """The plot's vector layouts: the narrow one on a phone-sized screen, the wide one elsewhere."""
    narrow = (f'<source media="(max-width: {PLOT_NARROW_PX - 1}px)" srcset="{_svg_uri(figure.svg_narrow)}">'
              if figure.svg_narrow else "")
    return (f'<figure><picture>{narrow}<img src="{_svg_uri(figure.svg)}" alt="{html.escape(figure.caption)}">'
            f"</picture><figcaption>{html.escape(figure.caption)}</figcaption></figure>")


def _html_section(section: Section) -> str:
    parts = [f'<section id="{html.escape(section.key)}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs]
    for table in section.tables:
        body = html_table(table) + (f"<p>{html.escape(table.note)}</p>" if table.note else "")
        anchor = html.escape(table.anchor)
        if table.collapsed:
            parts.append(f'<details id="{anchor}"><summary>{html.escape(table.title)} ({len(table.frame)} rows)'
                         f"</summary>{body}</details>")
        else:
            parts.append(f'<h3 id="{anchor}">{html.escape(table.title)}</h3>{body}')
    parts += [_html_figure(figure) for figure in section.figures]
    parts.append("</section>")
    return "\n".join(parts)


def _html_answer(report: Report) -> str:
    parts = ['<section id="answer" class="answer"><h2>The answer</h2>']
    for answer in report.answers:
        if len(report.answers) > 1:
            parts.append(f"<h3>{html.escape(answer.machine)}</h3>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in answer.lines) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _html_status(report: Report) -> str:
    lines = []
    for line in report.status:
        text = html.escape(line)
        lines.append(text.replace("PARTIAL", '<span class="partial">PARTIAL</span>', 1))
    return f'<p class="status">{"<br>".join(lines)}</p>'


def _html_finding(report: Report, finding: Finding) -> str:
    links = ", ".join(f'<a href="#{html.escape(table.anchor)}">{html.escape(table.title)}</a>'
                      for table in linked_tables(report, finding))
    return html.escape(finding.text) + (f' <span class="src">({links})</span>' if links else "")


def to_html(report: Report) -> str:
    findings = ""
    if report.findings:
        items = "".join(f"<li>{_html_finding(report, finding)}</li>" for finding in report.findings)
        findings = f'<section id="findings"><h2>Findings</h2><ol>{items}</ol></section>'
    nav = " ".join(f'<a href="#{html.escape(section.key)}">{html.escape(section.title)}</a>'
                   for section in report.sections)
    body = "\n".join(_html_section(section) for section in report.sections)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(report.title)}</h1>\n{_html_status(report)}\n{_html_answer(report)}\n{findings}\n"
            f"<nav>{nav}</nav>\n{body}\n</body>\n</html>\n")

