"""The machine's state beside every round: a 10 ms probe of small multi-threaded tensor ops.

Some machines run at two speeds for tens of seconds at a time. On the 2-vCPU VM this suite is developed on,
two-thread torch work flips between two speeds (the resident MLP at batch 512: about 300k or 450k samples/s;
the resident loader: 1.45M or 1.75M), every affected row at once, while the DataLoader yardstick hardly
moves. A row measured wholly in one state in one session and wholly in the other in the next differs by up
to a third with nothing in either session's rounds to show it. The probe shows it: an element-wise add of
one batch of images (100k floats, split over torch's threads like the training step's small ops), repeated
for 10 ms before every round, reads about 95k adds/s in the slow state and 122k in the fast one on that VM.

`state_split` finds the two states in the probe readings of the runs being compared, when there are two;
regress/comparison.py then compares each row's rounds state with state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from math import exp, log

import torch

PROBE_S = 0.01
# A DataLoader's workers refill their queue for a few tens of milliseconds after a round ends: the probe waits
# that out, or it would read their competition for the cores instead of the machine's state.
SETTLE_S = 0.04
PROBE_SHAPE = (128, 784)  # one tutorial batch of images: enough elements for torch to split over its threads
MIN_STATE_SHARE = 0.05  # each state holds at least this share of the readings (a few wild readings are not one)
MIN_STATE_GAP = 1.10  # the states' medians at least 10% apart
MIN_SEPARATION = 4.0  # and apart by at least this many times the readings' spread (half IQR) within a state


class StateProbe:
    """Callable: the probe's adds per second right now (CPU tensors, the process's torch threads)."""

    def __init__(self) -> None:
        self.a = torch.ones(PROBE_SHAPE)
        self.b = torch.ones(PROBE_SHAPE)
        self.out = torch.empty(PROBE_SHAPE)

    def __call__(self) -> float:
        time.sleep(SETTLE_S)
        start = time.perf_counter()
        done = 0
        while True:
            torch.add(self.a, self.b, out=self.out)
            done += 1
            elapsed = time.perf_counter() - start
            if elapsed >= PROBE_S:
                return done / elapsed


def _half_iqr(ordered: Sequence[float], low: int, high: int) -> float:
    """Half the interquartile range of ordered[low:high] (already sorted): a robust spread."""
    size = high - low
    return (ordered[low + (3 * size) // 4] - ordered[low + size // 4]) / 2


def state_split(readings: Sequence[float]) -> float | None:
    """The reading that separates a slow and a fast state, when the readings show two; None otherwise.

    A cut between two sorted (log) readings qualifies when each side holds MIN_STATE_SHARE of them and the
    sides' medians are MIN_STATE_GAP apart and MIN_SEPARATION times their spread (half the IQR); of those,
    the cut at the widest empty stretch between neighbouring readings, halfway across it."""
    logs = sorted(log(value) for value in readings if value > 0)
    least = max(4, int(len(logs) * MIN_STATE_SHARE + 0.5))
    best: tuple[float, float] | None = None
    for cut in range(least, len(logs) - least + 1):
        gap = logs[(cut + len(logs)) // 2] - logs[cut // 2]
        spread = max(_half_iqr(logs, 0, cut), _half_iqr(logs, cut, len(logs)), 1e-9)
        empty = logs[cut] - logs[cut - 1]
        if gap >= log(MIN_STATE_GAP) and gap / spread >= MIN_SEPARATION and (best is None or empty > best[0]):
            best = (empty, exp((logs[cut - 1] + logs[cut]) / 2))
    return None if best is None else best[1]
