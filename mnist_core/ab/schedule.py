"""The order an ab session runs its blocks in: balanced, randomised with a recorded seed, paired with neighbours.

A row's visit is a run of blocks alternating sides in groups of four, ABBA or BAAB drawn at random (asv's
`continuous` runs base, head, head, base): blocks 1-2 and 3-4 are pairs, so each pair's two blocks are next to
each other in time and each side goes first in half the pairs, whatever drifts during the visit. The rows'
order is shuffled afresh in each cycle (a cycle is one pair of fresh worker processes).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from mnist_core.ab.sides import BASELINE, CURRENT

QUADS = ((BASELINE, CURRENT, CURRENT, BASELINE), (CURRENT, BASELINE, BASELINE, CURRENT))


def visit_order(rng: random.Random, pairs: int) -> list[str]:
    """The sides of a visit's 2 x `pairs` blocks: ABBA / BAAB groups, and for an odd count a last AB or BA."""
    if pairs < 1:
        raise ValueError("a visit needs at least one pair of blocks")
    order: list[str] = []
    for _ in range(pairs // 2):
        order += rng.choice(QUADS)
    if pairs % 2:
        order += rng.choice(QUADS)[:2]
    return order


def neighbour_pairs(order: Sequence[str]) -> list[tuple[int, int]]:
    """(baseline block index, current block index) of each pair: blocks 0-1, 2-3, ... of a visit's order."""
    pairs = []
    for first in range(0, len(order) - 1, 2):
        sides = {order[first]: first, order[first + 1]: first + 1}
        if set(sides) != {BASELINE, CURRENT}:
            raise ValueError(f"blocks {first} and {first + 1} are not one of each side: {order[first:first + 2]}")
        pairs.append((sides[BASELINE], sides[CURRENT]))
    return pairs


def row_order(rng: random.Random, rows: Sequence[str]) -> list[str]:
    shuffled = list(rows)
    rng.shuffle(shuffled)
    return shuffled
