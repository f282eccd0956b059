"""The exact one-sided Mann-Whitney U (Wilcoxon rank-sum) test, for the few rounds a benchmark has.

No scipy: the null distribution of U is counted exactly with the classic recursion, which is cheap
for the round counts of the profiles (3 to 11 per side). With 3 rounds on each side the smallest
p-value is 1/20 = 0.05, reached only when every round of one side is below every round of the other.
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil, comb

ALPHA = 0.05


def u_below(xs: list[float], ys: list[float]) -> float:
    """U for "xs tend to be smaller than ys": pairs with x < y, ties counting half."""
    return sum(1.0 if x < y else 0.5 if x == y else 0.0 for x in xs for y in ys)


@lru_cache(maxsize=None)
def _counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the C(n+m, n) orderings of n xs and m ys give U = 0, 1, ..., n*m.

    Look at the largest value: if it is an x it is below no y (U unchanged, n-1 xs left); if it is
    a y, all n xs are below it (U grows by n, m-1 ys left).
    """
    if n == 0 or m == 0:
        return (1,)
    size = n * m + 1
    counts = [0] * size
    for u, count in enumerate(_counts(n - 1, m)):
        counts[u] += count
    for u, count in enumerate(_counts(n, m - 1)):
        counts[u + n] += count
    return tuple(counts)


def p_below(xs: list[float], ys: list[float]) -> float:
    """Exact one-sided p-value that xs are stochastically smaller than ys.

    Ties (which timings in floating point practically never have) count half in U; the p-value
    then uses the no-ties distribution, rounding U up, which errs towards "not significant".
    """
    n, m = len(xs), len(ys)
    if n == 0 or m == 0:
        raise ValueError("the rank test needs at least one value on each side")
    observed = ceil(u_below(xs, ys))
    counts = _counts(n, m)
    return sum(counts[observed:]) / comb(n + m, n)


def smallest_p(n: int, m: int) -> float:
    """The best p-value n vs m rounds can give (complete separation): 1 / C(n+m, n)."""
    return 1 / comb(n + m, n) if n and m else 1.0
