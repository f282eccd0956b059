"""How often `ab`'s rule calls a change on data like real sessions': redraws of their block pairs.

A handful of real sessions says little about a rule's error rates (10 A/A sessions without a false verdict
bound the rate only below ~26%). Redrawing them says more: a redrawn session takes, for each row, as many
cycles as a real session had, drawn with replacement from every real session's cycles of that row, each with
all its pairs (a cycle is one pair of fresh worker processes: its pairs share those processes' state, so they
are redrawn together, Kalibera & Jones's top-level unit; a pair's ratio current / baseline keeps its sign, so
a side that was systematically faster stays so), and is judged by the one rule (the paired interval over the
pairs, then `compare`, as `analysis.row_results`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from mnist_core.ab.analysis import Block, paired_rates
from mnist_core.ab.sides import CURRENT
from mnist_core.measure.effect import FASTER, SLOWER, compare, paired

VERDICTS = (FASTER, SLOWER)  # what a calibration counts as a call; "same" and "inconclusive" are not


def blocks_of(data: dict) -> list[Block]:
    """The blocks of an ab-run file's JSON (abfile.ab_data)."""
    return [Block(index=item["index"], cycle=item["cycle"], row=item["row"], side=item["side"], pair=item["pair"],
                  rates=tuple(item["rates"]), start_up_s=item["start_up_s"], started_s=item["started_s"])
            for item in data["blocks"]]


def cycle_ratios(data: dict) -> dict[str, list[list[float]]]:
    """Per row, per cycle, each complete pair's current / baseline block-rate ratio, in pair order."""
    blocks = blocks_of(data)
    out: dict[str, list[list[float]]] = {}
    for cycle in sorted({block.cycle for block in blocks}):
        for row, (baseline, currents) in paired_rates([b for b in blocks if b.cycle == cycle]).items():
            out.setdefault(row, []).append([current / base for base, current in zip(baseline, currents)])
    return out


@dataclass(frozen=True)
class RowCalibration:
    row: str
    sessions: int
    cycles_per_session: int  # the median over the real sessions: what each redrawn session takes
    draws: int
    calls: dict[str, int]  # verdict label -> redrawn sessions given it

    def share(self, *labels: str) -> float:
        return sum(self.calls.get(label, 0) for label in labels) / self.draws


def redraw(sessions: Iterable[dict], *, draws: int, threshold_pct: float, seed: int,
           rows: Sequence[str] | None = None) -> list[RowCalibration]:
    """Per row (those given, or every row of the sessions), the verdicts of `draws` redrawn sessions."""
    by_row: dict[str, list[list[list[float]]]] = {}
    for data in sessions:
        for row, cycles in cycle_ratios(data).items():
            by_row.setdefault(row, []).append(cycles)
    out = []
    for row in rows or sorted(by_row):
        per_session = by_row.get(row)
        if not per_session:
            continue
        pool = [cycle for cycles in per_session for cycle in cycles]
        size = round(median(len(cycles) for cycles in per_session))
        draw_rng = random.Random(f"{seed}:{row}")  # each row its own stream: adding a row changes no other's
        calls: dict[str, int] = {}
        for _ in range(draws):
            ratios = [ratio for cycle in draw_rng.choices(pool, k=size) for ratio in cycle]
            label = compare(paired(ratios, [1.0] * len(ratios)), threshold_pct).label
            calls[label] = calls.get(label, 0) + 1
        out.append(RowCalibration(row, len(per_session), size, draws, calls))
    return out


def scaled(data: dict, row: str, factor: float) -> dict:
    """`data` with the current side's blocks of `row` `factor` times as fast: a known change laid on real noise."""
    blocks = [dict(item, rates=[rate * factor for rate in item["rates"]])
              if item["row"] == row and item["side"] == CURRENT else item for item in data["blocks"]]
    return {**data, "blocks": blocks}

