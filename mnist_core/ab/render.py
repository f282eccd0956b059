"""How an ab session reads: the answer first, then one table row per benchmark row, for the terminal and Markdown.

Each row shows the median block rate of each side over the same paired blocks, and the change: the
Hodges-Lehmann centre of the pairs' block ratios (current / baseline) with its exact 95% interval. The change
is not the ratio of the two medians shown; it is recomputed from the blocks in the ab-run file (`blocks`:
pair by pair, `rate` per block) with measure/effect.py's `paired`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from mnist_core.ab.analysis import RowResult
from mnist_core.measure.effect import FASTER, INCONCLUSIVE, SAME, SLOWER
from mnist_core.regress.render import VERDICT_STYLES
from mnist_core.report.formatting import rate

COLUMNS = ("row", "pairs", "baseline samples/s", "current samples/s", "change [95% interval]", "verdict")
HOW = ("samples/s: median block rate of each side over the paired blocks; change: Hodges-Lehmann centre of the "
       "pairs' block ratios, current / baseline, with its exact 95% interval (recomputable from the blocks in the "
       "ab-run file)")


def answer_lines(results: Sequence[RowResult], threshold_pct: float) -> list[str]:
    """One line per verdict that occurred, slower first."""
    if not results:
        return ["no row has a complete pair of blocks: nothing to compare"]
    lines = [f"current vs baseline, {len(results)} rows, threshold ±{threshold_pct:g}%:"]
    for label in (SLOWER, FASTER, SAME, INCONCLUSIVE):
        rows = [result for result in results if result.verdict.label == label]
        if not rows:
            continue
        if label in (SLOWER, FASTER):
            named = "; ".join(f"{result.row} {result.verdict.why}" for result in rows)
            lines.append(f"  {len(rows)} {label}: {named}")
        else:
            lines.append(f"  {len(rows)} {label}")
    if not any(result.verdict.label == SLOWER for result in results):
        lines.append("  no row is slower")
    return lines


def _cells(result: RowResult) -> list[str]:
    return [result.row, str(result.pairs), rate(result.baseline_median), rate(result.current_median),
            result.verdict.why, result.verdict.label]


def ab_table(results: Sequence[RowResult], title: str = "mnist-bench ab") -> Table:
    table = Table(title=f"{title}: current vs baseline, higher samples/s is better", caption=HOW)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("row", "verdict") else "right", overflow="fold")
    for result in results:
        *cells, label = _cells(result)
        table.add_row(*cells, Text(label, style=VERDICT_STYLES.get(label, "")))
    return table


def markdown_table(results: Sequence[RowResult]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(" --- " for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(_cells(result)) + " |" for result in results]
    return lines
