"""Measurement: one row's raw per-round throughputs and everything derived from them.

The only place that turns rounds into numbers: the median, its 95% interval, the spread (IQR/median),
the noise flag, and, for rounds taken in pairs with a yardstick (the tutorial's own setting on the same
device, or the bare loop for the overhead check), the effect against it and drift-corrected rates. Every
benchmark group, the run file, the report and the regression check read rows through it.

In a run file a measurement is a few flat keys of the row's extra_info, named after its metric
(samples_per_s or gb_s): `<metric>` (median), `<metric>_rounds` (the raw rounds, the source of truth),
`<metric>_ci`, `iqr_pct`, `noisy`, `rounds`, `stop_reason`, `excluded_rounds`, with a yardstick
`yardstick`, `yardstick_rounds` and `vs_yardstick`, and `state_probe_rounds` (machine_state.py). Derived keys are written for readers of the JSON;
`from_info` recomputes them from the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from statistics import median

from mnist_core.measure.effect import Effect, paired, unpaired
from mnist_core.measure.stats import Interval, iqr_pct, median_interval, quantile

METRICS = {"samples_per_s": "samples/s", "gb_s": "GB/s", "ratio": "x bare loop"}
NOISE_LIMIT_PCT = 10.0  # IQR/median above this: a row's own rounds disagree (torch.utils.benchmark's rule)
# A machine can run at two speeds for tens of seconds at a time (on a 2-vCPU VM, two-thread compute flips
# between about 300k and 450k samples/s). A row shows such a flip as runs of rounds at two levels:
JUMP_WINDOW_ROUNDS = 3  # consecutive rounds that make one level
JUMP_MIN_PCT = 30.0  # a smaller change between two runs of rounds is within what round noise and drift do


@dataclass(frozen=True)
class ExcludedRound:
    rate: float
    reason: str  # e.g. "GPU throttled: software power cap"


@dataclass(frozen=True)
class Measurement:
    metric: str  # samples_per_s | gb_s
    rates: tuple[float, ...]  # kept rounds, in the order they ran
    yardstick: str | None = None  # the id of what the rounds were paired with
    yardstick_rates: tuple[float, ...] = ()  # its round next to each kept round
    excluded: tuple[ExcludedRound, ...] = ()
    stop_reason: str | None = None
    subject: str | None = field(default=None, compare=False)  # the id of what was measured
    states: tuple[float, ...] = ()  # the machine-state probe's reading before each kept round (machine_state.py)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}")
        if not self.rates:
            raise ValueError("a measurement needs at least one round")
        if self.yardstick_rates and len(self.yardstick_rates) != len(self.rates):
            raise ValueError("paired rounds need one yardstick round per round")
        if self.states and len(self.states) != len(self.rates):
            raise ValueError("a state probe reading is taken before every round")

    @property
    def unit(self) -> str:
        return METRICS[self.metric]

    @property
    def rounds(self) -> int:
        return len(self.rates)

    @cached_property
    def interval(self) -> Interval:
        """The median with its 95% interval (order statistics). The median is taken of the time per unit (one
        over each rate) and turned back into a rate: the same for an odd number of rounds, and for an even number
        the one pytest-benchmark's median of the same rounds gives (the mean of the two middle times, not of the
        two middle rates), so its tables and mnist-bench's agree on every row."""
        interval = median_interval(self.rates)
        return replace(interval, estimate=1 / median(1 / rate for rate in self.rates))

    @property
    def median(self) -> float:
        return self.interval.estimate

    @cached_property
    def iqr_pct(self) -> float | None:
        return iqr_pct(self.rates)

    @property
    def noisy(self) -> bool:
        return self.iqr_pct is not None and self.iqr_pct > NOISE_LIMIT_PCT

    @property
    def half_width_pct(self) -> float:
        """Half the median's interval as a percentage of the median: the precision the rounds reached."""
        return (self.interval.high - self.interval.low) / 2 / self.median * 100

    @property
    def paired(self) -> bool:
        return bool(self.yardstick_rates)

    @property
    def yardstick_median(self) -> float | None:
        """The median of the yardstick rounds beside this row's rounds (None without pairs)."""
        return median(self.yardstick_rates) if self.paired else None

    @cached_property
    def _jump(self) -> tuple[float, float] | None:
        """The medians of the fastest and slowest of two non-overlapping runs of JUMP_WINDOW_ROUNDS rounds where
        every round of the faster beats every round of the slower (so one wild round is not a level), when
        they are at least JUMP_MIN_PCT apart; None otherwise."""
        size = JUMP_WINDOW_ROUNDS
        windows = [(start, self.rates[start:start + size]) for start in range(len(self.rates) - size + 1)]
        best = None
        for fast_start, fast in windows:
            for slow_start, slow in windows:
                if abs(fast_start - slow_start) >= size and min(fast) > max(slow):
                    levels = (median(fast), median(slow))
                    if best is None or levels[0] / levels[1] > best[0] / best[1]:
                        best = levels
        return best if best is not None and best[0] / best[1] >= 1 + JUMP_MIN_PCT / 100 else None

    @property
    def level_jump_pct(self) -> float | None:
        """How far the row's speed jumped between two levels while it ran, as a percentage (None: it held one)."""
        return None if self._jump is None else (self._jump[0] / self._jump[1] - 1) * 100

    def by_state(self, split: float, floor: float = 0.0) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The rounds taken in the machine's fast state and in its slow one (probe reading at or above
        `split`, and below it); rounds whose reading is under `floor` (wild: something else was competing
        for the cores) are in neither."""
        fast = tuple(rate for rate, state in zip(self.rates, self.states) if state >= split)
        slow = tuple(rate for rate, state in zip(self.rates, self.states) if floor <= state < split)
        return fast, slow

    def levels(self) -> tuple[tuple[float, ...], ...]:
        """The rounds at each speed the row ran at, fastest first: two groups split halfway (geometrically)
        between the two levels of its jump, or all rounds as one level."""
        if self._jump is None:
            return (self.rates,)
        split = (self._jump[0] * self._jump[1]) ** 0.5
        return (tuple(rate for rate in self.rates if rate >= split), tuple(rate for rate in self.rates if rate < split))

    def vs_yardstick(self) -> Effect | None:
        """This row against its yardstick, pair by pair; None without pairs."""
        return paired(self.rates, self.yardstick_rates) if self.paired else None

    def normalised(self) -> tuple[float, ...]:
        """Each round as a multiple of the yardstick round beside it: machine drift divided out."""
        return tuple(rate / base for rate, base in zip(self.rates, self.yardstick_rates))

    # run files ---------------------------------------------------------------------------
    def to_info(self) -> dict:
        effect = self.vs_yardstick()
        return {
            self.metric: self.median,
            f"{self.metric}_rounds": list(self.rates),
            f"{self.metric}_ci": [self.interval.low, self.interval.high],
            "rounds": self.rounds,
            "iqr_pct": self.iqr_pct,
            "noisy": self.noisy,
            "stop_reason": self.stop_reason,
            "excluded_rounds": [{"rate": item.rate, "reason": item.reason} for item in self.excluded],
            "yardstick": self.yardstick,
            "yardstick_rounds": list(self.yardstick_rates),
            "vs_yardstick": None if effect is None else {"ratio": effect.ratio, "low": effect.low, "high": effect.high,
                                                         "confidence": effect.confidence},
            "state_probe_rounds": list(self.states),
        }

    @classmethod
    def from_info(cls, info: dict, subject: str | None = None) -> Measurement:
        """From a row's extra_info (any run file version: older ones have only `<metric>_rounds`)."""
        metric = "gb_s" if "gb_s_rounds" in info else "samples_per_s"
        yardstick_rates = tuple(info.get("yardstick_rounds") or ())
        return cls(
            metric=metric,
            rates=tuple(info[f"{metric}_rounds"]),
            yardstick=info.get("yardstick") if yardstick_rates else None,
            yardstick_rates=yardstick_rates,
            excluded=tuple(ExcludedRound(item["rate"], item["reason"]) for item in info.get("excluded_rounds") or ()),
            stop_reason=info.get("stop_reason"),
            subject=subject,
            states=tuple(info.get("state_probe_rounds") or ()),
        )


def relative(a: Measurement, b: Measurement) -> Effect:
    """How much faster a is than b, from one run, with machine drift taken out where the rounds allow:
      * a was paired with b itself (b is a's yardstick): the paired effect;
      * both were paired with the same yardstick: their drift-corrected rates compared;
      * otherwise (an older run, or different devices): their raw rounds compared.
    """
    if a.paired and a.yardstick is not None and a.yardstick == b.subject:
        return a.vs_yardstick()
    if b.paired and b.yardstick is not None and b.yardstick == a.subject:
        return b.vs_yardstick().inverse()
    if a.paired and b.paired and a.yardstick == b.yardstick:
        return unpaired(a.normalised(), b.normalised())
    return unpaired(a.rates, b.rates)


def drift_pct(rates) -> float | None:
    """How far a yardstick's rounds strayed over a session: half the 10th-90th percentile range, as a
    percentage of their median (None below 4 rounds). Round noise counts too: an upper bound on drift."""
    if len(rates) < 4:
        return None
    ordered = sorted(rates)
    return (quantile(ordered, 0.9) - quantile(ordered, 0.1)) / 2 / median(ordered) * 100
