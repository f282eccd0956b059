"""Comparing two runs benchmark by benchmark: one verdict per configuration found in either run.

How a verdict is reached (docs/methods.md says it in five lines):
  1. Rows are matched by configuration. Each row's change is the Hodges-Lehmann shift between the two
     runs' rounds, with its exact 95% interval (measure/effect.py).
  2. A machine is often faster or slower as a whole from one session to the next. That machine-wide shift is the
     median change over a device's rows whose pipelines do not share the yardstick's data path (resident data,
     compiled steps: not the DataLoader), when 3 or more were compared; it is taken out of every row of the device
     and reported on its own (--absolute keeps it in). So a slowdown of the DataLoader path, the yardstick's own,
     is the DataLoader rows' change whenever the other pipelines did not move. Where every compared row shares
     the DataLoader path (-k dataloader), the shift is the median over them all (5 or more), and the note says
     that a change of that path and of the machine then look the same.
  3. Rows also move between sessions on their own (a row measured in a slow minute, a pipeline that suits the
     machine's mood that day). By how much was measured, not estimated from the rows under test (whose own
     regression would widen it): SCATTER_PER_DRIFT times the two sessions' drift (their yardsticks' spread),
     calibrated on the committed A/A pairs (docs/calibration.md), widens each throughput row's interval, in quadrature with how much more the minute one run measured the row
     in differed from the other's (its yardstick rounds tell). Overhead rows, and host-to-device copies (not
     calibrated), are widened by each session's measured drift.
     A machine can also run at two speeds for tens of seconds at a time: rows are compared state with state,
     and a row with no state in common has its interval widened by the most the state moved its pipeline
     (regress/matching.py).
     Overhead rows are compared on what they measure, the suite against the bare loop run beside it.
  4. The verdict is `compare` on that interval with the threshold (REGRESSION_THRESHOLD_PCT unless given):
     slower / faster only when the whole interval lies beyond it, same when it lies within it, inconclusive
     otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from math import exp, hypot, inf, log
from statistics import median

from mnist_core.errors import BaselineError
from mnist_core.measure.effect import (FASTER, INCONCLUSIVE, SAME, SLOWER, Effect, Verdict, check_threshold,
                                       compare, interval_text, smallest_slowdown_called_pct, unpaired)
from mnist_core.measure.measurement import Measurement
from mnist_core.measure.stats import median_interval
from mnist_core.regress.hardware_key import hardware_key, key_differences
from mnist_core.regress.matching import (compared, group_of, machine_states, matched, state_allowance,
                                         state_factors)
from mnist_core.runs.row_ids import split_row_id
from mnist_core.runs.rows import AccuracyRow, Row, ThroughputRow
from mnist_core.runs.runfile import FORMAT_VERSION, Run
from mnist_core.runs.status import RunStatus

NEW, MISSING, UNUSABLE = "new", "missing", "unusable"
STATUSES = (SLOWER, FASTER, SAME, INCONCLUSIVE, NEW, MISSING, UNUSABLE)
# The smallest change between two runs that counts, unless a caller says otherwise: larger than the 5% used
# within a run, as asv's 10% factor is, because whole sessions differ where paired rounds do not. On the 2-vCPU
# VM (tests/test_calibration.py, eight back-to-back pairs) 0.3-0.7% of unchanged comparisons of ~20 rows get a
# verdict with it (1-2 of 304 over three seeds), and 0.1-0.2% of unchanged rows hours apart do; a 20% slowdown of
# one row is then found in 25-26% of trials.
REGRESSION_THRESHOLD_PCT = 10.0
MIN_ROWS_FOR_SHIFT = 5  # fewer compared rows than this in a group, all sharing the DataLoader path: no shift
MIN_REFERENCE_ROWS = 3  # rows off the yardstick's data path that tell the machine's shift (a median of 3 or more)
# How far a throughput row moves between two back-to-back sessions of unchanged code on its own, beyond its rounds'
# own interval (95%, either way), per point of the two sessions' measured drift (their yardsticks' spread, combined
# in quadrature). Drift is read off the yardstick's rounds beside every row, so a change of the code under test
# does not widen it (a uniformly slower yardstick has the same spread), while a noisier machine does. Calibrated on
# the committed A/A pairs of the 2-vCPU VM (tests/test_calibration.py; docs/calibration.md): at 1.5, 1-2 of 304
# unchanged back-to-back default comparisons give a row a verdict over three seeds; at 1.25, up to 6 (2.0%); at
# 1.0, 9 (3.0%).
SCATTER_PER_DRIFT = 1.5
OLD_RUN_DRIFT_PCT = 5.0  # assumed within-session drift of a format-1 run, which recorded none
# Sessions further apart than this differ by more than back-to-back ones: on the 2-vCPU VM, 2-4% of comparisons
# of unchanged sessions from different back-to-back pairs gave a row a verdict, against 0.3-0.7% within a pair
# (tests/test_calibration.py).
BACK_TO_BACK_H = 1.0


@dataclass(frozen=True)
class RowComparison:
    id: str
    kind: str
    unit: str
    baseline: Measurement | None
    current: Measurement | None
    status: str  # one of STATUSES
    verdict: Verdict | None = None
    note: str = ""  # what else a reader needs: why a row is missing or unusable, a level jump allowed for

    @property
    def measured(self) -> Measurement:
        return self.current or self.baseline


@dataclass(frozen=True)
class Shift:
    """The change every row of a group shared: the machine (or everything) was faster or slower."""

    group: str  # a device, or "copies"
    effect: Effect
    verdict: Verdict
    rows: int
    shared_path: bool = False  # every row it came from shares the yardstick's DataLoader path


@dataclass(frozen=True)
class Resolution:
    """How large a slowdown this comparison could call, over its rows with a verdict: each row's
    smallest_slowdown_called_pct. A row with too few rounds for a 95% interval could call none."""

    called_pct: tuple[float, ...]  # sorted, one per row that could be called slower
    uncallable: int  # rows that could call no slowdown at all

    @property
    def rows(self) -> int:
        return len(self.called_pct) + self.uncallable

    @property
    def least_pct(self) -> float:
        return self.called_pct[0]

    @property
    def median_pct(self) -> float:
        return median(self.called_pct)

    @property
    def most_pct(self) -> float:
        return self.called_pct[-1]


@dataclass(frozen=True)
class Comparison:
    rows: tuple[RowComparison, ...]
    threshold_pct: float
    key_differences: tuple[str, ...]  # empty when both runs have the same hardware key
    not_compared: dict  # kind -> rows without rounds (time to accuracy), in either run
    baseline_status: RunStatus
    current_status: RunStatus
    shifts: tuple[Shift, ...] = ()
    scatter_pct: dict = field(default_factory=dict)  # group -> session_scatter_pct, where a row was widened by it
    absolute: bool = False
    hours_apart: float | None = None  # between the two runs' saving times, when both recorded one
    formats: tuple[int, int] = (FORMAT_VERSION, FORMAT_VERSION)  # the run files' format versions: how each measured

    @property
    def across_formats(self) -> bool:
        return self.formats[0] != self.formats[1]

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    @property
    def regressed(self) -> list[RowComparison]:
        return [row for row in self.rows if row.status == SLOWER]

    def summary(self) -> str:
        return ", ".join(f"{self.count(status)} {status}" for status in STATUSES if self.count(status))

    def resolution(self) -> Resolution | None:
        """What a "no regression" could have missed; None when no row was compared."""
        values = [smallest_slowdown_called_pct(row.verdict.effect, row.verdict.threshold_pct)
                  for row in self.rows if row.verdict is not None]
        if not values:
            return None
        return Resolution(tuple(sorted(value for value in values if value != inf)), values.count(inf))


def session_scatter_pct(drift_before: dict[str, float], drift_after: dict[str, float], group: str) -> float:
    """How far (95%, %) a row of the group may move between these two sessions on its own: SCATTER_PER_DRIFT times
    their drifts combined, each session's from run_drift_pct."""
    return SCATTER_PER_DRIFT * hypot(drift_before.get(group, OLD_RUN_DRIFT_PCT), drift_after.get(group, OLD_RUN_DRIFT_PCT))


def run_drift_pct(run: Run) -> dict[str, float]:
    """Per group (device, or copies): the session's drift, from its yardstick (Run.drift); runs that recorded
    none (format 1, or copies, which have no yardstick) get an assumed allowance."""
    drift = {device: item.spread_pct for device, item in run.drift().items() if item.spread_pct is not None}
    groups = {group_of(row) for row in run.rows if not isinstance(row, AccuracyRow)}
    return {group: drift.get(group, OLD_RUN_DRIFT_PCT) for group in groups}


def _yardstick_offset(row: Row, run: Run) -> float | None:
    """How far (log) the yardstick rounds beside this row ran from the session's yardstick median: the minute
    the row was measured in, plus how the row's own work slows the yardstick next to it (the same in every
    session). None for rows not paired with the session's yardstick."""
    measurement = row.measurement
    drift = run.drift().get(row.config.device) if isinstance(row, ThroughputRow) else None
    if drift is None or not measurement.paired or measurement.yardstick != drift.yardstick:
        return None
    return log(measurement.yardstick_median / drift.median)


def _minute_moved(old: Row, new: Row, baseline: Run, current: Run) -> float:
    """How much more (log) the minute one run measured this row in differed from the other's: the change of
    its yardstick offset between the runs, so what the row does to its yardstick cancels out."""
    offsets = (_yardstick_offset(old, baseline), _yardstick_offset(new, current))
    return 0.0 if None in offsets else abs(offsets[1] - offsets[0])


def _off_the_yardstick_path(row: Row) -> bool:
    """A row whose pipeline does not share the yardstick's data path (the tutorial's DataLoader): a change of that
    path does not move it, so it can tell the machine's change from the path's."""
    return isinstance(row, ThroughputRow) and not row.config.pipeline.dataloader


def _shift(group: str, rows: list[Row], effects: list[Effect], threshold_pct: float) -> Shift | None:
    """The group's machine-wide change: from its rows off the yardstick's path (MIN_REFERENCE_ROWS or more compared
    state with state, else none), or, where every row compared is on that path, from all of them
    (MIN_ROWS_FOR_SHIFT or more); None when too few tell it."""
    reference = [effect for row, effect in zip(rows, effects) if _off_the_yardstick_path(row)]
    shared_path = group != "copies" and not reference
    if shared_path or group == "copies":
        reference = effects
        if len(reference) < MIN_ROWS_FOR_SHIFT:
            return None
    elif len(reference) < MIN_REFERENCE_ROWS:  # too few to tell the machine's change: none is taken out
        return None
    interval = median_interval([log(effect.ratio) for effect in reference])
    effect = Effect(exp(interval.estimate), exp(interval.low), exp(interval.high), interval.confidence, "rows",
                    len(reference))
    return Shift(group, effect, compare(effect, threshold_pct), len(reference), shared_path)


def check_comparable(baseline: Run, current: Run, names: tuple[str, str], allow_hardware_mismatch: bool) -> list[str]:
    """The hardware differences (empty: same setup); BaselineError when the runs must not be compared."""
    profiles = (baseline.profile, current.profile)
    if profiles[0] != profiles[1]:
        raise BaselineError(
            f"{names[0]} is a {profiles[0]}-profile run and {names[1]} a {profiles[1]}-profile run: profiles differ "
            "in round sizes and counts, so their numbers are not comparable; compare runs of one profile "
            f"(pytest --benchmark-only --bench-profile={profiles[0]})")
    differences = key_differences(hardware_key(baseline), hardware_key(current))
    if differences and not allow_hardware_mismatch:
        raise BaselineError(f"{names[0]} and {names[1]} are from different hardware keys ({'; '.join(differences)}); "
                            "compare runs of one setup, or pass --allow-hardware-mismatch to compare anyway")
    return differences


def compare_runs(baseline: Run, current: Run, threshold_pct: float = REGRESSION_THRESHOLD_PCT, *,
                 allow_hardware_mismatch: bool = False, absolute: bool = False,
                 names: tuple[str, str] = ("baseline", "current run")) -> Comparison:
    """Verdicts for every configuration in either run; BaselineError when the runs can't be compared."""
    check_threshold(threshold_pct)
    differences = check_comparable(baseline, current, names, allow_hardware_mismatch)
    before = {row.key: row for row in baseline.rows if not isinstance(row, AccuracyRow)}
    after = {row.key: row for row in current.rows if not isinstance(row, AccuracyRow)}
    common = before.keys() & after.keys()
    if not common:
        raise BaselineError(
            f"no benchmark configuration is in both {names[0]} ({len(before)} comparable) and "
            f"{names[1]} ({len(after)}); compare runs of the same profile, --devices and -k selection")
    states = machine_states(baseline, current)
    factors = state_factors((baseline, current), states)
    matches = {key: matched(compared(after[key]), compared(before[key]), states) for key in common}
    shifts = []
    shift_of: dict[str, float] = {}
    by_group: dict[str, tuple[list[Row], list[Effect]]] = defaultdict(lambda: ([], []))
    for key in common:  # rows compared state with state: across states a row moves by what the state does to it
        if after[key].kind != "overhead" and matches[key].effects:  # overhead: a ratio, the machine divided out
            rows_of, effects = by_group[group_of(after[key])]
            rows_of.append(after[key])
            effects.append(matches[key].joined())
    if not absolute:
        for group, (rows_of, effects) in by_group.items():
            shift = _shift(group, rows_of, effects, threshold_pct)
            if shift is not None:
                shifts.append(shift)
                shift_of[group] = log(shift.effect.ratio)
    drift_before, drift_after = run_drift_pct(baseline), run_drift_pct(current)
    scatter_pct = {}  # group -> the between-session allowance its rows were widened by
    rows = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            rows.append(RowComparison(old.id, old.kind, old.measurement.unit, old.measurement, None, MISSING,
                                      note=_why_absent(current, old)))
            continue
        group = group_of(new)
        if isinstance(new, ThroughputRow) and new.kind != "overhead":
            scatter_pct[group] = session_scatter_pct(drift_before, drift_after, group)
            parts = (log(1 + scatter_pct[group] / 100),
                     _minute_moved(old, new, baseline, current))
        else:  # overhead ratios and copies: each session's measured drift
            parts = (log(1 + drift_before.get(group, OLD_RUN_DRIFT_PCT) / 100),
                     log(1 + drift_after.get(group, OLD_RUN_DRIFT_PCT) / 100))
        allowance = sum(part ** 2 for part in parts) ** 0.5
        shift = 0.0 if new.kind == "overhead" else shift_of.get(group, 0.0)
        before_measured, after_measured = compared(old), compared(new)
        match = matches[key]
        how = match.note
        if match.effects:
            verdict = compare(match.joined().shifted(shift).widened(allowance), threshold_pct)
            if len(match.effects) > 1:
                how = f"{how}: " + ", ".join(interval_text(effect.shifted(shift).widened(allowance))
                                             for effect in match.effects)
        else:  # no state in common: whatever the machine's change of speed could explain is given away
            factor, how = state_allowance(new, factors)
            effect = unpaired(after_measured.rates, before_measured.rates).shifted(shift).widened(allowance)
            verdict = compare(effect.spanned(factor), threshold_pct)
        rows.append(RowComparison(new.id, new.kind, after_measured.unit, before_measured, after_measured,
                                  verdict.label, verdict, how))
    rows += [RowComparison(new.id, new.kind, new.measurement.unit, None, new.measurement, NEW)
             for key, new in after.items() if key not in before]
    rows += [RowComparison(item.id, split_row_id(item.id)[0], "", None, None, UNUSABLE, note=f"{name}: {item.reason}")
             for name, run in zip(names, (baseline, current)) for item in run.unusable]
    not_compared = {}
    for run in (baseline, current):
        count = sum(isinstance(row, AccuracyRow) for row in run.rows)
        if count:
            not_compared["accuracy"] = max(not_compared.get("accuracy", 0), count)
    times = (baseline.saved_at, current.saved_at)
    hours_apart = None if None in times else abs((times[1] - times[0]).total_seconds()) / 3600
    return Comparison(tuple(rows), threshold_pct, tuple(differences), not_compared, baseline.status,
                      current.status, tuple(shifts), scatter_pct, absolute, hours_apart,
                      (baseline.format_version, current.format_version))


def _why_absent(run: Run, row: Row) -> str:
    """Why the run has no result for a configuration: its recorded failure or skip, or that it is partial."""
    for outcome, entries in (("failed", run.session.failed), ("skipped", run.session.skipped)):
        for entry in entries:
            if entry.id == row.id:
                return f"{outcome}: {entry.reason or ''}".strip()
    unusable = next((item for item in run.unusable if item.id == row.id), None)
    if unusable is not None:
        return f"unusable: {unusable.reason}"
    return f"not run: the current run is {run.status}" if not run.complete else ""


__all__ = ["REGRESSION_THRESHOLD_PCT", "compared", "FASTER", "INCONCLUSIVE", "MISSING", "NEW", "SAME", "SLOWER",
           "UNUSABLE", "Comparison", "RowComparison", "Shift", "compare_runs", "run_drift_pct"]
