"""Rendering comparisons and rule results: rich tables and plain lines. Returns them; prints nothing."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from mnist_core.regress.comparison import Comparison
from mnist_core.regress.rules import HOLDS, NOT_APPLICABLE, VIOLATED, RuleResult
from mnist_core.regress.verdicts import IMPROVED, MISSING, NEW, REGRESSED

VERDICT_STYLES = {REGRESSED: "bold red", IMPROVED: "green", NEW: "cyan", MISSING: "yellow"}
RULE_STYLES = {VIOLATED: "bold red", HOLDS: "green", NOT_APPLICABLE: "dim"}


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _rounds(measured) -> str:
    return "-" if measured is None else f"{_number(measured.median)} ({len(measured.rounds)})"


def comparison_table(comparison: Comparison, title: str = "mnist-bench compare") -> Table:
    table = Table(title=f"{title}: median over rounds (rounds), higher is better; "
                        f"threshold ±{comparison.threshold_pct:g}%")
    for column, justify in (("configuration", "left"), ("unit", "left"), ("baseline", "right"),
                            ("current", "right"), ("Δ%", "right"), ("verdict", "left"), ("p", "right"),
                            ("note", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in comparison.rows:
        judgement = row.judgement
        delta = "-" if judgement.delta_pct is None else f"{judgement.delta_pct:+.1f}%"
        p_value = "-" if judgement.p_value is None else f"{judgement.p_value:.3f}"
        table.add_row(row.measured.name, row.measured.unit, _rounds(row.baseline), _rounds(row.current), delta,
                      Text(row.verdict, style=VERDICT_STYLES.get(row.verdict, "")), p_value, judgement.note)
    return table


def comparison_lines(comparison: Comparison) -> list[str]:
    """What a reader must know beside the table: partial runs, hardware differences, rows left out."""
    lines = []
    if comparison.key_differences:
        lines.append(f"warning: different hardware keys ({'; '.join(comparison.key_differences)}): "
                     "compared anyway (--allow-hardware-mismatch)")
    for name, partial in (("baseline", comparison.baseline_partial), ("current run", comparison.current_partial)):
        if partial:
            lines.append(f"note: the {name} is PARTIAL (interrupted): only its completed benchmarks are compared")
    if comparison.not_compared:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(comparison.not_compared.items()))
        lines.append(f"not compared: {kinds} (one timed run each: no rounds to tell a change from noise)")
    shift = comparison.shared_shift_pct()
    if shift is not None:
        lines.append(f"note: every benchmark moved the same way (median {shift:+.0f}%): the whole machine may have "
                     "been slower or faster (other load, clocks, power); rerun both on a quiet machine to confirm")
    regressed = comparison.regressed
    verdict = (f"REGRESSION: {len(regressed)} slower by more than {comparison.threshold_pct:g}% beyond noise: "
               + ", ".join(row.measured.name for row in regressed)) if regressed else "no regression"
    lines.append(f"{comparison.summary()}; {verdict}")
    return lines


def rules_table(results: list[RuleResult], threshold_pct: float) -> Table:
    table = Table(title=f"mnist-bench setting rules (this run; threshold ±{threshold_pct:g}%)")
    for column, justify in (("rule", "left"), ("favoured setting", "left"), ("other setting", "left"),
                            ("favoured", "right"), ("other", "right"), ("unit", "left"), ("ratio", "right"),
                            ("outcome", "left"), ("note", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for result in results:
        if not result.pairs:
            table.add_row(result.rule, "-", "-", "-", "-", "-", "-",
                          Text(result.outcome, style=RULE_STYLES[NOT_APPLICABLE]), result.reason)
        for pair in result.pairs:
            table.add_row(result.rule, pair.favoured.name, pair.other.name, _number(pair.favoured.median),
                          _number(pair.other.median), pair.favoured.unit, f"{pair.ratio:.2f}x",
                          Text(pair.outcome, style=RULE_STYLES.get(pair.outcome, "")), pair.note)
    return table


def rule_lines(results: list[RuleResult]) -> list[str]:
    """One line per rule: its outcome, and for a violation the numbers that show it."""
    lines = []
    for result in results:
        line = f"rule {result.rule} ({result.title}): {result.outcome}"
        broken = [pair for pair in result.pairs if pair.outcome == VIOLATED]
        if broken:
            line += ": " + "; ".join(
                f"{pair.favoured.name} {_number(pair.favoured.median)} vs {pair.other.name} "
                f"{_number(pair.other.median)} {pair.favoured.unit} ({pair.ratio:.2f}x)" for pair in broken)
        elif result.reason:
            line += f" ({result.reason})"
        lines.append(line)
    return lines
