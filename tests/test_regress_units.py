"""Regression checks on hand-made runs: verdicts, keys, matching, the machine-wide shift, rules, baselines, CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mnist_core.core.config import KEY_FIELDS, BenchConfig
from mnist_core.errors import BaselineError, RunFileError
from mnist_core.measure.effect import (SETTINGS_THRESHOLD_PCT, FASTER, INCONCLUSIVE, SAME, SLOWER, Effect, compare,
                                       smallest_slowdown_called_pct)
from mnist_core.regress.baselines import BASELINE_SECTION, baseline_path, find_baseline, save_baseline
from mnist_core.regress.comparison import MISSING, NEW, REGRESSION_THRESHOLD_PCT, SCATTER_PER_DRIFT, compare_runs
from mnist_core.regress.hardware_key import hardware_key, key_differences, key_slug
from mnist_core.regress.matching import MAX_STATE_FACTOR, Matched
from mnist_core.regress.render import comparison_lines
from mnist_core.regress.rules import HOLDS, NO_DIFFERENCE, NOT_APPLICABLE, VIOLATED, check_rules
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import typed_run
from mnist_core.runs.status import RunStatus
from cli_helpers import assert_one_line_error, run_cli

# Six rounds each (a 95% interval needs six): steady, and the same 20% slower.
FAST = [100.0, 101.0, 102.0, 100.5, 101.5, 99.5]
SLOW = [value * 0.8 for value in FAST]

MACHINE = {"gpu_name": None, "gpu_driver": None, "cuda_version": "12.8", "torch_version": "2.11.0+cu128",
           "cpu_model": "AMD EPYC 9654", "cpu_cores": 16, "cpu_cores_available": 16}


def config_row(kind="train", rounds=FAST, **fields) -> dict:
    spec = {"device": "cpu", "model": "mlp", "hidden_width": 32, "loader": "dataloader", "batch_size": 128,
            "num_workers": 2, "pin_memory": False, "non_blocking": False, "dataset": "mnist", **fields}
    return {"kind": kind, "samples_per_s_rounds": list(rounds), **spec}


def transfer_row(rounds, pinned, non_blocking, transfer="batch128") -> dict:
    return {"kind": "transfer", "device": "cuda", "transfer": transfer, "bytes": 401_408, "pin_memory": pinned,
            "non_blocking": non_blocking, "gb_s_rounds": list(rounds)}


def steady(*rows: dict) -> list[dict]:
    """Rows whose rounds were paired with a yardstick that did not drift: the session's drift is known to be 0."""
    return [{**row, "yardstick": "train/cpu-mlp-dataloader-bs128-w2",
             "yardstick_rounds": [50.0] * len(row["samples_per_s_rounds"])} for row in rows]


def make_data(*rows, machine=None, profile="default", complete=True, dataset="mnist", failed=()) -> dict:
    benchmarks = [{"name": f"test_{index}", "group": row.get("kind"), "extra_info": row, "stats": {}}
                  for index, row in enumerate(rows)]
    return {"machine_info": {**MACHINE, **(machine or {})}, "benchmarks": benchmarks,
            "mnist_bench": {"format_version": 2, "profile": profile, "dataset": {"name": dataset},
                            "complete": complete, "failed": list(failed), "skipped": []}}


def make_run(*rows, name="run.json", **options):
    return typed_run(Path(name), make_data(*rows, **options))


def verdicts(comparison) -> dict[str, str]:
    return {row.id.split("/", 1)[1].split("[")[-1]: row.status for row in comparison.rows}


# verdicts --------------------------------------------------------------------------------------------------------

def test_a_slowed_row_among_steady_ones_is_slower():
    sizes = (32, 64, 128, 256, 512, 1024)
    baseline = make_run(*steady(*[config_row(batch_size=size) for size in sizes]))
    current = make_run(*steady(*[config_row(batch_size=size, rounds=SLOW if size == 128 else FAST) for size in sizes]))
    comparison = compare_runs(baseline, current)
    assert [row.id for row in comparison.regressed] == ["train/cpu-mlp-dataloader-bs128-w2"]
    regressed = comparison.regressed[0]
    assert regressed.verdict.effect.ratio == pytest.approx(0.8, rel=0.01) and regressed.verdict.effect.high < 1 / 1.1
    assert comparison.count(SAME) == 5 and not comparison.shifts[0].verdict.decided  # the machine did not move


def test_unchanged_runs_have_no_verdict():
    rows = steady(*[config_row(batch_size=size) for size in (32, 128, 512, 2048)])  # 4 rows: the drift is known
    comparison = compare_runs(make_run(*rows), make_run(*rows))
    assert {row.status for row in comparison.rows} == {SAME} and not comparison.regressed


def test_the_resolution_line_says_how_large_a_slowdown_the_rows_had_to_measure():
    sizes = (32, 64, 128, 256, 512, 1024)
    rows = [config_row(batch_size=size) for size in sizes] + [config_row(batch_size=2048, rounds=FAST[:3])]
    comparison = compare_runs(make_run(*rows), make_run(*rows))  # the last row: too few rounds for a verdict
    resolution = comparison.resolution()
    called = [smallest_slowdown_called_pct(row.verdict.effect, 10) for row in comparison.rows[:6]]
    assert (resolution.rows, resolution.uncallable) == (7, 1)
    assert resolution.least_pct == min(called) and resolution.most_pct == max(called) > 10
    line = next(line for line in comparison_lines(comparison) if line.startswith("resolution:"))
    assert f"{resolution.median_pct:.1f}%, 6 rows" in line and "1 row(s) had too few rounds" in line


def test_a_change_smaller_than_the_threshold_is_same_or_inconclusive_never_a_verdict():
    sizes = (32, 64, 128, 256)
    rows = steady(*[config_row(batch_size=size) for size in sizes])
    five_pct = steady(*[config_row(batch_size=size, rounds=[value * 0.95 for value in FAST]) for size in sizes])
    comparison = compare_runs(make_run(*rows), make_run(*five_pct))
    assert {row.status for row in comparison.rows} <= {SAME, INCONCLUSIVE} and not comparison.regressed
    assert {row.status for row in compare_runs(make_run(*rows), make_run(*five_pct), 3).rows} == {SLOWER}


def test_an_unknown_drift_is_allowed_for():
    """Rows without yardstick rounds (format 1, or copies) cannot show their session's drift: an assumed
    allowance widens their interval, so the same 5% drop is inconclusive rather than slower."""
    sizes = (32, 64, 128, 256)
    rows = [config_row(batch_size=size) for size in sizes]
    five_pct = [config_row(batch_size=size, rounds=[value * 0.95 for value in FAST]) for size in sizes]
    assert {row.status for row in compare_runs(make_run(*rows), make_run(*five_pct), 3).rows} == {INCONCLUSIVE}


def test_too_few_rounds_never_give_a_verdict():
    three = [100.0, 101.0, 102.0]
    comparison = compare_runs(make_run(config_row(rounds=three)), make_run(config_row(rounds=[50.0, 51.0, 52.0])))
    (row,) = comparison.rows
    assert row.status == INCONCLUSIVE and "too few rounds" in row.verdict.why


def test_threshold_is_a_parameter():
    sizes = (32, 64, 128, 256)
    comparison = compare_runs(make_run(*steady(*[config_row(batch_size=size) for size in sizes])),
                              make_run(*steady(*[config_row(batch_size=size, rounds=SLOW) for size in sizes])), 30,
                              absolute=True)
    assert {row.status for row in comparison.rows} == {SAME}
    with pytest.raises(ValueError):
        compare_runs(make_run(config_row()), make_run(config_row()), 100)


def test_between_runs_the_default_threshold_is_the_regression_gates(tmp_path, capsys):
    """A steady row 7% slower: within REGRESSION_THRESHOLD_PCT (10%) between runs, so `compare` passes by default;
    --threshold 5 (the settings' threshold within a run) calls it slower."""
    assert REGRESSION_THRESHOLD_PCT == 10 and SETTINGS_THRESHOLD_PCT == 5
    sizes = (32, 64, 256, 512, 1024)
    others = steady(*[config_row(batch_size=size) for size in sizes])
    base = write_json_atomic(tmp_path / "base.json", make_data(*steady(config_row()), *others))
    seven_pct = steady(config_row(rounds=[value * 0.93 for value in FAST]))
    slow = write_json_atomic(tmp_path / "slow.json", make_data(*seven_pct, *others))
    code, out, _ = run_cli(capsys, "compare", str(base), str(slow))
    assert code == 0 and "threshold ±10%" in out
    code, out, _ = run_cli(capsys, "compare", str(base), str(slow), "--threshold", "5")
    assert code == 1 and "REGRESSION: 1 slower by more than 5%" in out


def test_a_shift_of_every_row_is_the_machine_not_a_regression():
    sizes = (32, 64, 128, 256, 512, 1024)
    comparison = compare_runs(make_run(*steady(*[config_row(batch_size=size) for size in sizes])),
                              make_run(*steady(*[config_row(batch_size=size, rounds=SLOW) for size in sizes])))
    assert not comparison.regressed and {row.status for row in comparison.rows} == {SAME}
    (shift,) = comparison.shifts
    assert shift.group == "cpu" and shift.verdict.label == SLOWER and shift.effect.ratio == pytest.approx(0.8, rel=0.01)
    absolute = compare_runs(make_run(*[config_row(batch_size=size) for size in sizes]),
                            make_run(*[config_row(batch_size=size, rounds=SLOW) for size in sizes]), absolute=True)
    assert len(absolute.regressed) == len(sizes) and not absolute.shifts


def _paired(rows_rounds, yardstick_factors):
    return [config_row(batch_size=64 * (index + 1), rounds=rounds, yardstick="train/cpu-mlp-dataloader-bs128-w2",
                       yardstick_rounds=[50.0 * factor] * len(rounds))
            for index, (rounds, factor) in enumerate(zip(rows_rounds, yardstick_factors))]


def test_a_row_measured_in_a_slower_minute_is_not_called_slower():
    """The yardstick beside the changed row ran 25% slower in the current run than beside it in the baseline:
    the machine was slower while it ran, so its 20% drop is inconclusive; the same drop in a steady minute is
    slower. What a row does to the yardstick beside it in both runs alike is not a slow minute."""
    base, changed = [FAST] * 5, [SLOW] + [FAST] * 4
    steady = [1.0] * 5
    assert compare_runs(make_run(*_paired(base, steady)), make_run(*_paired(changed, steady))).rows[0].status == SLOWER
    slow_minute = [0.75, 1.0, 1.0, 1.0, 1.0]
    assert compare_runs(make_run(*_paired(base, steady)),
                        make_run(*_paired(changed, slow_minute))).rows[0].status == INCONCLUSIVE
    same_offsets = [0.85, 1.0, 1.0, 1.0, 1.0]
    assert compare_runs(make_run(*_paired(base, same_offsets)),
                        make_run(*_paired(changed, same_offsets))).rows[0].status == SLOWER


def _pipelines(dataloader_factors, resident_factors, yardstick_levels=None):
    """Two runs of DataLoader rows (the tutorial's, the yardstick, first) and resident rows at several batch sizes,
    the current run's rows scaled by the factors; each row paired with a yardstick at its level (default 50: no
    drift)."""
    sizes = (128, 32, 512, 2048, 64, 256)
    specs = [dict(batch_size=size) for size in sizes[:len(dataloader_factors)]]
    specs += [dict(batch_size=size, loader="resident", num_workers=0) for size in sizes[:len(resident_factors)]]
    factors = list(dataloader_factors) + list(resident_factors)
    levels = yardstick_levels or [50.0] * len(factors)

    def rows(scaled):
        return [{**config_row(rounds=[value * (factor if scaled else 1.0) for value in FAST], **spec),
                 "yardstick": "train/cpu-mlp-dataloader-bs128-w2", "yardstick_rounds": [level] * len(FAST)}
                for spec, factor, level in zip(specs, factors, levels)]

    return compare_runs(make_run(*rows(False)), make_run(*rows(True)))


def test_a_slowdown_of_the_yardstick_path_is_the_rows_change_not_the_machines():
    """Every DataLoader row slower, the yardstick's own row too, by different amounts (a slower Dataset costs a
    small batch more than a large one), and the resident rows unmoved: the machine did not move, so each DataLoader
    row is called slower; their different slowdowns do not widen one another's intervals."""
    comparison = _pipelines([0.52, 0.55, 0.62, 0.7], [1.0, 1.0, 1.0])
    statuses = {row.id: row.status for row in comparison.rows}
    assert [statuses[row_id] for row_id in statuses if "dataloader" in row_id] == [SLOWER] * 4
    assert [statuses[row_id] for row_id in statuses if "resident" in row_id] == [SAME] * 3
    (shift,) = comparison.shifts
    assert shift.rows == 3 and not shift.shared_path and shift.effect.ratio == pytest.approx(1.0)


def test_the_machines_shift_is_read_off_the_rows_that_do_not_share_the_yardsticks_path():
    """Everything 20% slower, DataLoader and resident rows alike: the resident rows say the machine moved, so no
    row is called; the note names where the shift came from."""
    comparison = _pipelines([0.8] * 4, [0.8] * 3)
    assert not comparison.regressed and {row.status for row in comparison.rows} == {SAME}
    (shift,) = comparison.shifts
    assert shift.effect.ratio == pytest.approx(0.8) and shift.rows == 3 and not shift.shared_path
    assert "the 3 CPU rows off the DataLoader path" in "\n".join(comparison_lines(comparison))
    assert len(_pipelines([0.8] * 4, [1.0] * 3).regressed) == 4  # the resident rows did not move: the code did


def test_rows_that_all_share_the_yardsticks_path_say_a_shift_may_be_the_code():
    """With -k dataloader every row shares the path: a move of all of them is taken for the machine's, and the
    comparison says that the two look the same there."""
    comparison = _pipelines([0.8] * 6, [])
    (shift,) = comparison.shifts
    assert shift.shared_path and not comparison.regressed
    assert "a change of that path and a change of the machine look the same" in "\n".join(comparison_lines(comparison))


def test_the_between_session_allowance_grows_with_the_sessions_drift_not_with_the_rows_changes():
    """A row 20% slower among unmoved rows is called slower between two steady sessions; between sessions whose
    yardstick strayed by about +-10% (a noisy machine) rows may move that much on their own, so it is
    inconclusive. The allowance is SCATTER_PER_DRIFT times the two drifts, whatever the rows did."""
    steady_pair = _pipelines([1.0, 0.8, 1.0, 1.0], [1.0, 1.0, 1.0])
    assert verdicts(steady_pair)["cpu-mlp-dataloader-bs32-w2"] == SLOWER
    assert steady_pair.scatter_pct == {"cpu": 0.0}
    levels = [45.0, 55.0, 50.0, 44.0, 56.0, 50.0, 47.0]
    noisy_pair = _pipelines([1.0, 0.8, 1.0, 1.0], [1.0, 1.0, 1.0], levels)
    assert verdicts(noisy_pair)["cpu-mlp-dataloader-bs32-w2"] == INCONCLUSIVE
    assert noisy_pair.scatter_pct["cpu"] > 15
    assert "may move by ±" in "\n".join(comparison_lines(noisy_pair))


# Two speeds in one run: 12 rounds at one level, then 12 at another 40% slower (a 2-vCPU VM's two-thread
# compute does this for tens of seconds at a time).
TWO_LEVELS = FAST * 2 + [value * 0.6 for value in FAST * 2]


def _jumping(current_rounds):
    """Six steady rows in the baseline (four of FAST's rounds over); the bs128 row's rounds in the current run."""
    sizes = (32, 64, 128, 256, 512, 1024)
    baseline = make_run(*steady(*[config_row(batch_size=size, rounds=FAST * 4) for size in sizes]))
    current = make_run(*steady(*[config_row(batch_size=size, rounds=current_rounds if size == 128 else FAST * 4)
                                 for size in sizes]))
    return next(row for row in compare_runs(baseline, current).rows if row.id.endswith("bs128-w2"))


def test_a_row_that_ran_at_two_speeds_is_compared_level_with_level():
    """The baseline held one level: it may have been either of the current run's two, so the fast level
    (unchanged) and the slow one (40% down) disagree and nothing is called."""
    row = _jumping(TWO_LEVELS)
    assert row.current.level_jump_pct == pytest.approx(100 / 0.6 - 100, rel=0.05)
    assert row.status == INCONCLUSIVE
    assert row.note.startswith("ran at two speeds (") and "% within the current run): compared level with level" in row.note
    # both levels below the baseline's one: slower, whichever level the baseline held
    assert _jumping([value * 0.8 for value in TWO_LEVELS]).status == SLOWER
    # without the jump the same 40% drop is a regression
    assert _jumping([value * 0.6 for value in FAST * 4]).status == SLOWER


def test_runs_that_both_ran_at_two_speeds_compare_fast_with_fast_and_slow_with_slow():
    sizes = (32, 64, 128, 256, 512, 1024)
    baseline = make_run(*steady(*[config_row(batch_size=size, rounds=TWO_LEVELS) for size in sizes]))
    later = TWO_LEVELS[12:] + TWO_LEVELS[:12]  # slow first this time
    same = make_run(*steady(*[config_row(batch_size=size, rounds=later) for size in sizes]))
    assert {row.status for row in compare_runs(baseline, same).rows} == {SAME}
    slowed = make_run(*steady(*[config_row(batch_size=size, rounds=[value * 0.8 for value in later] if size == 128
                                           else later) for size in sizes]))
    assert [row.id for row in compare_runs(baseline, slowed).regressed] == ["train/cpu-mlp-dataloader-bs128-w2"]


SLOW_STATE, FAST_STATE = 95.0, 122.0  # state probe readings of the two machine states


def _in_states(rows_rounds_states):
    """Rows with a state probe reading before each round, paired with a yardstick that did not drift; six
    steady rows in the fast state come first so the comparison has a shift to work with."""
    rows = steady(*[config_row(batch_size=64 * (index + 1), rounds=FAST * 4, state_probe_rounds=[FAST_STATE] * 24)
                    for index in range(6)])
    rows += steady(*[config_row(batch_size=4096, rounds=rounds, state_probe_rounds=states)
                     for rounds, states in rows_rounds_states])
    return make_run(*rows)


def _row(comparison, size=4096):
    return next(row for row in comparison.rows if row.id.endswith(f"bs{size}-w2"))


def test_a_row_measured_in_different_machine_states_is_inconclusive():
    """The baseline measured the row in the slow state (its rounds 40% lower), the current run in the fast one:
    the probe says the machine changed speed, so the +67% is not called."""
    slow_rounds = [value * 0.6 for value in FAST * 4]
    baseline = _in_states([(slow_rounds, [SLOW_STATE] * 24)])
    current = _in_states([(FAST * 4, [FAST_STATE] * 24)])
    row = _row(compare_runs(baseline, current))
    assert row.status == INCONCLUSIVE and "different machine states" in row.note


def test_a_change_far_beyond_what_a_machine_state_could_cause_is_called_across_states():
    """No state in common, but the row runs at a fifth of its speed: more than MAX_STATE_FACTOR (2x) and the
    threshold together could explain, so it is slower; half its speed (what a state plus the threshold could
    nearly cause) stays inconclusive."""
    baseline = _in_states([(FAST * 4, [FAST_STATE] * 24)])
    fifth = _row(compare_runs(baseline, _in_states([([value * 0.2 for value in FAST * 4], [SLOW_STATE] * 24)])))
    assert fifth.status == SLOWER and "different machine states" in fifth.note
    assert fifth.verdict.effect.high < 0.2 * MAX_STATE_FACTOR * 1.1  # the interval judged is the widened one
    half = _row(compare_runs(baseline, _in_states([([value * 0.5 for value in FAST * 4], [SLOW_STATE] * 24)])))
    assert half.status == INCONCLUSIVE


def _with_sibling(state_ratio, target_rounds, target_states):
    """_in_states plus a row of the same pipeline (batch 32) measured in both states in this run, its slow-state
    rounds `state_ratio` of its fast ones: what the machine's state does to the pipeline."""
    run = _in_states([(target_rounds, target_states)])
    (sibling,) = steady(config_row(batch_size=32, rounds=FAST * 2 + [value * state_ratio for value in FAST * 2],
                                   state_probe_rounds=[FAST_STATE] * 12 + [SLOW_STATE] * 12))
    rows = [bench["extra_info"] for bench in run.data["benchmarks"]]
    return make_run(*rows, sibling)


def test_a_row_with_no_state_in_common_is_allowed_what_the_state_did_to_its_pipeline():
    """All fast in the baseline, all slow in the current run, 20% slower. Where the state moved a row of the same
    pipeline by 3%, the interval is widened by that and the drop is called; where it moved one by 40%, a 20% drop
    could be the state's doing and stays inconclusive."""
    fast_states, slow_states = [FAST_STATE] * 24, [SLOW_STATE] * 24
    slowed = [value * 0.8 for value in FAST * 4]
    mild = _row(compare_runs(_with_sibling(0.97, FAST * 4, fast_states), _with_sibling(0.97, slowed, slow_states)))
    assert mild.status == SLOWER and "widened 1.03x either way, the most the state moved a row of its pipeline" in mild.note
    strong = _row(compare_runs(_with_sibling(0.6, FAST * 4, fast_states), _with_sibling(0.6, slowed, slow_states)))
    assert strong.status == INCONCLUSIVE and "widened 1.67x" in strong.note


def test_two_dipped_probe_readings_are_not_a_measured_state():
    """A row of the pipeline ran at full speed through two probe readings that dipped into the slow range: too
    few rounds to say what the slow state does to the pipeline (MIN_STATE_ROUNDS), so an unchanged row measured
    fast in the baseline and slow in the current run, a third lower, is not called slower (with two such
    readings counted, the factor was 1.00 and a back-to-back A/A pair got four false 'slower')."""
    def run(rounds, states):
        sibling = config_row(batch_size=32, rounds=FAST * 2, state_probe_rounds=[FAST_STATE] * 10 + [SLOW_STATE] * 2)
        return make_run(*[bench["extra_info"] for bench in _in_states([(rounds, states)]).data["benchmarks"]], sibling)

    row = _row(compare_runs(run(FAST * 4, [FAST_STATE] * 24), run([value * 0.67 for value in FAST * 4],
                                                                   [SLOW_STATE] * 24)))
    assert row.status == INCONCLUSIVE and "no row of its pipeline in both" in row.note


def test_state_by_state_changes_are_pooled_when_they_agree_and_enveloped_when_not():
    """-20% measured precisely in one state and loosely in the other is one -20% change; strata that disagree
    (-20% and +20%) are not averaged into "no change": the verdict must hold in each."""
    agree = Matched((Effect(0.80, 0.77, 0.83, 0.96, "unpaired", 12), Effect(0.80, 0.62, 0.99, 0.96, "unpaired", 4)), "")
    assert compare(agree.joined(), 5).label == SLOWER
    disagree = Matched((Effect(0.80, 0.77, 0.83, 0.96, "unpaired", 12), Effect(1.2, 1.1, 1.3, 0.96, "unpaired", 12)), "")
    joined = disagree.joined()
    assert joined.low == 0.77 and joined.high == 1.3 and compare(joined, 5).label == INCONCLUSIVE


def test_rows_are_compared_state_with_state():
    """Both runs caught both states, in different shares: fast rounds are compared with fast, slow with slow.
    Unchanged: same; 20% slower in both states: slower."""
    mixed = FAST * 2 + [value * 0.6 for value in FAST * 2]
    states = [FAST_STATE] * 12 + [SLOW_STATE] * 12
    later = FAST + [value * 0.6 for value in FAST * 3]  # a quarter fast this time
    later_states = [FAST_STATE] * 6 + [SLOW_STATE] * 18
    baseline = _in_states([(mixed, states)])
    same = _row(compare_runs(baseline, _in_states([(later, later_states)])))
    assert same.status == SAME and same.note.startswith("compared in the machine's fast and slow states: ")
    slowed = _row(compare_runs(baseline, _in_states([([value * 0.8 for value in later], later_states)])))
    assert slowed.status == SLOWER


def test_runs_far_apart_are_flagged_as_such():
    """Runs saved hours apart get a note that their verdicts may be the machine's, and how to get one to trust;
    back-to-back runs, and runs that recorded no time, do not."""
    rows = steady(*[config_row(batch_size=size) for size in (32, 128, 512, 2048)])

    def at(when):
        data = make_data(*rows)
        if when:
            data["datetime"] = when
        return typed_run(Path("run.json"), data)

    def notes(first, second):
        return [line for line in comparison_lines(compare_runs(at(first), at(second))) if "apart" in line]

    (far,) = notes("2026-11-30T08:32:05+00:00", "2026-11-30T12:33:47+00:00")
    assert "4.0 h apart" in far and "run the baseline again now" in far
    assert notes("2026-11-30T12:25:45+00:00", "2026-11-30T12:33:47+00:00") == []
    assert notes(None, "2026-11-30T12:33:47+00:00") == [] and notes("not a time", "2026-11-30T12:33:47") == []


def test_overhead_rows_are_compared_on_the_suite_against_its_bare_loop():
    """The machine 40% faster for the whole of one run: the suite and the bare loop beside it both, so the
    overhead is unchanged and gets no verdict; a suite that got 20% slower than its bare loop does."""
    def overhead(factor, suite=1.0):
        return config_row(kind="overhead", loader="resident", rounds=[v * factor * suite for v in FAST],
                          yardstick="bare loop", yardstick_rounds=[v * factor for v in FAST])
    # these runs record no drift, so each is allowed OLD_RUN_DRIFT_PCT (5%): judged at 10%, "same" is reachable
    unchanged = compare_runs(make_run(overhead(1.0)), make_run(overhead(1.4)), threshold_pct=10)
    (row,) = unchanged.rows
    assert row.unit == "x bare loop" and row.current.median == pytest.approx(1.0) and row.status == SAME
    slower = compare_runs(make_run(overhead(1.0)), make_run(overhead(1.4, suite=0.8)), threshold_pct=10)
    assert slower.rows[0].status == SLOWER

# hardware keys and profiles --------------------------------------------------------------------------------------

def test_hardware_key_fields():
    run = make_run(config_row(), machine={"gpu_name": "NVIDIA H100 80GB HBM3", "gpu_driver": "570.133.20"})
    key = hardware_key(run)
    assert key == {"gpu": "NVIDIA H100 80GB HBM3", "driver_major": "570", "cuda": "12.8", "torch": "2.11",
                   "cpu": "AMD EPYC 9654", "cores": "16", "dataset": "mnist", "profile": "default"}
    assert key_slug(key) == "nvidia-h100-80gb-hbm3-drv570-cuda12-8-torch2-11-amd-epyc-9654-16c-mnist-default"
    assert key_slug(hardware_key(make_run(config_row()))).startswith("cpu-only-cuda12-8-torch2-11-")


def test_patch_versions_share_a_key_minor_versions_do_not_and_a_profile_is_not_hardware():
    base = hardware_key(make_run(config_row()))
    assert hardware_key(make_run(config_row(), machine={"torch_version": "2.11.1"})) == base
    other = hardware_key(make_run(config_row(), machine={"torch_version": "2.12.0"}, profile="quick"))
    assert key_differences(base, other) == ["torch 2.11 vs 2.12"]


def test_a_profile_mismatch_is_its_own_message():
    with pytest.raises(BaselineError) as info:
        compare_runs(make_run(config_row()), make_run(config_row(), profile="quick"), allow_hardware_mismatch=True)
    message = str(info.value)
    assert "default-profile run" in message and "quick-profile run" in message and "hardware" not in message


# matching ----------------------------------------------------------------------------------------------------------

def test_key_fields_are_bench_config_key():
    config = BenchConfig(batch_size=512, num_workers=4, pin_memory=False, non_blocking=False)
    assert tuple(config.asdict()[name] for name in KEY_FIELDS) == config.key()


def test_matched_by_configuration_not_name_or_order():
    rows = steady(config_row(num_workers=0), config_row(num_workers=2), config_row(loader="resident", num_workers=0),
                  config_row(kind="loader", num_workers=2))
    baseline = make_data(*rows)
    current = make_data(*reversed([{**row, "samples_per_s_rounds": SLOW} if row["num_workers"] == 0 and
                                   row["loader"] == "dataloader" else row for row in rows]))
    for position, bench in enumerate(current["benchmarks"]):
        bench["name"] = f"renamed_{position}"
    comparison = compare_runs(typed_run(Path("a"), baseline), typed_run(Path("b"), current), absolute=True)
    assert {row.id: row.status for row in comparison.rows} == {
        "train/cpu-mlp-dataloader-bs128-w0": SLOWER, "train/cpu-mlp-dataloader-bs128-w2": SAME,
        "train/cpu-mlp-resident-bs128": SAME, "loader/cpu-mlp-dataloader-bs128-w2": SAME}


def test_new_missing_accuracy_and_transfer_rows():
    accuracy = {"kind": "accuracy", "device": "cpu", "model": "mlp", "hidden_width": 32, "loader": "dataloader",
                "batch_size": 128, "num_workers": 2, "pin_memory": False, "non_blocking": False,
                "target_accuracy": 0.84, "reached": True, "epochs": 3, "seconds": 12.0, "seconds_to_target": 12.0}
    copies = [6.0, 6.1, 6.2, 6.05, 6.15, 5.95]
    baseline = make_run(config_row(batch_size=32), config_row(), accuracy, transfer_row(copies, True, True))
    current = make_run(config_row(), config_row(batch_size=512), accuracy,
                       transfer_row([value * 0.7 for value in copies], True, True),
                       failed=[{"id": "train/cpu-mlp-dataloader-bs32-w2", "kind": "train",
                                "config": config_row(batch_size=32), "reason": "OutOfMemoryError: x"}])
    comparison = compare_runs(baseline, current)
    by_id = {row.id: row for row in comparison.rows}
    assert by_id["train/cpu-mlp-dataloader-bs32-w2"].status == MISSING
    assert "OutOfMemoryError" in by_id["train/cpu-mlp-dataloader-bs32-w2"].note
    assert by_id["train/cpu-mlp-dataloader-bs512-w2"].status == NEW
    copy_row = by_id["transfer/cuda-h2d-batch128-pinned-nb"]
    assert copy_row.unit == "GB/s" and copy_row.status == SLOWER
    assert comparison.not_compared == {"accuracy": 1}


def test_unusable_comparisons_raise_baseline_error():
    run = make_run(config_row())
    with pytest.raises(BaselineError, match="different hardware keys .*torch 2.11 vs 2.12.*--allow-hardware-mismatch"):
        compare_runs(run, make_run(config_row(), machine={"torch_version": "2.12.0"}))
    assert compare_runs(run, make_run(config_row(), machine={"torch_version": "2.12.0"}),
                        allow_hardware_mismatch=True).key_differences == ("torch 2.11 vs 2.12",)
    with pytest.raises(BaselineError, match="no benchmark configuration is in both"):
        compare_runs(run, make_run(config_row(batch_size=512)))
    with pytest.raises(RunFileError, match="two benchmarks measured"):
        make_run(config_row(), config_row())


def test_partial_runs_are_compared_and_said_to_be_partial():
    comparison = compare_runs(make_run(config_row(), config_row(num_workers=0)), make_run(config_row(), complete=False))
    assert (comparison.baseline_status, comparison.current_status) == (RunStatus.COMPLETE, RunStatus.STOPPED_EARLY)
    assert [row.note for row in comparison.rows if row.status == MISSING] == [
        "not run: the current run is PARTIAL (stopped early)"]


# setting rules ---------------------------------------------------------------------------------------------------

def rule(results, name):
    return next(result for result in results if result.rule == name)


def test_rules_on_a_cpu_run():
    run = make_run(config_row(kind="loader", num_workers=0, rounds=SLOW), config_row(kind="loader", num_workers=2),
                   config_row(kind="loader", loader="resident", num_workers=0, rounds=[value * 10 for value in FAST]),
                   config_row(num_workers=2), config_row(loader="resident", num_workers=0, rounds=SLOW))
    results = check_rules(run)
    assert rule(results, "pinned-nb").outcome == NOT_APPLICABLE and "no CUDA" in rule(results, "pinned-nb").reason
    workers = rule(results, "workers")
    assert workers.outcome == HOLDS and len(workers.pairs) == 1
    resident = rule(results, "resident")
    assert resident.outcome == VIOLATED  # the train resident row is slower than the train dataloader row
    assert [pair.outcome for pair in resident.pairs] == [HOLDS, VIOLATED]
    assert resident.pairs[1].verdict.effect.ratio == pytest.approx(0.8, rel=0.01)


def test_resident_is_compared_with_the_fastest_dataloader_setting():
    run = make_run(config_row(loader="resident", num_workers=0, rounds=[value * 1.1 for value in FAST]),
                   config_row(num_workers=0, rounds=SLOW), config_row(num_workers=2, rounds=[v * 1.3 for v in FAST]))
    pair = rule(check_rules(run), "resident").pairs[0]
    assert pair.other.config.num_workers == 2 and pair.outcome == VIOLATED


def test_pinned_non_blocking_rule_on_cuda_rows():
    cuda = dict(device="cuda", num_workers=2)
    run = make_run(config_row(pin_memory=True, non_blocking=True, rounds=[v * 1.5 for v in FAST], **cuda),
                   config_row(pin_memory=False, non_blocking=False, **cuda),
                   config_row(pin_memory=True, non_blocking=False, rounds=SLOW, **cuda),
                   config_row(pin_memory=True, non_blocking=True, batch_size=512, rounds=[v * 1.01 for v in FAST], **cuda),
                   config_row(pin_memory=False, non_blocking=False, batch_size=512, **cuda),
                   transfer_row([10.0, 10.5, 11.0, 10.2, 10.8, 10.4], True, True),
                   transfer_row([20.0, 20.5, 21.0, 20.2, 20.8, 20.4], False, False))
    pinned = rule(check_rules(run), "pinned-nb")
    outcomes = {pair.favoured.id: pair.outcome for pair in pinned.pairs}
    assert outcomes == {"train/cuda-mlp-dataloader-bs128-w2-pin-nb": HOLDS,
                        "train/cuda-mlp-dataloader-bs512-w2-pin-nb": NO_DIFFERENCE,
                        "transfer/cuda-h2d-batch128-pinned-nb": VIOLATED}
    assert pinned.outcome == VIOLATED


# baselines and the CLI on hand-made files ---------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unfolded, so their cells can be searched


def test_baseline_save_refuses_to_replace_without_force(tmp_path, capsys):
    run_path = write_json_atomic(tmp_path / "run-1.json", make_data(config_row()))
    code, out, err = run_cli(capsys, "baseline", "save", str(run_path), "--results-dir", str(tmp_path))
    assert code == 0, err
    saved = baseline_path(tmp_path, hardware_key(make_run(config_row())))
    assert saved.is_file() and str(saved.name) in out.replace("\n", "")
    stored = json.loads(saved.read_text())
    assert stored[BASELINE_SECTION]["source"] == str(run_path) and stored["benchmarks"]
    code, _, err = run_cli(capsys, "baseline", "save", str(run_path), "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "already exists", "--force")
    code, _, err = run_cli(capsys, "baseline", "save", "--force", "--results-dir", str(tmp_path))  # latest run
    assert code == 0, err
    code, out, _ = run_cli(capsys, "baseline", "show", "--results-dir", str(tmp_path))
    assert code == 0 and "AMD EPYC 9654" in out


def test_check_without_a_baseline_names_the_fix(tmp_path, capsys):
    run_path = write_json_atomic(tmp_path / "run-1.json", make_data(config_row()))
    code, _, err = run_cli(capsys, "check", str(run_path), "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "no baseline for this machine", "mnist-bench baseline save")


def test_check_names_this_machines_baseline_of_another_profile(tmp_path, capsys):
    save_baseline(make_run(config_row(), profile="default", name="default.json"), tmp_path)
    run_path = write_json_atomic(tmp_path / "run-quick.json", make_data(config_row(), profile="quick"))
    code, _, err = run_cli(capsys, "check", str(run_path), "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "no quick-profile baseline for this machine", "default-profile baseline",
                          "--bench-profile=default")
    assert "hardware" not in err


def test_check_falls_back_to_the_closest_baseline_only_when_allowed(tmp_path):
    save_baseline(make_run(config_row(), machine={"torch_version": "2.10.0"}, name="old"), tmp_path)
    save_baseline(make_run(config_row(), machine={"torch_version": "2.9.0", "cpu_model": "x"}, name="older"), tmp_path)
    current = make_run(config_row())
    with pytest.raises(BaselineError):
        find_baseline(tmp_path, current)
    chosen = find_baseline(tmp_path, current, allow_hardware_mismatch=True)
    assert "torch2-10" in chosen.name


def test_compare_exit_codes_on_hand_made_runs(tmp_path, capsys):
    sizes = (32, 64, 256, 512, 1024)
    steady = [config_row(batch_size=size) for size in sizes]
    base = write_json_atomic(tmp_path / "base.json", make_data(config_row(), *steady))
    same = write_json_atomic(tmp_path / "same.json", {**make_data(config_row(), *steady),  # another session's
                                                      "datetime": "2026-11-20T10:01:00+00:00"})
    slow_data = make_data(config_row(rounds=SLOW), *steady)
    slow = write_json_atomic(tmp_path / "slow.json", slow_data)
    code, out, _ = run_cli(capsys, "compare", str(base), str(same))
    assert code == 0 and "no regression" in out
    code, out, _ = run_cli(capsys, "compare", str(base), str(slow))
    assert code == 1 and "REGRESSION" in out and "slower" in out
    code, _, _ = run_cli(capsys, "compare", str(base), str(slow), "--threshold", "30%")
    assert code == 0
    code, _, err = run_cli(capsys, "compare", str(base), str(slow), "--threshold", "150")
    assert_one_line_error(code, err, "--threshold")
    partial = copy.deepcopy(slow_data)
    partial["mnist_bench"]["complete"] = False
    code, out, _ = run_cli(capsys, "compare", str(base), str(write_json_atomic(tmp_path / "p.json", partial)))
    assert code == 1 and "PARTIAL" in out


def test_faster_rows_are_reported_but_never_fail_the_check():
    sizes = (32, 64, 128, 256, 512, 1024)
    comparison = compare_runs(make_run(*[config_row(batch_size=size) for size in sizes]),
                              make_run(*[config_row(batch_size=size, rounds=[v * 1.3 for v in FAST] if size == 32
                                                    else FAST) for size in sizes]))
    assert comparison.count(FASTER) == 1 and not comparison.regressed
