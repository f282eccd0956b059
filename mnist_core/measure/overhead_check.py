"""Judging the suite's own overhead against the bare loop, from the per-round numbers."""

from __future__ import annotations

from statistics import median

from mnist_core.measure.stats import iqr_pct

OVERHEAD_LIMIT_PCT = 3.0


def overhead_row(suite_rounds: list[float], bare_rounds: list[float]) -> dict:
    """suite/bare samples/s; 'over' only when every suite round is slower than every bare round."""
    suite, bare = median(suite_rounds), median(bare_rounds)
    overhead_pct = (1 - suite / bare) * 100
    separated = max(suite_rounds) < min(bare_rounds)
    if overhead_pct <= OVERHEAD_LIMIT_PCT:
        verdict = "within"
    elif separated:
        verdict = "over"
    else:
        verdict = "noise"  # the medians differ by more than the limit, but the rounds overlap
    return {
        "bare_samples_per_s": bare,
        "bare_samples_per_s_rounds": bare_rounds,
        "suite_to_bare_ratio": suite / bare,
        "overhead_pct": overhead_pct,
        "overhead_limit_pct": OVERHEAD_LIMIT_PCT,
        "overhead_verdict": verdict,
        "bare_iqr_pct": iqr_pct(bare_rounds),
    }
