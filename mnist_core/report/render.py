"""A Report as Markdown and as HTML: strings only, no files. Images are relative paths to the
PNGs beside report.md/report.html, so the folder opens in a browser with its plots."""

from __future__ import annotations

import html
import re

from mnist_core.report.formatting import display_rows, right_aligned
from mnist_core.report.model import Finding, Report, Section, Table


def highlighted(table: Table) -> list[bool]:
    if table.highlight is None or table.highlight not in table.frame:
        return [False] * len(table.frame)
    return [value is True or (hasattr(value, "item") and value.item() is True) for value in table.frame[table.highlight]]


def _table_title(report: Report, finding: Finding) -> str:
    try:
        return report.table(finding.table).title
    except StopIteration:
        return finding.table


# Markdown -------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(table: Table) -> str:
    columns, labels, rows = display_rows(table.frame, table.hide)
    lines = ["| " + " | ".join(_md_cell(label) for label in labels) + " |",
             "| " + " | ".join("---:" if right_aligned(table.frame, column) else "---" for column in columns) + " |"]
    for cells, bold in zip(rows, highlighted(table)):
        cells = [_md_cell(cell) for cell in cells]
        if bold:
            cells = [f"**{cell}**" if cell else cell for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def github_anchor(title: str) -> str:
    """The anchor GitHub (and most Markdown viewers) give a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _md_finding(report: Report, finding: Finding) -> str:
    section = report.section(finding.section)
    where = f"[{section.title}](#{github_anchor(section.title)}) › {_table_title(report, finding)} › `{finding.row}`"
    return f"{finding.text} *({where})*"


def _md_section(report: Report, section: Section) -> list[str]:
    parts = [f"## {section.title}"]
    if section.key == "findings":
        items = [f"{index}. {_md_finding(report, finding)}" for index, finding in enumerate(report.findings, 1)]
        parts.append("\n".join(items) if items else "No findings: the run has too few rows to compare.")
    parts.extend(section.paragraphs)
    for table in section.tables:
        parts.append(f"**{table.title}**")
        parts.append(markdown_table(table))
        if table.note:
            parts.append(table.note)
    parts.extend(f"![{figure.caption}]({figure.filename})" for figure in section.figures)
    return parts


def to_markdown(report: Report) -> str:
    parts = [f"# {report.title}", "\n".join(f"> {line}  " for line in report.banner),
             "Sections: " + " · ".join(f"[{section.title}](#{github_anchor(section.title)})"
                                       for section in report.sections)]
    for section in report.sections:
        parts.extend(_md_section(report, section))
    return "\n\n".join(parts) + "\n"


# HTML -----------------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1rem; margin-bottom: .4rem; }
.banner { background: #f4f6f8; border-left: 4px solid #2171b5; padding: .5rem 1rem; }
.banner.partial { border-left-color: #d62728; background: #fdecea; }
nav a { margin-right: .8rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .3rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; }
th { background: #f4f6f8; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.hl td { font-weight: bold; background: #fff6d5; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; } .src { color: #555; font-size: .85rem; }
ol li { margin-bottom: .3rem; }
"""


def html_table(table: Table) -> str:
    columns, labels, rows = display_rows(table.frame, table.hide)
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    body = []
    for cells, bold in zip(rows, highlighted(table)):
        tds = "".join(f'<td class="num">{html.escape(cell)}</td>' if right_aligned(table.frame, column)
                      else f"<td>{html.escape(cell)}</td>" for column, cell in zip(columns, cells))
        body.append(f'<tr class="hl">{tds}</tr>' if bold else f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_finding(report: Report, finding: Finding) -> str:
    section = report.section(finding.section)
    source = (f'<a href="#{html.escape(section.key)}">{html.escape(section.title)}</a> › '
              f"{html.escape(_table_title(report, finding))} › <code>{html.escape(finding.row)}</code>")
    return f'<li>{html.escape(finding.text)} <span class="src">({source})</span></li>'


def _html_section(report: Report, section: Section) -> str:
    parts = [f'<section id="{html.escape(section.key)}">', f"<h2>{html.escape(section.title)}</h2>"]
    if section.key == "findings":
        items = [_html_finding(report, finding) for finding in report.findings]
        parts.append(f"<ol>{''.join(items)}</ol>" if items else "<p>No findings: the run has too few rows to compare.</p>")
    parts.extend(f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs)
    for table in section.tables:
        parts.append(f"<h3>{html.escape(table.title)}</h3>")
        parts.append(html_table(table))
        if table.note:
            parts.append(f"<p>{html.escape(table.note)}</p>")
    for figure in section.figures:
        parts.append(f'<figure><img src="{html.escape(figure.filename)}" alt="{html.escape(figure.caption)}">'
                     f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def to_html(report: Report) -> str:
    partial = any("PARTIAL" in line for line in report.banner)
    banner = "<br>".join(html.escape(line) for line in report.banner)
    nav = " ".join(f'<a href="#{html.escape(section.key)}">{html.escape(section.title)}</a>'
                   for section in report.sections)
    body = "\n".join(_html_section(report, section) for section in report.sections)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(report.title)}</h1>\n"
            f'<div class="banner{" partial" if partial else ""}">{banner}</div>\n<nav>{nav}</nav>\n{body}\n'
            "</body>\n</html>\n")
