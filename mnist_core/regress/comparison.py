"""Comparing two runs benchmark by benchmark: one verdict per configuration found in either run."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from mnist_core.errors import BaselineError
from mnist_core.runs.runfile import SECTION
from mnist_core.regress import ranktest
from mnist_core.regress.hardware_key import hardware_key, key_differences
from mnist_core.regress.measured import Measured, outcome_key, run_benchmarks
from mnist_core.regress.verdicts import MISSING, NEW, REGRESSED, VERDICTS, Judgement, check_threshold, judge


@dataclass(frozen=True)
class Row:
    baseline: Measured | None
    current: Measured | None
    judgement: Judgement

    @property
    def measured(self) -> Measured:
        return self.current or self.baseline

    @property
    def verdict(self) -> str:
        return self.judgement.verdict


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    threshold_pct: float
    key_differences: tuple[str, ...]  # empty when both runs have the same hardware key
    not_compared: dict  # kind -> rows without per-round throughput, in either run
    baseline_partial: bool
    current_partial: bool

    def count(self, verdict: str) -> int:
        return sum(row.verdict == verdict for row in self.rows)

    @property
    def regressed(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == REGRESSED]

    def shared_shift_pct(self) -> float | None:
        """The median Δ% when every compared benchmark (3 or more) moved the same way beyond the threshold.

        Rounds only show the noise inside one session; a whole machine that is slower (other load, clocks,
        thermals) moves every benchmark at once, which a per-benchmark test cannot tell from a real change.
        """
        deltas = [row.judgement.delta_pct for row in self.rows if row.judgement.delta_pct is not None]
        if len(deltas) < 3 or min(abs(delta) for delta in deltas) <= self.threshold_pct:
            return None
        if not (all(delta < 0 for delta in deltas) or all(delta > 0 for delta in deltas)):
            return None
        return median(deltas)

    def summary(self) -> str:
        return ", ".join(f"{self.count(verdict)} {verdict}" for verdict in VERDICTS if self.count(verdict))


def is_partial(run: dict) -> bool:
    return not run.get(SECTION, {}).get("complete", True)


def compare_runs(baseline_run: dict, current_run: dict, threshold_pct: float = 10.0, *,
                 allow_hardware_mismatch: bool = False, alpha: float = ranktest.ALPHA,
                 names: tuple[str, str] = ("baseline", "current run")) -> Comparison:
    """Verdicts for every configuration in either run; BaselineError when the runs can't be compared."""
    check_threshold(threshold_pct)
    differences = key_differences(hardware_key(baseline_run), hardware_key(current_run))
    if differences and not allow_hardware_mismatch:
        raise BaselineError(f"{names[0]} and {names[1]} are from different hardware keys ({'; '.join(differences)}); "
                            "compare runs of one setup, or pass --allow-hardware-mismatch to compare anyway")
    before = run_benchmarks(baseline_run, names[0])
    after = run_benchmarks(current_run, names[1])
    common = before.by_key.keys() & after.by_key.keys()
    if not common:
        raise BaselineError(
            f"no benchmark configuration is in both {names[0]} ({len(before.by_key)} comparable) and "
            f"{names[1]} ({len(after.by_key)}); compare runs of the same profile, --devices and -k selection")
    why_absent = _outcomes(current_run)
    rows = []
    for key, old in before.by_key.items():
        new = after.by_key.get(key)
        if new is None:
            note = why_absent.get(key) or ("not run: the current run is partial" if is_partial(current_run) else "")
            rows.append(Row(old, None, Judgement(MISSING, baseline=old.median, note=note)))
        else:
            rows.append(Row(old, new, judge(old.rounds, new.rounds, threshold_pct, alpha)))
    rows += [Row(None, new, Judgement(NEW, current=new.median)) for key, new in after.by_key.items()
             if key not in before.by_key]
    not_compared = {kind: max(before.not_compared.get(kind, 0), after.not_compared.get(kind, 0))
                    for kind in {**before.not_compared, **after.not_compared}}
    return Comparison(tuple(rows), threshold_pct, tuple(differences), not_compared, is_partial(baseline_run),
                      is_partial(current_run))


def _outcomes(run: dict) -> dict[tuple, str]:
    """Configuration key -> why the run has no result for it (its recorded failure or skip).

    Keyed like the rows (measured.outcome_key): copies by their transfer fields, the rest by configuration.
    """
    section = run.get(SECTION) or {}
    reasons = {}
    for outcome in ("skipped", "failed"):
        for entry in section.get(outcome) or []:
            config = entry.get("config") if isinstance(entry, dict) else None
            if isinstance(config, dict) and entry.get("kind"):
                key = outcome_key(entry["kind"], config)
                if key is not None:
                    reasons[key] = f"{outcome}: {entry.get('reason', '')}".strip()
    return reasons
