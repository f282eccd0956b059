"""Distribution-free statistics for the few rounds a benchmark has: exact, deterministic, no resampling.

  median_interval     a confidence interval for the median from order statistics (binomial)
  shift_interval      two samples: the Hodges-Lehmann shift (median of all pairwise differences) with the
                      exact Mann-Whitney interval
  pseudo_median_interval  one sample of paired differences: the Hodges-Lehmann pseudo-median (median of the
                      Walsh averages) with the exact Wilcoxon signed-rank interval
Each interval is the narrowest one whose exact coverage is at least the confidence asked for; with too few
values for that, the widest one (all values) and the coverage it really has, so a caller can tell. Timings
are positive ratios, so callers pass logarithms and exponentiate: shifts of logs are ratios.
Textbook forms: Hollander & Wolfe, Nonparametric Statistical Methods, chapters 3 and 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import comb
from statistics import NormalDist, median

CONFIDENCE = 0.95
# a normal distribution's two-sided quantile at CONFIDENCE (1.96): for intervals built from a spread
Z_AT_CONFIDENCE = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    confidence: float  # the exact coverage of [low, high]; below the asked-for level when there were too few values

    def reaches(self, confidence: float = CONFIDENCE) -> bool:
        return self.confidence >= confidence - 1e-12


def quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default), of a sorted sequence."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def iqr_pct(values: Sequence[float]) -> float | None:
    """Interquartile range as a percentage of the median; None below 2 values."""
    if len(values) < 2:
        return None
    ordered = sorted(values)
    middle = median(ordered)
    return (quantile(ordered, 0.75) - quantile(ordered, 0.25)) / middle * 100 if middle else None


def _rank(counts: Sequence[int], confidence: float) -> tuple[int, float]:
    """From the null distribution `counts` of a statistic on 0..M: the largest d with P(S < d) <= alpha/2,
    and the coverage 1 - 2 P(S < d) of the interval between the d-th smallest and d-th largest values."""
    total = sum(counts)
    alpha_half = (1 - confidence) / 2
    below, d = 0, 0
    while d < len(counts) and below + counts[d] <= alpha_half * total:
        below += counts[d]
        d += 1
    d = max(d, 1)
    return d, 1 - 2 * sum(counts[:d]) / total


def _interval(ordered: Sequence[float], estimate: float, counts: Sequence[int], confidence: float) -> Interval:
    d, coverage = _rank(counts, confidence)
    d = min(d, (len(ordered) + 1) // 2)
    return Interval(estimate, ordered[d - 1], ordered[len(ordered) - d], coverage)


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The median and an interval between two order statistics covering the true median with the
    binomial(n, 1/2) probability (no assumption on the distribution)."""
    if not values:
        raise ValueError("median_interval needs at least one value")
    ordered = sorted(values)
    counts = [comb(len(ordered), k) for k in range(len(ordered) + 1)]
    return _interval(ordered, median(ordered), counts, confidence)


@lru_cache(maxsize=None)
def rank_sum_counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the C(n+m, n) orderings of n xs and m ys give Mann-Whitney U = 0, 1, ..., n*m.

    Look at the largest value: if it is an x it is below no y (U unchanged, n-1 xs left); if it is
    a y, all n xs are below it (U grows by n, m-1 ys left).
    """
    if n == 0 or m == 0:
        return (1,)
    counts = [0] * (n * m + 1)
    for u, count in enumerate(rank_sum_counts(n - 1, m)):
        counts[u] += count
    for u, count in enumerate(rank_sum_counts(n, m - 1)):
        counts[u + n] += count
    return tuple(counts)


@lru_cache(maxsize=None)
def signed_rank_counts(n: int) -> tuple[int, ...]:
    """How many of the 2^n sign patterns of n differences give the Wilcoxon statistic T = 0 .. n(n+1)/2."""
    counts = [1]
    for rank in range(1, n + 1):
        grown = counts + [0] * rank
        for total, count in enumerate(counts):
            grown[total + rank] += count
        counts = grown
    return tuple(counts)


def shift_interval(xs: Sequence[float], ys: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """How much larger ys are than xs: the median of all differences y - x, with its exact interval."""
    if not xs or not ys:
        raise ValueError("shift_interval needs values on both sides")
    differences = sorted(y - x for x in xs for y in ys)
    return _interval(differences, median(differences), rank_sum_counts(len(xs), len(ys)), confidence)


def pseudo_median_interval(differences: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The centre of paired differences: the median of the Walsh averages (d_i + d_j) / 2, i <= j."""
    if not differences:
        raise ValueError("pseudo_median_interval needs at least one difference")
    values = list(differences)
    walsh = sorted((values[i] + values[j]) / 2 for i in range(len(values)) for j in range(i, len(values)))
    return _interval(walsh, median(walsh), signed_rank_counts(len(values)), confidence)


def u_below(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Mann-Whitney U for "xs tend to be smaller than ys": pairs with x < y, ties counting half."""
    return sum(1.0 if x < y else 0.5 if x == y else 0.0 for x in xs for y in ys)
