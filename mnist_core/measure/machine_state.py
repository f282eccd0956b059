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
from dataclasses import dataclass
from math import exp, log

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
        import torch  # here, not at the top: compare and check read state_split and must not load torch

        self.a = torch.ones(PROBE_SHAPE)
        self.b = torch.ones(PROBE_SHAPE)
        self.out = torch.empty(PROBE_SHAPE)

    def __call__(self) -> float:
        import torch

        time.sleep(SETTLE_S)
        start = time.perf_counter()
        done = 0
        while True:
            torch.add(self.a, self.b, out=self.out)
            done += 1
            elapsed = time.perf_counter() - start
            if elapsed >= PROBE_S:
                return done / elapsed


WILD_BELOW = 0.5  # a reading under half the median is something else competing for the cores, not a state


def _half_iqr(ordered: Sequence[float]) -> float:
    """Half the interquartile range of sorted values: a robust spread."""
    size = len(ordered)
    return (ordered[(3 * size) // 4] - ordered[size // 4]) / 2


@dataclass(frozen=True)
class States:
    """Two machine states found in probe readings: fast at or above `split`, slow below it down to `floor`
    (a reading under the floor is wild and tells no state)."""

    split: float
    floor: float


def state_split(readings: Sequence[float]) -> States | None:
    """The reading that separates a slow and a fast state, when the readings show two; None otherwise.

    The cut is Otsu's: the one that best divides the (log) readings into two groups, i.e. with the largest
    variance between the groups. It counts as two states only when each side holds MIN_STATE_SHARE of the
    readings and the sides' medians are MIN_STATE_GAP apart and MIN_SEPARATION times their spread. Readings
    under WILD_BELOW of the median are left out first."""
    ordered = sorted(value for value in readings if value > 0)
    if not ordered:
        return None
    floor = WILD_BELOW * ordered[len(ordered) // 2]
    logs = [log(value) for value in ordered if value >= floor]
    least = max(4, int(len(logs) * MIN_STATE_SHARE + 0.5))
    if len(logs) < 2 * least:
        return None
    total = sum(logs)
    best: tuple[float, int] | None = None
    below = 0.0
    for cut in range(1, len(logs)):
        below += logs[cut - 1]
        mean_low, mean_high = below / cut, (total - below) / (len(logs) - cut)
        between = cut * (len(logs) - cut) * (mean_high - mean_low) ** 2
        if best is None or between > best[0]:
            best = (between, cut)
    cut = best[1]
    slow, fast = logs[:cut], logs[cut:]
    gap = fast[len(fast) // 2] - slow[len(slow) // 2]
    spread = max(_half_iqr(slow), _half_iqr(fast), 1e-9)
    if min(len(slow), len(fast)) < least or gap < log(MIN_STATE_GAP) or gap / spread < MIN_SEPARATION:
        return None
    return States(exp((slow[-1] + fast[0]) / 2), floor)
