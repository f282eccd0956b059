"""The measurement engine: exact intervals, effects, the one comparison function, and noise-controlled rounds."""

from __future__ import annotations

import itertools
import math
from math import comb

import pytest

from mnist_core.core.config import BenchConfig
from mnist_core.measure.effect import (FASTER, INCONCLUSIVE, SAME, SLOWER, Effect, combined, compare, paired, pooled,
                                       smallest_slowdown_called_pct, unpaired)
from mnist_core.measure.machine_state import StateProbe, state_split
from mnist_core.measure.measurement import ExcludedRound, Measurement, relative
from mnist_core.measure.rounds import CONVERGED, MAX_ROUNDS, TIME_CAP, Pairing, RoundPolicy, Timed, run_rounds
from mnist_core.measure.stats import (median_interval, pseudo_median_interval, rank_sum_counts, shift_interval,
                                      signed_rank_counts, u_below)
from mnist_core.measure.workload import Workload


# exact null distributions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, m", [(3, 3), (3, 5), (4, 4), (5, 2), (1, 4), (6, 5)])
def test_rank_sum_counts_match_enumeration(n, m):
    counts = [0] * (n * m + 1)
    for chosen in itertools.combinations(range(n + m), n):  # which ranks the xs take
        xs = list(chosen)
        ys = [rank for rank in range(n + m) if rank not in chosen]
        counts[int(u_below(xs, ys))] += 1
    assert tuple(counts) == rank_sum_counts(n, m) and sum(counts) == comb(n + m, n)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_signed_rank_counts_match_enumeration(n):
    counts = [0] * (n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        counts[sum(rank for rank, positive in zip(range(1, n + 1), signs) if positive)] += 1
    assert tuple(counts) == signed_rank_counts(n)


def test_median_interval_is_order_statistics_with_exact_coverage():
    interval = median_interval([5.0, 1.0, 4.0, 2.0, 3.0, 6.0])
    assert (interval.low, interval.high, interval.estimate) == (1.0, 6.0, 3.5)
    assert interval.confidence == pytest.approx(1 - 2 / 2 ** 6)  # [min, max] of 6: 96.9%
    ten = median_interval(list(range(20)))
    assert (ten.low, ten.high) == (5, 14) and ten.confidence >= 0.95 and ten.reaches()
    assert not median_interval([1.0, 2.0, 3.0]).reaches()  # 3 values cannot give 95%


def test_shift_and_pseudo_median_intervals_bracket_their_estimates():
    shift = shift_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [11.0, 12.0, 13.0, 14.0, 15.0, 16.0])
    assert shift.estimate == 10.0 and shift.low <= 10.0 <= shift.high and shift.reaches()
    walsh = pseudo_median_interval([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert walsh.estimate == pytest.approx(0.4) and walsh.low <= 0.4 <= walsh.high and walsh.reaches()


# effects and the one verdict ---------------------------------------------------------------------------------

def effect(ratio, low, high, confidence=0.96):
    return Effect(ratio, low, high, confidence, "test", 10)


@pytest.mark.parametrize("low, high, label", [
    (1.12, 1.30, FASTER),  # the whole interval beyond +10%
    (0.70, 0.88, SLOWER),
    (0.95, 1.05, SAME),  # inside +-10%
    (1.05, 1.30, INCONCLUSIVE),  # straddles the threshold
    (0.80, 1.20, INCONCLUSIVE),
])
def test_compare_needs_the_whole_interval_beyond_the_threshold(low, high, label):
    assert compare(effect((low + high) / 2, low, high), 10).label == label


def test_too_few_rounds_is_inconclusive_never_a_verdict():
    verdict = compare(effect(2.0, 1.9, 2.1, confidence=0.9), 10)
    assert verdict.label == INCONCLUSIVE and "too few rounds" in verdict.why


def test_threshold_is_symmetric_on_the_log_scale():
    assert compare(effect(1 / 1.2, 1 / 1.25, 1 / 1.15), 10).label == SLOWER  # -13% to -20%: beyond 1/1.1
    assert compare(effect(0.92, 0.91, 0.93), 10).label == SAME  # -9%: within 1/1.1 = -9.1%


@pytest.mark.parametrize("low, high", [(0.95, 1.05), (0.80, 1.30), (0.99, 1.60), (0.70, 1.01)])
@pytest.mark.parametrize("threshold_pct", [0, 5, 10])
def test_the_smallest_slowdown_called_is_where_compare_starts_calling_it(low, high, threshold_pct):
    """An interval as wide as this one, moved to measure that slowdown and a little more, is slower; a little
    less, not."""
    found = effect(1.0, low, high)
    smallest = smallest_slowdown_called_pct(found, threshold_pct)

    def measured(slowdown_pct):
        return compare(found.shifted(-math.log(1 - slowdown_pct / 100)), threshold_pct).label

    assert smallest > (1 - 1 / (1 + threshold_pct / 100)) * 100  # a slowdown beyond the threshold at least
    assert measured(smallest + 0.01) == SLOWER and measured(smallest - 0.01) != SLOWER


def test_too_few_rounds_can_call_no_slowdown():
    assert smallest_slowdown_called_pct(effect(1.0, 0.99, 1.01, confidence=0.9), 10) == math.inf


def test_paired_effect_cancels_drift_that_hits_both_sides():
    drift = [1.0, 0.6, 1.3, 0.8, 1.1, 0.7, 1.2, 0.9]  # the machine's speed, pair by pair
    a = [120 * factor for factor in drift]
    b = [100 * factor for factor in drift]
    verdict = compare(paired(a, b), 5)
    assert verdict.effect.ratio == pytest.approx(1.2) and verdict.label == FASTER
    assert compare(unpaired(a, b), 5).label == INCONCLUSIVE  # the same numbers, unpaired: drift swamps it


def test_combined_effect_multiplies_ratios_and_widens():
    one, two = effect(2.0, 1.8, 2.2), effect(3.0, 2.7, 3.3)
    product = combined(one, two)
    assert product.ratio == pytest.approx(6.0) and product.low < 1.8 * 2.7 / 1.0 * 1.1 and product.high > 6.0
    assert product.low < 6 < product.high


def test_pooled_effect_is_the_precision_weighted_mean_and_narrower_than_either():
    """One change measured in two strata (e.g. the machine's fast and slow state): a precise -20% and a loose one.
    Neither alone settles "beyond -5%" for the loose one, pooled they do; the precise stratum weighs more."""
    precise, loose = effect(0.80, 0.76, 0.84), effect(0.70, 0.50, 0.98)
    both = pooled(precise, loose)
    assert precise.ratio > both.ratio > loose.ratio and both.ratio == pytest.approx(0.795, abs=0.005)
    assert both.high - both.low < precise.high - precise.low
    assert compare(loose, 5).label == INCONCLUSIVE and compare(both, 5).label == SLOWER
    assert pooled(precise) is precise


# measurements ---------------------------------------------------------------------------------------------------

def test_measurement_owns_everything_derived_from_its_rounds():
    measurement = Measurement("samples_per_s", (100.0, 110.0, 90.0, 105.0, 95.0, 100.0), "train/ref",
                              (50.0, 55.0, 45.0, 52.0, 48.0, 50.0), stop_reason="converged")
    info = measurement.to_info()
    assert info["samples_per_s"] == measurement.median == 100.0
    assert info["samples_per_s_ci"] == [90.0, 110.0] and info["rounds"] == 6 and not info["noisy"]
    assert info["vs_yardstick"]["ratio"] == pytest.approx(2.0)
    again = Measurement.from_info(info)
    assert again == measurement and again.to_info() == info



@pytest.mark.parametrize("rates, jump_pct", [
    ((100, 101, 99, 100, 60, 61, 59, 60), 100 / 60 * 100 - 100),  # two levels, 4 rounds each
    ((100, 101, 99, 100, 60, 61, 59, 100, 99, 101), 100 / 60 * 100 - 100),  # and back
    ((100, 101, 99, 60, 100, 101, 99, 100), None),  # one wild round is not a level
    ((100, 90, 110, 95, 105, 100, 92, 108), None),  # round noise of +-10%
    ((100, 100, 100, 90, 90, 90), None),  # a level change below JUMP_MIN_PCT
])
def test_a_level_jump_is_runs_of_rounds_at_two_levels(rates, jump_pct):
    measurement = Measurement("samples_per_s", tuple(float(rate) for rate in rates))
    if jump_pct is None:
        assert measurement.level_jump_pct is None
    else:
        assert measurement.level_jump_pct == pytest.approx(jump_pct)

def test_relative_uses_pairs_when_it_can():
    yardstick = Measurement("samples_per_s", (10.0,) * 6, subject="train/ref")
    drift = (1.0, 0.5, 1.5, 0.7, 1.3, 1.0)
    fast = Measurement("samples_per_s", tuple(30 * d for d in drift), "train/ref", tuple(10 * d for d in drift),
                       subject="train/fast")
    slow = Measurement("samples_per_s", tuple(20 * d for d in drift), "train/ref", tuple(10 * d for d in drift),
                       subject="train/slow")
    assert relative(fast, yardstick).method == "paired" and relative(fast, yardstick).ratio == pytest.approx(3)
    assert relative(yardstick, fast).ratio == pytest.approx(1 / 3)
    between = relative(fast, slow)  # both paired with the same yardstick: drift-corrected rates
    assert between.ratio == pytest.approx(1.5) and compare(between, 5).label == FASTER


# noise-controlled rounds ------------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def rounds_from(values, clock=None, seconds=1.0, throttled=()):
    values = iter(values)
    index = itertools.count()

    def run_round():
        if clock is not None:
            clock.now += seconds
        i = next(index)
        return Timed(next(values), "hardware slowdown" if i in throttled else None)
    return run_round


def test_rounds_stop_when_the_interval_is_tight_enough():
    policy = RoundPolicy(min_rounds=6, max_rounds=50, target_pct=5.0, max_seconds=1e9)
    measurement = run_rounds("samples_per_s", rounds_from(itertools.cycle([100.0, 101.0, 99.0])), policy)
    assert measurement.rounds == 6 and measurement.stop_reason.startswith(CONVERGED)


def test_rounds_stop_at_the_time_cap_and_at_max_rounds():
    clock = FakeClock()
    noisy = itertools.cycle([50.0, 150.0, 80.0, 120.0])
    capped = run_rounds("samples_per_s", rounds_from(noisy, clock), RoundPolicy(6, 50, 1.0, 10.0), clock=clock)
    assert capped.rounds == 10 and capped.stop_reason.startswith(TIME_CAP)
    most = run_rounds("samples_per_s", rounds_from(noisy), RoundPolicy(6, 8, 1.0, 1e9))
    assert most.rounds == 8 and most.stop_reason == MAX_ROUNDS


def test_throttled_rounds_are_kept_out_and_recorded():
    policy = RoundPolicy(min_rounds=6, max_rounds=8, target_pct=0.0, max_seconds=1e9)
    measurement = run_rounds("samples_per_s", rounds_from(itertools.cycle([100.0]), throttled={2, 5}), policy)
    assert measurement.rounds == 6 and len(measurement.excluded) == 2
    assert measurement.excluded[0] == ExcludedRound(100.0, "GPU throttled: hardware slowdown")


def test_paired_rounds_run_in_a_random_but_reproducible_order():
    def trace(seed):
        order = []
        mine = lambda: order.append("row") or Timed(100.0)  # noqa: E731
        base = Pairing.of("train/ref", lambda: order.append("yardstick") or Timed(50.0))
        measurement = run_rounds("samples_per_s", mine, RoundPolicy(6, 10, 0.0, 1e9), pairing=base, seed=seed)
        return order, measurement

    order, measurement = trace(1)
    firsts = order[0::2]
    assert set(firsts) == {"row", "yardstick"}  # both orders occur
    assert trace(1)[0] == order and trace(2)[0] != order  # reproducible per seed
    assert measurement.yardstick == "train/ref" and measurement.vs_yardstick().ratio == pytest.approx(2.0)
    assert len(measurement.yardstick_rates) == measurement.rounds == 6  # converged at the minimum: no spread


def test_the_same_work_gives_the_same_interval_on_any_machine():
    """Deterministic: exact order statistics, no resampling, no random draws."""
    values = [100.0 + 7.0 * math.sin(i) for i in range(12)]
    assert median_interval(values) == median_interval(list(values))


@pytest.mark.parametrize("workers, batch_size, round_s, steps", [
    (0, 128, 0.05, 320),  # a short round is scaled up to the profile's shortest
    (0, 128, 3.0, 40),  # a long one down to its longest
    (0, 2048, 0.3, 5),  # within the range: left alone
    (2, 2048, 0.3, 16),  # but a DataLoader round holds four times its workers' queue (2 workers x 2 batches)
    (2, 2048, 3.0, 16),  # even when that is longer than the profile's longest
])
def test_rounds_are_fitted_to_a_duration_and_hold_more_batches_than_the_queue(workers, batch_size, round_s, steps,
                                                                             monkeypatch):
    config = BenchConfig(num_workers=workers, batch_size=batch_size, samples_per_round=10_240)
    workload = Workload(config, "train", config.steps_per_round, 0.0, step=lambda: None, sync=lambda: None)
    per_step_s = round_s / workload.steps_per_round
    monkeypatch.setattr(Workload, "timed_round", lambda self: per_step_s * self.steps_per_round)
    workload.fit_rounds(0.2, 1.5)
    assert workload.steps_per_round == steps


# the machine's state ----------------------------------------------------------------------------------------------

def _readings(slow: int, fast: int, wild: tuple[float, ...] = ()) -> list[float]:
    """Probe readings in a slow state near 95 and a fast one near 122 (a deterministic +-1.5% wobble)."""
    wobble = [1.0, 1.015, 0.985, 1.01, 0.99]
    return ([95.0 * wobble[i % 5] for i in range(slow)] + [122.0 * wobble[i % 5] for i in range(fast)]
            + list(wild))


def test_two_machine_states_are_found_and_split_between_them():
    states = state_split(_readings(300, 300, wild=(0.1, 3.0)))
    assert 95 * 1.015 < states.split < 122 * 0.985 and 3.0 < states.floor < 95 * 0.985


@pytest.mark.parametrize("readings", [
    _readings(600, 0),  # one state
    _readings(600, 0, wild=(40.0, 0.1, 60.0, 150.0, 125.0)),  # one state and a few wild readings
    _readings(590, 10),  # a second "state" of 10 readings in 600 is not one
    [100.0 * (1 + 0.004 * (i % 25 - 12)) for i in range(600)],  # a spread of +-5% with no gap
])
def test_one_state_or_a_few_wild_readings_are_not_two_states(readings):
    assert state_split(readings) is None


def test_the_probe_reads_a_rate():
    assert StateProbe()() > 0


def test_rounds_record_a_probe_reading_before_each_round():
    readings = iter([100.0, 120.0, 101.0, 119.0, 100.0, 121.0])
    measurement = run_rounds("samples_per_s", lambda: Timed(10.0), RoundPolicy(6, 6, 0.0, 1e9),
                             probe=lambda: next(readings))
    assert measurement.states == (100.0, 120.0, 101.0, 119.0, 100.0, 121.0)
    assert measurement.by_state(110.0) == ((10.0,) * 3, (10.0,) * 3)
    assert measurement.by_state(110.0, floor=100.5) == ((10.0,) * 3, (10.0,) * 1)  # wild readings: no state
    again = Measurement.from_info(measurement.to_info())
    assert again.states == measurement.states
