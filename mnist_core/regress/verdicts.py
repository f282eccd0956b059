"""Noise-aware verdicts: did a benchmark get faster or slower than its baseline, beyond noise?

A change is called only when both hold:
  1. the median moved by more than the threshold (default 10%), and
  2. the rounds say the move beyond the threshold is not noise: an exact one-sided Mann-Whitney U
     test of the current rounds against the baseline rounds scaled by (1 - threshold) (for a drop)
     or (1 + threshold) (for a gain) gives p <= 0.05.
With 3 rounds a side (the quick profile) that means every current round is more than the threshold
below (above) every baseline round. With 2 rounds a side no change can ever be called (p >= 1/6).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from mnist_core.regress import ranktest

DEFAULT_THRESHOLD_PCT = 10.0
IMPROVED, UNCHANGED, REGRESSED, NEW, MISSING = "improved", "unchanged", "regressed", "new", "missing"
VERDICTS = (REGRESSED, IMPROVED, UNCHANGED, NEW, MISSING)


@dataclass(frozen=True)
class Judgement:
    verdict: str
    baseline: float | None = None  # median, higher is better
    current: float | None = None
    delta_pct: float | None = None  # (current / baseline - 1) * 100
    p_value: float | None = None  # of the rank test in the direction of the change, when one was run
    note: str = ""


def check_threshold(threshold_pct: float) -> float:
    if not 0 <= threshold_pct < 100:
        raise ValueError(f"threshold must be a percentage in [0, 100), got {threshold_pct!r}")
    return float(threshold_pct)


def judge(baseline_rounds, current_rounds, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
          alpha: float = ranktest.ALPHA) -> Judgement:
    """Verdict for one benchmark from its per-round throughputs (higher is better) in two runs."""
    baseline_rounds, current_rounds = list(baseline_rounds), list(current_rounds)
    if not baseline_rounds or not current_rounds or min(baseline_rounds + current_rounds) <= 0:
        raise ValueError("judge needs positive throughputs on both sides")
    fraction = check_threshold(threshold_pct) / 100
    base, now = median(baseline_rounds), median(current_rounds)
    delta_pct = (now / base - 1) * 100
    numbers = dict(baseline=base, current=now, delta_pct=delta_pct)
    if abs(delta_pct) <= threshold_pct:
        return Judgement(UNCHANGED, **numbers)
    if delta_pct < 0:  # slower: are the current rounds below the baseline lowered by the threshold?
        p = ranktest.p_below(current_rounds, [value * (1 - fraction) for value in baseline_rounds])
        verdict = REGRESSED
    else:  # faster: are they above the baseline raised by the threshold?
        p = ranktest.p_below([value * (1 + fraction) for value in baseline_rounds], current_rounds)
        verdict = IMPROVED
    if p <= alpha:
        return Judgement(verdict, **numbers, p_value=p)
    best = ranktest.smallest_p(len(baseline_rounds), len(current_rounds))
    if best > alpha:
        note = (f"too few rounds ({len(baseline_rounds)} vs {len(current_rounds)}) to tell a change from noise; "
                f"use a profile with >= 3 rounds")
    else:
        note = f"median moved beyond ±{threshold_pct:g}% but the rounds overlap (p={p:.2f}): noise"
    return Judgement(UNCHANGED, **numbers, p_value=p, note=note)
