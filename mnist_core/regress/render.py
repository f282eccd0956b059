"""Rendering comparisons and rule results: rich tables and plain lines. Returns them; prints nothing."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from mnist_core.measure.effect import FASTER, INCONCLUSIVE, SAME, SLOWER
from mnist_core.regress.comparison import (BACK_TO_BACK_H, MISSING, NEW, SCATTER_PER_DRIFT, UNUSABLE, Comparison,
                                          Resolution, RowComparison)
from mnist_core.regress.rules import HOLDS, NOT_APPLICABLE, VIOLATED, RuleResult
from mnist_core.runs.runfile import FORMAT_METHODS
from mnist_core.runs.status import RunStatus

VERDICT_STYLES = {SLOWER: "bold red", FASTER: "green", NEW: "cyan", MISSING: "yellow", UNUSABLE: "bold yellow",
                  INCONCLUSIVE: "dim", SAME: ""}
RULE_STYLES = {VIOLATED: "bold red", HOLDS: "green", NOT_APPLICABLE: "dim"}


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _median(measurement) -> str:
    return "-" if measurement is None else f"{_number(measurement.median)} ({measurement.rounds})"


def adjusted(reference: float | None, effect) -> str:
    """The throughput a change implies: the reference's median x the estimated ratio, so the printed change is
    always this over the reference even where the estimate (drift- or state-adjusted, paired) differs from the
    ratio of the two medians."""
    return "-" if reference is None or effect is None else _number(reference * effect.ratio)


def comparison_table(comparison: Comparison, title: str = "mnist-bench compare") -> Table:
    table = Table(title=f"{title}: median (rounds), higher is better; change [95% interval] = current, adjusted / "
                        f"baseline (drift and machine state divided out); threshold ±{comparison.threshold_pct:g}%")
    for column, justify in (("configuration", "left"), ("unit", "left"), ("baseline", "right"),
                            ("current", "right"), ("current, adjusted", "right"), ("change [95% interval]", "right"),
                            ("verdict", "left"), ("note", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in comparison.rows:
        change = row.verdict.why if row.verdict is not None else "-"
        effect = row.verdict.effect if row.verdict is not None else None
        table.add_row(row.id, row.unit, _median(row.baseline), _median(row.current),
                      adjusted(row.baseline.median if row.baseline else None, effect), change,
                      Text(row.status, style=VERDICT_STYLES.get(row.status, "")), row.note)
    return table


def _names(rows: list[RowComparison]) -> str:
    return ", ".join(row.id for row in rows)


def _apart(hours: float) -> str:
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"


def comparison_lines(comparison: Comparison) -> list[str]:
    """What a reader must know beside the table: partial runs, hardware differences, the machine-wide shift,
    rows left out, and the verdict."""
    lines = []
    if comparison.key_differences:
        lines.append(f"warning: different hardware keys ({'; '.join(comparison.key_differences)}): "
                     "compared anyway (--allow-hardware-mismatch)")
    for name, status in (("baseline", comparison.baseline_status), ("current run", comparison.current_status)):
        if status is not RunStatus.COMPLETE:
            lines.append(f"note: the {name} is {status}: only its completed benchmarks are compared")
    for shift in comparison.shifts:
        where = "host-to-device copies" if shift.group == "copies" else f"{shift.group.upper()} rows"
        if shift.shared_path:
            lines.append(f"note: every compared {where} goes through the DataLoader, as the yardstick does: a change of "
                         "that path and a change of the machine look the same here, and a move of all of them is "
                         "taken for the machine's; compare with the resident rows too (no -k) to tell them apart")
        source = (f"all {shift.rows} {where}" if shift.group == "copies" or shift.shared_path else
                  f"the {shift.rows} {where} off the DataLoader path (resident data, compiled steps)")
        if shift.verdict.decided:
            lines.append(f"note: {source} moved together by {shift.verdict.why}: the machine (or everything in this "
                         "setup) was slower or faster; verdicts are relative to that. A slower machine and code that "
                         "slows every row look the same: rerun the baseline on this machine now to tell, or use "
                         "--absolute on a dedicated machine")
        else:
            lines.append(f"note: the machine's change, the median of {source}, {shift.verdict.why}, is taken out of "
                         "every row (--absolute keeps it in)")
    if comparison.hours_apart is not None and comparison.hours_apart >= BACK_TO_BACK_H:
        lines.append(f"note: the runs are {_apart(comparison.hours_apart)} apart; on a shared machine rows move more "
                     "between sessions that far apart than back to back, and a verdict may be the machine's: for one "
                     "you can trust, run the baseline again now, right before the current run")
    for group, scatter in sorted(comparison.scatter_pct.items()):
        lines.append(f"note: {group.upper()} rows may move by ±{scatter:.1f}% (95%) between two sessions on their own "
                     f"({SCATTER_PER_DRIFT:g} x the two sessions' drift, calibrated on unchanged pairs); their "
                     "intervals allow for that")
    if comparison.not_compared:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(comparison.not_compared.items()))
        lines.append(f"not compared: {kinds} (one timed run each: no rounds to tell a change from noise)")
    unusable = [row for row in comparison.rows if row.status == UNUSABLE]
    if unusable:
        lines.append(f"unusable: {len(unusable)} row(s) with numbers that cannot be real were set aside, never "
                     f"compared: {_names(unusable)}")
    resolution = comparison.resolution()
    if resolution is not None:
        lines.append(_resolution_line(resolution, comparison.threshold_pct))
    regressed = comparison.regressed
    verdict = (f"REGRESSION: {len(regressed)} slower by more than {comparison.threshold_pct:g}% with the whole 95% "
               f"interval: {_names(regressed)}") if regressed else "no regression"
    lines.append(f"{comparison.summary()}; {verdict}{_across_formats(comparison)}")
    return lines


def _across_formats(comparison: Comparison) -> str:
    """What a verdict between run files of two formats must say: the two measured differently."""
    if not comparison.across_formats:
        return ""
    (old, new) = comparison.formats
    return (f", between a format-{old} baseline ({FORMAT_METHODS.get(old, 'unknown')}) and a format-{new} run "
            f"({FORMAT_METHODS.get(new, 'unknown')}): they measured differently, so a verdict may be the method's; "
            "for one you can trust, compare two runs of one format")


def _resolution_line(resolution: Resolution, threshold_pct: float) -> str:
    """How large a slowdown a row had to measure to be called slower: what "no regression" means here."""
    called = len(resolution.called_pct)
    if not called:
        return f"resolution: none of the {resolution.rows} rows had rounds enough to be called slower"
    line = (f"resolution: to be called slower, a row had to measure a slowdown of more than "
            f"{resolution.least_pct:.1f}% to {resolution.most_pct:.1f}% here (median {resolution.median_pct:.1f}%, "
            f"{called} rows: the {threshold_pct:g}% threshold plus how far its 95% interval reaches above its "
            "change); a smaller measured slowdown reads as inconclusive or same")
    if resolution.uncallable:
        line += f"; {resolution.uncallable} row(s) had too few rounds to be called slower at all"
    return line


def rules_table(results: list[RuleResult], threshold_pct: float) -> Table:
    table = Table(title=f"mnist-bench setting rules (this run; threshold ±{threshold_pct:g}%): medians; change "
                        "[95% interval] = favoured, adjusted / other (paired rounds where the run took them)")
    for column, justify in (("rule", "left"), ("favoured setting", "left"), ("other setting", "left"),
                            ("favoured", "right"), ("other", "right"), ("favoured, adjusted", "right"),
                            ("unit", "left"), ("change [95% interval]", "right"), ("outcome", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for result in results:
        if not result.pairs:
            table.add_row(result.rule, "-", "-", "-", "-", "-", "-", result.reason,
                          Text(result.outcome, style=RULE_STYLES[NOT_APPLICABLE]))
        for pair in result.pairs:
            other = pair.other.measurement.median
            table.add_row(result.rule, pair.favoured.id, pair.other.id, _number(pair.favoured.measurement.median),
                          _number(other), adjusted(other, pair.verdict.effect), pair.favoured.measurement.unit,
                          pair.verdict.why, Text(pair.outcome, style=RULE_STYLES.get(pair.outcome, "")))
    return table


def rule_lines(results: list[RuleResult]) -> list[str]:
    """One line per rule: its outcome, and for a violation the numbers that show it."""
    lines = []
    for result in results:
        line = f"rule {result.rule} ({result.title}): {result.outcome}"
        broken = [pair for pair in result.pairs if pair.outcome == VIOLATED]
        if broken:
            line += ": " + "; ".join(f"{pair.favoured.id} vs {pair.other.id} {pair.verdict.why}" for pair in broken)
        elif result.reason:
            line += f" ({result.reason})"
        lines.append(line)
    return lines
