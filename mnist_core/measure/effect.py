"""Effects and verdicts: the one comparison behind every "faster", "slower", "best" and "regressed".

An Effect is how many times faster A is than B (a throughput ratio) with a 95% confidence interval:
  paired    A's and B's rounds were taken in pairs, next to each other in time, so a slow minute hits
            both: the Hodges-Lehmann centre of the per-pair log ratios, exact signed-rank interval;
  unpaired  two independent sets of rounds: the Hodges-Lehmann shift of the log rates, exact
            Mann-Whitney interval;
  combined  a product of effects (e.g. best GPU / GPU reference x GPU / CPU reference), each interval
            turned into a normal standard error on the log scale and added in quadrature;
  pooled    one effect measured separately in independent strata (e.g. the rounds a machine ran in its
            fast state, and those in its slow state): the inverse-variance weighted mean on the log scale.

`compare` turns an effect into one of four verdicts against a threshold (the smallest change that
matters), as criterion.rs does: the whole interval beyond +threshold is FASTER, beyond -threshold
SLOWER, inside +-threshold SAME; anything else is INCONCLUSIVE. Too few rounds for a 95% interval is
inconclusive too, never a verdict. Thresholds are symmetric on the log scale (+10% vs -9.1%).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import exp, inf, log, sqrt

from mnist_core.measure.stats import CONFIDENCE, Z_AT_CONFIDENCE, Interval, pseudo_median_interval, shift_interval

FASTER, SLOWER, SAME, INCONCLUSIVE = "faster", "slower", "same", "inconclusive"
# The smallest change that matters, unless a caller says otherwise, for settings compared within a run (rounds
# paired with the reference's, so a slow minute hits both). Between runs, where whole sessions differ, the
# regression gate has its own: regress/comparison.py's REGRESSION_THRESHOLD_PCT.
SETTINGS_THRESHOLD_PCT = 5.0
VERDICTS = (SLOWER, FASTER, SAME, INCONCLUSIVE)
PAIRED, UNPAIRED, COMBINED, POOLED = "paired", "unpaired", "combined", "pooled"


@dataclass(frozen=True)
class Effect:
    """A / B throughput: ratio > 1 means A is faster. low/high bound the ratio at `confidence`."""

    ratio: float
    low: float
    high: float
    confidence: float
    method: str
    pairs: int  # rounds behind it: pairs (paired) or the smaller side (unpaired)

    @property
    def pct(self) -> float:
        return (self.ratio - 1) * 100

    @property
    def low_pct(self) -> float:
        return (self.low - 1) * 100

    @property
    def high_pct(self) -> float:
        return (self.high - 1) * 100

    @property
    def reliable(self) -> bool:
        """The interval has the full 95% coverage (enough rounds for it)."""
        return self.confidence >= CONFIDENCE - 1e-12

    def inverse(self) -> Effect:
        """B / A."""
        return replace(self, ratio=1 / self.ratio, low=1 / self.high, high=1 / self.low)

    def widened(self, log_half_width: float) -> Effect:
        """The interval grown by an uncertainty the rounds did not see (e.g. machine drift between
        sessions), added in quadrature on the log scale."""
        if log_half_width <= 0:
            return self
        low, high = log(self.low), log(self.high)
        centre = log(self.ratio)
        grown_low = centre - sqrt((centre - low) ** 2 + log_half_width ** 2)
        grown_high = centre + sqrt((high - centre) ** 2 + log_half_width ** 2)
        return replace(self, low=exp(grown_low), high=exp(grown_high))

    def spanned(self, factor: float) -> Effect:
        """The interval grown by a bias of up to `factor` either way that the rounds cannot show (not noise,
        so added in full rather than in quadrature)."""
        return replace(self, low=self.low / factor, high=self.high * factor)

    def shifted(self, log_shift: float) -> Effect:
        """The effect with a common factor divided out (everything scaled by exp(-log_shift))."""
        factor = exp(-log_shift)
        return replace(self, ratio=self.ratio * factor, low=self.low * factor, high=self.high * factor)


def _from_interval(interval: Interval, method: str, pairs: int) -> Effect:
    return Effect(exp(interval.estimate), exp(interval.low), exp(interval.high), interval.confidence, method, pairs)


def paired(a_rates: Sequence[float], b_rates: Sequence[float]) -> Effect:
    """A vs B from rounds taken in pairs (a_rates[i] next to b_rates[i])."""
    if len(a_rates) != len(b_rates) or not a_rates:
        raise ValueError("paired rounds need the same, non-zero number of rounds on each side")
    ratios = [log(a) - log(b) for a, b in zip(a_rates, b_rates)]
    return _from_interval(pseudo_median_interval(ratios), PAIRED, len(ratios))


def unpaired(a_rates: Sequence[float], b_rates: Sequence[float]) -> Effect:
    """A vs B from independent rounds."""
    interval = shift_interval([log(b) for b in b_rates], [log(a) for a in a_rates])
    return _from_interval(interval, UNPAIRED, min(len(a_rates), len(b_rates)))


def combined(*effects: Effect) -> Effect:
    """The product of independent effects (A/B x B/C = A/C), with a normal approximation of its interval."""
    if not effects:
        raise ValueError("combined needs at least one effect")
    centre = sum(log(effect.ratio) for effect in effects)
    variance = sum(_log_se(effect) ** 2 for effect in effects)
    half = Z_AT_CONFIDENCE * sqrt(variance)
    return Effect(exp(centre), exp(centre - half), exp(centre + half), min(e.confidence for e in effects), COMBINED,
                  min(effect.pairs for effect in effects))


def _log_se(effect: Effect) -> float:
    """The normal standard error on the log scale that the effect's interval corresponds to."""
    return (log(effect.high) - log(effect.low)) / (2 * Z_AT_CONFIDENCE)


def pooled(*effects: Effect) -> Effect:
    """One effect from independent measurements of it (strata), each weighted by its precision, with a
    normal approximation of the pooled interval. Only for strata that measure the same effect: callers
    check that their intervals agree (overlap) first."""
    if not effects:
        raise ValueError("pooled needs at least one effect")
    if len(effects) == 1:
        return effects[0]
    weights = [1 / max(_log_se(effect), 1e-12) ** 2 for effect in effects]
    centre = sum(weight * log(effect.ratio) for weight, effect in zip(weights, effects)) / sum(weights)
    half = Z_AT_CONFIDENCE / sqrt(sum(weights))
    return Effect(exp(centre), exp(centre - half), exp(centre + half), min(e.confidence for e in effects), POOLED,
                  sum(effect.pairs for effect in effects))


@dataclass(frozen=True)
class Verdict:
    label: str  # FASTER | SLOWER | SAME | INCONCLUSIVE
    effect: Effect
    threshold_pct: float
    why: str  # one phrase a sentence can use, e.g. "+12.3% [+8.1%, +16.9%]"

    @property
    def decided(self) -> bool:
        return self.label in (FASTER, SLOWER)


def interval_text(effect: Effect) -> str:
    return f"{effect.pct:+.1f}% [{effect.low_pct:+.1f}%, {effect.high_pct:+.1f}%]"


def check_threshold(threshold_pct: float) -> float:
    if not 0 <= threshold_pct < 100:
        raise ValueError(f"threshold must be a percentage in [0, 100), got {threshold_pct!r}")
    return float(threshold_pct)


def _log_bound(threshold_pct: float) -> float:
    """The threshold on the log scale, where it is symmetric (+10% and -9.1%)."""
    return log(1 + check_threshold(threshold_pct) / 100)


def smallest_slowdown_called_pct(effect: Effect, threshold_pct: float) -> float:
    """How much slower (percent) a change with an interval as wide as this effect's must measure for `compare` to
    call it SLOWER: the threshold plus the interval's reach above its estimate, on the log scale. What a verdict
    of "no regression" could not have seen; inf when too few rounds leave no verdict possible."""
    bound = _log_bound(threshold_pct)
    if not effect.reliable:
        return inf
    above_estimate = log(effect.high) - log(effect.ratio)
    return (1 - exp(-(bound + above_estimate))) * 100


def compare(effect: Effect, threshold_pct: float) -> Verdict:
    """The verdict on `effect` (A vs B) with `threshold_pct` as the smallest change that matters."""
    bound = _log_bound(threshold_pct)
    low, high = log(effect.low), log(effect.high)
    text = interval_text(effect)
    if not effect.reliable:
        return Verdict(INCONCLUSIVE, effect, threshold_pct,
                       f"{text} at {effect.confidence:.0%}: too few rounds ({effect.pairs}) for a 95% interval")
    if low > bound:
        label = FASTER
    elif high < -bound:
        label = SLOWER
    elif -bound <= low and high <= bound:
        label = SAME
    else:
        label = INCONCLUSIVE
    return Verdict(label, effect, threshold_pct, text)
