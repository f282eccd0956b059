"""`mnist-bench ab` without real workers: the blocks' order, the pairing, the verdicts, the file, the sides, the CLI.

Fake workers return rates computed from the block's place and side (no clock, no randomness that is not
seeded), so every assertion holds on any machine. test_ab_real.py runs real workers.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mnist_core.ab.abfile import ab_data, markdown_page, write_ab
from mnist_core.ab.analysis import Block, any_slower, paired_rates, row_results
from mnist_core.ab.schedule import neighbour_pairs, row_order, visit_order
from mnist_core.ab.session import (MAX_BLOCK_S, MAX_BLOCK_WALL_S, MIN_BLOCK_ROUNDS, START_UP_FACTOR, PLANS, AbPlan,
                                   AbRecord, AbSettings, block_seconds, run_session, selected)
from mnist_core.ab.sides import BASELINE, CURRENT, Side, SideSpec, prepared_sides
from mnist_core.errors import ConfigError
from mnist_core.measure.effect import FASTER, INCONCLUSIVE, SAME, SLOWER

ROWS = ["train/cpu-mlp-dataloader-bs128-w2", "train/cpu-cnn-resident-bs128", "loader/cpu-mlp-resident-bs128"]


# -- the order ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pairs", [1, 2, 3, 4, 7])
def test_every_visit_is_balanced_and_its_neighbours_pair_up(pairs):
    for seed in range(50):
        order = visit_order(random.Random(seed), pairs)
        assert len(order) == 2 * pairs and order.count(BASELINE) == order.count(CURRENT) == pairs
        pairs_found = neighbour_pairs(order)
        assert len(pairs_found) == pairs
        for baseline, current in pairs_found:
            assert abs(baseline - current) == 1 and order[baseline] == BASELINE and order[current] == CURRENT
        if pairs % 2 == 0:  # ABBA / BAAB: each side goes first in half the pairs, within every visit
            firsts = [order[index] for index in range(0, len(order), 2)]
            assert firsts.count(BASELINE) == firsts.count(CURRENT)


def test_the_order_is_reproducible_from_its_seed_and_random_across_seeds():
    orders = {tuple(visit_order(random.Random(seed), 4)) for seed in range(20)}
    assert visit_order(random.Random(7), 4) == visit_order(random.Random(7), 4)
    assert len(orders) == 4  # two groups of four, each ABBA or BAAB: all four combinations occur
    assert row_order(random.Random(3), ROWS) == row_order(random.Random(3), ROWS)
    assert sorted(row_order(random.Random(3), ROWS)) == sorted(ROWS)


def test_a_pair_of_one_side_is_refused():
    with pytest.raises(ValueError, match="not one of each side"):
        neighbour_pairs([BASELINE, BASELINE, CURRENT, CURRENT])
    with pytest.raises(ValueError):
        visit_order(random.Random(0), 0)


# -- block length -------------------------------------------------------------------------------------------
def test_blocks_are_long_against_start_up_and_short_against_state_changes():
    assert block_seconds(0.001, 1.0)[0] == 1.0  # a short start-up: the profile's block
    seconds, why = block_seconds(0.125, 1.0)  # a longer one stretches the block to START_UP_FACTOR times it ...
    assert seconds == START_UP_FACTOR * 0.125 and "start-up 125.0 ms" in why
    assert block_seconds(1.0, 1.0)[0] == MAX_BLOCK_S  # ... up to the cap


# -- pairing and verdicts -----------------------------------------------------------------------------------
def _blocks(row, baseline_rates, current_rates):
    """One block per side per pair, alternating which goes first."""
    blocks = []
    for pair, (base, cur) in enumerate(zip(baseline_rates, current_rates)):
        sides = [(BASELINE, base), (CURRENT, cur)] if pair % 2 == 0 else [(CURRENT, cur), (BASELINE, base)]
        for side, rate in sides:
            blocks.append(Block(len(blocks), 0, row, side, pair, (rate, rate), 0.001, float(len(blocks))))
    return blocks


# The machine's speed over twelve pairs: it moves by up to ±30%, both blocks of a pair alike.
DRIFT = [1.0, 0.7, 1.3, 0.9, 1.1, 0.75, 1.25, 0.95, 1.05, 0.8, 1.2, 1.0]


def test_a_row_twenty_percent_slower_is_slower_despite_drift_of_thirty():
    base = [1000 * speed for speed in DRIFT]
    current = [0.8 * rate * (1 + 0.01 * (-1) ** i) for i, rate in enumerate(base)]  # ±1% within a pair
    (result,) = row_results(_blocks("train/x", base, current), 10.0)
    assert result.verdict.label == SLOWER and result.pairs == 12
    assert result.effect.high < 1 / 1.1
    assert any_slower([result])


def test_unchanged_rows_are_same_and_a_faster_one_is_faster():
    base = [1000 * speed for speed in DRIFT]
    same = [rate * (1 + 0.01 * (-1) ** i) for i, rate in enumerate(base)]
    faster = [rate * 1.3 for rate in base]
    results = {r.row: r for r in row_results(_blocks("a", base, same) + _blocks("b", base, faster), 10.0)}
    assert results["a"].verdict.label == SAME and results["b"].verdict.label == FASTER
    assert not any_slower(results.values())


def test_five_pairs_are_too_few_for_a_verdict():
    (result,) = row_results(_blocks("x", [1000] * 5, [500] * 5), 10.0)
    assert result.verdict.label == INCONCLUSIVE


def test_a_block_without_its_partner_is_left_out_and_a_block_rate_is_its_samples_over_its_time():
    blocks = _blocks("x", [1000, 1000], [900, 900])[:-1]  # the last pair lost its second block
    assert paired_rates(blocks) == {"x": ([1000.0], [900.0])}
    block = Block(0, 0, "x", BASELINE, 0, (100.0, 300.0), 0.0, 0.0)
    assert block.rate == pytest.approx(150.0)  # two rounds of equal samples: 2 / (1/100 + 1/300)


# -- the session, with fake workers ----------------------------------------------------------------------
class FakeWorker:
    """Rates from the block's place in the session (the machine drifting) and the side's own factor per row."""

    started: list = []

    def __init__(self, side, rows, factors, dataset="fashion-mnist"):
        self.side, self.factors = side, factors
        self.hello = {"rows": rows, "skipped": {"train/cpu-mlp-resident-graph-bs128": "needs cuda"},
                      "dataset": {"name": dataset}, "pid": len(FakeWorker.started)}
        self.requests, self.row, self.closed = [], None, False
        FakeWorker.started.append(self)

    def request(self, op, **fields):
        self.requests.append((op, fields))
        if op == "open":
            self.row = fields["row"]
            steps = fields["steps_per_round"] or 10
            return {"steps_per_round": steps, "round_s": 0.25, "start_up_s": 0.002}
        if op == "block":
            speed = DRIFT[len(self.requests) % len(DRIFT)]
            rate = 1000 * speed * self.factors.get((self.side.name, self.row), 1.0)
            assert fields == {"seconds": 1.0, "min_rounds": MIN_BLOCK_ROUNDS, "max_wall_s": MAX_BLOCK_WALL_S}
            return {"rates": [rate] * 4, "start_up_s": 0.002}
        return {}

    def close(self):
        self.closed = True


def _settings(keyword=None, cycles=3, pairs=4):
    return AbSettings("quick", ("cpu",), None, None, keyword, seed=11, plan=AbPlan(cycles, pairs, 1.0, (0.1, 0.5)))


def _sides():
    return [Side(name, "python", __import__("pathlib").Path("."), {}, None, None) for name in (BASELINE, CURRENT)]


def _fake_session(factors, keyword=None, rows=ROWS, current_rows=None, datasets=("fashion-mnist",) * 2):
    FakeWorker.started = []
    starts = {BASELINE: (rows, datasets[0]), CURRENT: (current_rows or rows, datasets[1])}

    def start(side):
        row_list, dataset = starts[side.name]
        return FakeWorker(side, row_list, factors, dataset)

    visits = []
    record = run_session(AbRecord(_settings(keyword)), _sides(), start, clock=lambda: 0.0,
                         visited=lambda record: visits.append(len(record.blocks)))
    assert visits == [8 * (number + 1) for number in range(len(visits))]  # saved after every visit
    return record


def test_a_session_interleaves_both_sides_row_by_row_with_fresh_workers_each_cycle():
    record = _fake_session({})
    assert record.complete and record.rows == ROWS
    assert len(FakeWorker.started) == 6 and all(worker.closed for worker in FakeWorker.started)
    assert len(record.blocks) == 3 * len(ROWS) * 8
    for cycle in range(3):
        cycle_blocks = [block for block in record.blocks if block.cycle == cycle]
        for row in ROWS:  # one visit per row per cycle, its blocks consecutive
            indices = [block.index for block in cycle_blocks if block.row == row]
            assert indices == list(range(indices[0], indices[0] + 8))
    assert {len(pair) for pair in _by_pair(record.blocks).values()} == {2}
    fitters = [visit.fitted_by for visit in record.visits]
    assert fitters == [BASELINE] * 3 + [CURRENT] * 3 + [BASELINE] * 3  # which side fits the round alternates


def test_the_follower_times_the_fitters_round_and_the_block_length_is_recorded():
    record = _fake_session({})
    follower_opens = [fields for worker in FakeWorker.started[1:2] for op, fields in worker.requests if op == "open"]
    assert all(fields["steps_per_round"] == 10 for fields in follower_opens)
    fitter_opens = [fields for worker in FakeWorker.started[:1] for op, fields in worker.requests if op == "open"]
    assert fitter_opens and all(fields == {"row": fields["row"], "steps_per_round": None, "round_s": [0.1, 0.5]}
                                for fields in fitter_opens)  # the plan's round length, not the profile's
    assert all(visit.block_s == 1.0 and "start-up 2.0 ms" in visit.why for visit in record.visits)


@pytest.mark.parametrize("profile", sorted(PLANS))
def test_every_plans_rounds_are_short_enough_for_a_block_to_end_near_its_length(profile):
    """A block holds at least MIN_BLOCK_ROUNDS rounds: rounds longer than block_s / MIN_BLOCK_ROUNDS would
    stretch every block past its length (at `default` 1.5 s rounds made 2 s blocks last 3 s)."""
    plan = PLANS[profile]
    assert plan.round_s[0] < plan.round_s[1] <= plan.block_s / MIN_BLOCK_ROUNDS


def _by_pair(blocks):
    pairs = {}
    for block in blocks:
        pairs.setdefault((block.row, block.pair), set()).add(block.side)
    return pairs


def test_only_the_row_slowed_on_one_side_is_called_slower():
    record = _fake_session({(CURRENT, ROWS[1]): 0.8})
    results = {result.row: result.verdict.label for result in row_results(record.blocks, 10.0)}
    assert results == {ROWS[0]: SAME, ROWS[1]: SLOWER, ROWS[2]: SAME}


def test_rows_are_chosen_with_pytest_k_and_rows_of_one_side_are_recorded():
    record = _fake_session({}, keyword="train and not cnn", current_rows=ROWS[:2])
    assert record.rows == [ROWS[0]]
    assert record.rows_one_side == {ROWS[2]: BASELINE}
    assert selected(ROWS, "resident") == ROWS[1:]
    with pytest.raises(ConfigError, match="selects none"):
        _fake_session({}, keyword="nothing_matches")
    with pytest.raises(ConfigError, match="not a pytest -k expression"):
        selected(ROWS, "a and (")


def test_sides_that_loaded_different_datasets_are_refused():
    with pytest.raises(ConfigError, match="different datasets"):
        _fake_session({}, datasets=("mnist", "fashion-mnist"))


# -- the file and its page ------------------------------------------------------------------------------
def test_the_ab_file_holds_both_sides_rounds_in_order_and_its_page_answers_first(tmp_path):
    record = _fake_session({(CURRENT, ROWS[1]): 0.8})
    results = row_results(record.blocks, 10.0)
    data = ab_data(record, results, _sides(), threshold_pct=10.0, started_at=datetime(2026, 12, 3, tzinfo=timezone.utc),
                   wall_s=12.0, load={"before": [1.0, 1.0, 1.0], "after": [2.0, 1.0, 1.0]})
    page = write_ab(tmp_path / "ab.json", data, results)
    saved = json.loads((tmp_path / "ab.json").read_text())
    assert [block["index"] for block in saved["blocks"]] == list(range(len(record.blocks)))
    assert {block["side"] for block in saved["blocks"]} == {BASELINE, CURRENT}
    assert saved["settings"]["seed"] == 11 and saved["complete"] is True
    slower = next(result for result in saved["results"] if result["row"] == ROWS[1])
    assert slower["verdict"] == SLOWER and slower["change"]["high"] < 1
    text = page.read_text()
    assert text.splitlines()[2].startswith("current vs baseline") and "1 slower" in text.splitlines()[3]
    assert markdown_page(data, results) == text


# -- sides ----------------------------------------------------------------------------------------------------
def test_a_sides_tree_comes_first_on_its_path_then_its_own_entries_then_the_inherited_ones(tmp_path):
    side = Side(CURRENT, "python", tmp_path, {"PYTHONPATH": "tests", "X": "1"}, None, None)
    env = side.environment({"PYTHONPATH": "/inherited", "X": "0"})
    assert env["PYTHONPATH"].split(":") == [str(tmp_path), str(tmp_path / "tests"), "/inherited"]
    assert env["X"] == "1"


def _git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def _repo_with(tmp_path, path: str):
    """A git repository whose one commit holds `path`."""
    repo = tmp_path / "repo"
    (repo / path).parent.mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / path).write_text("old\n")
    _git(repo, "add", path)
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    return repo


def _worktrees(repo):
    return subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True).stdout


def test_a_ref_is_checked_out_in_a_temporary_worktree_for_the_session_only(tmp_path):
    repo = _repo_with(tmp_path, "mnist_core/ab/worker.py")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    with prepared_sides([SideSpec(BASELINE, ref="HEAD", env={"A": "1"}), SideSpec(CURRENT)], root=repo) as sides:
        baseline, current = sides
        assert baseline.commit == head and baseline.ref == "HEAD" and baseline.tree != repo
        assert (baseline.tree / "mnist_core/ab/worker.py").is_file() and baseline.env == {"A": "1"}
        assert current.tree == repo and current.commit == head and current.python == sys.executable
        assert len(_worktrees(repo).strip().splitlines()) == 2
    assert len(_worktrees(repo).strip().splitlines()) == 1 and not baseline.tree.exists()


def test_a_ref_that_predates_ab_is_refused_in_one_line_and_its_worktree_removed(tmp_path):
    repo = _repo_with(tmp_path, "README.md")
    with pytest.raises(ConfigError, match="predates `mnist-bench ab`"):
        with prepared_sides([SideSpec(BASELINE, ref="HEAD")], root=repo):
            pass
    assert len(_worktrees(repo).strip().splitlines()) == 1
    with pytest.raises(ConfigError, match="give a revision"):
        with prepared_sides([SideSpec(BASELINE, ref="no-such-ref")], root=repo):
            pass


# -- the command line -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args, fragment", [
    (["--current-env", "NO_EQUALS"], "is not KEY=VALUE"),
    (["--baseline-python", "/no/such/python"], "is not an executable interpreter"),
    (["-k", "a and ("], "is not a pytest -k expression"),
    (["--bench-profile", "huge"], "unknown profile"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, fragment):
    code, _, err = run_cli(capsys, "ab", "--results-dir", tmp_path, *args)
    assert_one_line_error(code, err, fragment)
    assert not list(tmp_path.glob("ab-*"))


# -- the fault a calibration uses -------------------------------------------------------------------------------
def test_slowdown_pct_sleeps_so_that_a_step_runs_that_share_slower(monkeypatch):
    import fault_injection

    clock, slept = iter([10.0, 10.8]), []  # the step takes 0.8 s
    monkeypatch.setattr(fault_injection.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(fault_injection.time, "sleep", slept.append)
    assert fault_injection._slowed(lambda: "stepped", 20.0)() == "stepped"
    assert slept == [pytest.approx(0.2)]  # 0.8 s + 0.2 s: 1 / 1.0 = 0.8 of 1 / 0.8, 20% fewer samples/s
    with pytest.raises(fault_injection.FaultError, match="slowdown_pct needs a percentage"):
        fault_injection.parse("slowdown_pct:100@model=cnn")


def test_sample_us_makes_every_sample_of_the_tutorial_s_dataset_that_much_slower_busy(monkeypatch):
    import fault_injection

    clock = iter([5.0, 5.00001, 5.00003, 5.00005])  # the wait ends once 40 µs have passed, read three times
    monkeypatch.setattr(fault_injection.time, "perf_counter", lambda: next(clock))
    slower = fault_injection._slower_samples(lambda self, index: ("image", index), 40.0)
    assert slower(None, 3) == ("image", 3)
    with pytest.raises(StopIteration):
        next(clock)  # no clock reading left over: it waited until 5.00004 had passed, no longer
    with pytest.raises(fault_injection.FaultError, match="sample_us needs microseconds and no @FIELD=VALUE"):
        fault_injection.parse("sample_us:40@model=cnn")


# -- calibration by redrawing real sessions' cycles --------------------------------------------------------------
def _ab_file(cycles: list[list[tuple[float, float]]], row: str = "train/x") -> dict:
    """An ab-run file's blocks: per cycle, (baseline, current) rates of each pair."""
    blocks, pair = [], 0
    for cycle, pairs in enumerate(cycles):
        for base, cur in pairs:
            for side, rate in ((BASELINE, base), (CURRENT, cur)):
                blocks.append(Block(len(blocks), cycle, row, side, pair, (rate,), 0.0, 0.0).asdict())
            pair += 1
    return {"blocks": blocks}


def test_a_redrawn_session_takes_whole_cycles_so_a_process_s_state_is_not_counted_as_many_pairs():
    from mnist_core.ab.calibration import cycle_ratios, redraw

    # within each cycle the four pairs agree (one process pair's state), between cycles they differ by ±12.5%
    sessions = [_ab_file([[(1000, 1000 * level)] * 4 for level in levels])
                for levels in ([1.125, 0.875, 1.0], [0.875, 1.125, 1.0], [1.125, 0.875, 1.0])]
    assert cycle_ratios(sessions[0])["train/x"] == [pytest.approx([level] * 4) for level in (1.125, 0.875, 1.0)]
    (row,) = redraw(sessions, draws=400, threshold_pct=10.0, seed=0)
    assert row.sessions == 3 and row.cycles_per_session == 3 and row.draws == 400
    # three cycles drawn from nine: all three +12.5% (or all three -12.5%) happens 2 x (3/9)^3 = 7.4% of the
    # time, and then the 12 pairs' interval lies beyond ±10%: a call.
    assert 0.03 < row.share("faster", "slower") < 0.12
    assert row.share("faster", "slower") == redraw(sessions, draws=400, threshold_pct=10.0, seed=0)[0].share(
        "faster", "slower")  # the same seed, the same draws


def test_a_change_laid_on_real_noise_is_found_as_often_as_its_size_allows():
    from mnist_core.ab.calibration import redraw, scaled

    drift = [[(1000 * speed, 1000 * speed * (1 + 0.02 * (-1) ** i)) for i, speed in enumerate(DRIFT[:4])]
             for _ in range(3)]
    quiet = [_ab_file(drift) for _ in range(4)]
    (unchanged,) = redraw(quiet, draws=200, threshold_pct=10.0, seed=1)
    (slowed,) = redraw([scaled(data, "train/x", 0.8) for data in quiet], draws=200, threshold_pct=10.0, seed=1)
    assert unchanged.share("faster", "slower") == 0 and unchanged.share("same") == 1
    assert slowed.share("slower") == 1
