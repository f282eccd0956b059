"""Noise-controlled rounds: run a row's timed rounds until its interval is tight enough or its time is up.

Like nvbench and torch.utils.benchmark's adaptive_autorange, a row keeps taking rounds until the 95%
interval of what it will be judged on is within the profile's target (the median's interval, and with a
yardstick also the interval of the effect against it), with a minimum and a maximum number of rounds and
a time cap; the reason it stopped is recorded. Before each round (or pair) the machine-state probe is
read (machine_state.py), so each round is known to have run in the machine's fast or slow state. With a yardstick every round is one of a pair taken back
to back, in an order drawn at random per pair (Google Benchmark's interleaving), so a slow minute hits
both sides. A round during which the GPU reported throttling is left out and recorded (nvbench drops
such samples too).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from mnist_core.measure.measurement import ExcludedRound, Measurement

CONVERGED, TIME_CAP, MAX_ROUNDS = "converged", "time cap", "max rounds"


@dataclass(frozen=True)
class RoundPolicy:
    min_rounds: int  # 6 is the fewest that give a 95% interval
    max_rounds: int
    target_pct: float  # stop once the intervals' half widths are within this percentage
    max_seconds: float  # the row's time cap (timed and untimed work alike)

    def __post_init__(self) -> None:
        if not 1 <= self.min_rounds <= self.max_rounds:
            raise ValueError("need 1 <= min_rounds <= max_rounds")


@dataclass(frozen=True)
class Timed:
    """One round's result: its rate and, when the GPU throttled during it, why."""

    rate: float
    throttled: str | None = None


@dataclass
class Pairing:
    """What a row's rounds are paired with: a name and a callable taking one of its rounds."""

    name: str
    run_round: Callable[[], Timed]
    rates: list[float]  # every round it took for this row, kept or not (the session's drift record)

    @classmethod
    def of(cls, name: str, run_round: Callable[[], Timed]) -> Pairing:
        return cls(name, run_round, [])


def _precision_pct(measurement: Measurement) -> float:
    widths = [measurement.half_width_pct]
    effect = measurement.vs_yardstick()
    if effect is not None:
        widths.append((effect.high - effect.low) / 2 / effect.ratio * 100)
    return max(widths)


def run_rounds(metric: str, run_round: Callable[[], Timed], policy: RoundPolicy, *, pairing: Pairing | None = None,
               probe: Callable[[], float] | None = None, seed: int = 0, subject: str | None = None,
               clock: Callable[[], float] = time.perf_counter) -> Measurement:
    """Take rounds until `policy` says stop; returns the Measurement of the kept rounds. `probe` (the
    machine-state probe) is read before each round or pair."""
    order = random.Random(seed)
    rates: list[float] = []
    yardstick: list[float] = []
    states: list[float] = []
    excluded: list[ExcludedRound] = []
    start = clock()
    stop_reason = MAX_ROUNDS
    while len(rates) + len(excluded) < policy.max_rounds:
        state = probe() if probe is not None else None
        if pairing is not None and order.random() < 0.5:
            base = pairing.run_round()
            mine = run_round()
        else:
            mine = run_round()
            base = pairing.run_round() if pairing is not None else None
        if base is not None:
            pairing.rates.append(base.rate)
        if mine.throttled or (base is not None and base.throttled):
            excluded.append(ExcludedRound(mine.rate, f"GPU throttled: {mine.throttled or base.throttled}"))
        else:
            rates.append(mine.rate)
            if base is not None:
                yardstick.append(base.rate)
            if state is not None:
                states.append(state)
        if len(rates) >= policy.min_rounds:
            current = Measurement(metric, tuple(rates), pairing.name if pairing else None, tuple(yardstick))
            if _precision_pct(current) <= policy.target_pct:
                stop_reason = f"{CONVERGED}: ±{_precision_pct(current):.1f}% after {len(rates)} rounds"
                break
        if clock() - start >= policy.max_seconds and rates:
            stop_reason = f"{TIME_CAP} ({policy.max_seconds:.0f} s) after {len(rates)} rounds"
            break
    if not rates:  # every round throttled: keep them, flagged, rather than nothing
        rates = [item.rate for item in excluded]
        yardstick, states = [], []
        stop_reason = f"{stop_reason}; every round throttled, kept anyway"
    return Measurement(metric, tuple(rates), pairing.name if pairing and yardstick else None, tuple(yardstick),
                       tuple(excluded), stop_reason, subject, tuple(states))
