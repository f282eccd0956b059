"""From an ab session's blocks to one verdict per row: the block pair is the unit.

A block's rate is its samples over its timed seconds (every round of a row has the same samples, so the
harmonic mean of its rounds' samples/s). Each pair is a baseline block and the current block next to it in
time; a row's change is the Hodges-Lehmann centre of its pairs' log ratios (current / baseline) with the exact
Wilcoxon signed-rank 95% interval (measure/effect.py's `paired`), and its verdict is `compare` on that
interval, the one comparison behind every verdict of the suite. Nothing is widened for drift between
sessions: both sides ran in the same minutes, pair by pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from mnist_core.ab.sides import BASELINE, CURRENT
from mnist_core.measure.effect import SLOWER, Effect, Verdict, compare, paired


@dataclass(frozen=True)
class Block:
    """One side's block of consecutive rounds of one row."""

    index: int  # its place in the session's order (0 first)
    cycle: int  # which pair of worker processes ran it
    row: str
    side: str  # BASELINE | CURRENT
    pair: int  # the pair it belongs to (session-wide); its partner has the same number
    rates: tuple[float, ...]  # samples/s of each timed round
    start_up_s: float  # from the request to its first timed round (settling a DataLoader's prefetched batches)
    started_s: float  # seconds into the session

    @property
    def rate(self) -> float:
        return len(self.rates) / sum(1 / rate for rate in self.rates)

    def asdict(self) -> dict:
        return {"index": self.index, "cycle": self.cycle, "row": self.row, "side": self.side, "pair": self.pair,
                "rate": self.rate, "rates": list(self.rates), "start_up_s": self.start_up_s,
                "started_s": self.started_s}


@dataclass(frozen=True)
class RowResult:
    row: str
    pairs: int
    baseline_median: float  # median block rate of the baseline side's paired blocks
    current_median: float
    verdict: Verdict  # current vs baseline: "slower" means the current side is slower

    @property
    def effect(self) -> Effect:
        return self.verdict.effect


def paired_rates(blocks: Sequence[Block]) -> dict[str, tuple[list[float], list[float]]]:
    """Per row, (baseline block rates, current block rates) of its complete pairs, pair by pair."""
    by_pair: dict[tuple[str, int], dict[str, Block]] = defaultdict(dict)
    for block in blocks:
        by_pair[(block.row, block.pair)][block.side] = block
    out: dict[str, tuple[list[float], list[float]]] = {}
    for (row, _), sides in sorted(by_pair.items(), key=lambda item: (item[0][0], item[0][1])):
        if BASELINE in sides and CURRENT in sides:
            baseline, current = out.setdefault(row, ([], []))
            baseline.append(sides[BASELINE].rate)
            current.append(sides[CURRENT].rate)
    return out


def row_results(blocks: Sequence[Block], threshold_pct: float) -> list[RowResult]:
    """One result per row with at least one complete pair, in row order; too few pairs is inconclusive."""
    results = []
    for row, (baseline, current) in sorted(paired_rates(blocks).items()):
        verdict = compare(paired(current, baseline), threshold_pct)
        results.append(RowResult(row, len(baseline), median(baseline), median(current), verdict))
    return results


def any_slower(results: Sequence[RowResult]) -> bool:
    return any(result.verdict.label == SLOWER for result in results)
