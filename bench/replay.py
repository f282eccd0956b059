"""Hand a row's measured rounds to pytest-benchmark through its public API, in units of work.

mnist-bench decides a row's rounds as it goes and pairs each with a yardstick round, so pytest-benchmark
cannot time them itself. Instead each row calls `benchmark.pedantic` once with one round per kept round,
and pytest-benchmark's timer (`--benchmark-timer`, set to `replay_clock` for the session in bench/plugin.py)
reads 0 before a replayed round and that round's duration after it.

The durations are per unit of work, not per round: rounds differ in size from row to row and from session
to session (each row's round is fitted to its speed), so seconds per round compare nothing. Per sample,
pytest-benchmark's Median is the time per sample, its OPS samples/s (1 / mean), and its table, `compare`,
`--benchmark-compare-fail`, histograms and CSV agree with mnist-bench's samples/s.
"""

from __future__ import annotations

from pytest_benchmark.timers import default_timer
from pytest_benchmark.utils import NameWrapper

REPLAY_TIMER = f"{__name__}.replay_clock"  # the --benchmark-timer value a benchmark session runs with
PYTEST_BENCHMARK_DEFAULT_TIMER = str(NameWrapper(default_timer))

# What each kind of row hands over per round, for the line printed above pytest-benchmark's tables.
UNITS = "pytest-benchmark's times below are per sample (OPS = samples/s) for train, loader and overhead " \
        "rows, per GB copied (OPS = GB/s) for transfer rows, and the whole run for accuracy rows"


class _ReplayedTime:
    """The clock's reading: set to 0 before each replayed round and to its duration during it."""

    now_s = 0.0


def replay_clock() -> float:
    """pytest-benchmark's timer in a benchmark session (see the module docstring)."""
    return _ReplayedTime.now_s


def record_rounds(benchmark, seconds_per_unit: list[float]) -> None:
    """Give pytest-benchmark one round per kept round, each lasting `seconds_per_unit` of it (seconds per
    sample, per GB, or per run), so its stats describe the same rounds as the row. Raises RuntimeError
    when its timer is not `replay_clock` (its stats would then time nothing)."""
    if benchmark.disabled:  # --benchmark-disable: nothing was timed
        return
    pending = iter(seconds_per_unit)

    def start_round():
        _ReplayedTime.now_s = 0.0

    def replayed_round():
        _ReplayedTime.now_s = next(pending)

    benchmark.pedantic(replayed_round, setup=start_round, rounds=len(seconds_per_unit), iterations=1)
    recorded = list(benchmark.stats.stats.data)
    if recorded != list(seconds_per_unit):
        raise RuntimeError(f"pytest-benchmark recorded {recorded[:3]}... instead of this row's rounds: its timer must "
                           f"be {REPLAY_TIMER} (--benchmark-timer)")
