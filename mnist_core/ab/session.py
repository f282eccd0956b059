"""An ab session: both sides of the same benchmark rows measured in one session, in short interleaved blocks.

Only one side measures at a time. The session runs `cycles` cycles; each starts one fresh worker process per
side (a process's own state, its memory layout and its threads' placement, then averages out over the cycles,
as pyperf's many workers do) and visits every selected row in a shuffled order. A visit opens the row on both
sides (one side fits the round length, alternating by cycle; the other uses the same round), decides the
block length, runs 2 x pairs_per_visit blocks in ABBA / BAAB order (schedule.py) and closes the row.

Round length: the plan's, not the profile's. In an ab session the block pair is the unit, not the round, so
rounds are kept short (a tenth to half a second) and a block ends close to its target length; the profile's
longer rounds (up to 1.5 s at `default`) made two-round blocks of 3 s where 2 s were asked for, and the
`default` matrix's 432 blocks took 36 minutes.

Block length: long against a block's start-up (the untimed settle steps and the request; at least
START_UP_FACTOR times it) and the profile's block_s at least, yet short against the machine's state changes
(on the 2-vCPU VM two speeds that last tens of seconds): at most MAX_BLOCK_S, so a pair spans a few seconds.
A block is measured in time, not rounds (both sides get the same time however fast each runs): whole rounds of
the fitted length until their timed seconds reach the block's length, at least MIN_BLOCK_ROUNDS.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mnist_core.ab.analysis import Block
from mnist_core.ab.schedule import neighbour_pairs, row_order, visit_order
from mnist_core.ab.sides import BASELINE, CURRENT, SIDES
from mnist_core.errors import ConfigError
from mnist_core.runs.row_ids import split_row_id

MIN_BLOCK_ROUNDS = 2
START_UP_FACTOR = 10.0  # a block's rounds last at least this many times its start-up: it is at most a tenth untimed
MAX_BLOCK_S = 3.0  # short against state changes of tens of seconds: a pair within ~6 s
MAX_BLOCK_WALL_S = 2 * MAX_BLOCK_S  # on a machine so busy that rounds crawl, a block still ends


@dataclass(frozen=True)
class AbPlan:
    """How many processes, visits and blocks a profile's ab session takes."""

    cycles: int  # fresh worker processes per side
    pairs_per_visit: int
    block_s: float  # the shortest block, in timed seconds
    round_s: tuple[float, float]  # a round's steps are fitted to last within these (Workload.fit_rounds)


# `default` differs from `quick` in its matrix (three times the rows), not in how each row is timed: the same
# blocks, rounds and pairs per row, so quick's calibration of a row's noise holds for it and 18 rows fit 25 min.
PLANS = {"quick": AbPlan(cycles=3, pairs_per_visit=4, block_s=1.0, round_s=(0.1, 0.5)),
         "default": AbPlan(cycles=3, pairs_per_visit=4, block_s=1.0, round_s=(0.1, 0.5)),
         "full": AbPlan(cycles=4, pairs_per_visit=4, block_s=3.0, round_s=(0.2, 1.0))}


@dataclass(frozen=True)
class AbSettings:
    profile: str
    devices: tuple[str, ...]
    dataset: str | None
    data_root: str | None
    keyword: str | None  # pytest's -k expression over the rows' names
    seed: int
    plan: AbPlan


@dataclass
class Visit:
    """One row's visit in one cycle: the round both sides timed and the block length chosen, and why."""

    cycle: int
    row: str
    fitted_by: str
    steps_per_round: int
    round_s: float
    start_up_s: float
    block_s: float
    why: str
    error: str | None = None

    def asdict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class AbRecord:
    """Everything a session measured, in the order it ran; filled as it runs, so an interrupted one keeps it."""

    settings: AbSettings
    rows: list[str] = field(default_factory=list)
    rows_one_side: dict[str, str] = field(default_factory=dict)  # row -> the only side that has it
    skipped: dict[str, str] = field(default_factory=dict)
    hellos: dict[str, list[dict]] = field(default_factory=lambda: {side: [] for side in SIDES})
    visits: list[Visit] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    complete: bool = False


def block_seconds(start_up_s: float, block_s: float) -> tuple[float, str]:
    """A block's timed seconds, and why."""
    target = min(MAX_BLOCK_S, max(block_s, START_UP_FACTOR * start_up_s))
    why = (f"start-up {start_up_s * 1e3:.1f} ms: blocks of {target:.2f} s of timed rounds (the larger of the "
           f"profile's {block_s:g} s and {START_UP_FACTOR:g}x start-up, at most {MAX_BLOCK_S:g} s against the "
           f"machine's state changes), at least {MIN_BLOCK_ROUNDS} rounds, none started after {MAX_BLOCK_WALL_S:g} s")
    return target, why


def selected(rows: Sequence[str], keyword: str | None) -> list[str]:
    """The rows pytest's `-k` would select from the benchmarks of these ids (test_train[...] and so on)."""
    if not keyword:
        return list(rows)
    from _pytest.mark import expression as grammar  # pytest's own -k grammar, as a benchmark session parses it

    errors = tuple(error for error in (getattr(grammar, "ParseError", None), SyntaxError) if error)  # by version
    try:
        expression = grammar.Expression.compile(keyword)
    except errors as exc:
        raise ConfigError(f"-k {keyword!r} is not a pytest -k expression ({exc}); e.g. -k 'resident and not cnn'") \
            from None

    def names(row: str) -> list[str]:
        kind, label = split_row_id(row)
        return [f"test_{kind}[{label}]", f"bench_{kind}.py", row]

    return [row for row in rows
            if expression.evaluate(lambda word, row=row: any(word.lower() in name.lower() for name in names(row)))]


def _common_rows(record: AbRecord, hellos: dict[str, dict]) -> None:
    baseline, current = hellos[BASELINE], hellos[CURRENT]
    if baseline["dataset"]["name"] != current["dataset"]["name"]:
        raise ConfigError(f"the sides loaded different datasets ({baseline['dataset']['name']} and "
                          f"{current['dataset']['name']}); name one with --dataset and --data-root")
    current_rows = set(current["rows"])
    both = [row for row in baseline["rows"] if row in current_rows]
    record.rows_one_side = {**{row: BASELINE for row in baseline["rows"] if row not in current_rows},
                            **{row: CURRENT for row in current["rows"] if row not in set(baseline["rows"])}}
    record.skipped = {**baseline["skipped"], **current["skipped"]}
    record.rows = selected(both, record.settings.keyword)
    if not record.rows:
        raise ConfigError(f"-k {record.settings.keyword!r} selects none of the rows both sides have "
                          f"({', '.join(both) or 'none'}); loosen it, e.g. -k resident")


Progress = Callable[[str], None]


def run_session(record: AbRecord, sides: Sequence, start_worker: Callable, progress: Progress = lambda line: None,
                clock: Callable[[], float] = time.perf_counter,
                visited: Callable[[AbRecord], None] = lambda record: None) -> AbRecord:
    """Run the session into `record`; `start_worker(side)` returns a started worker (with `hello`,
    `request(op, **fields)` and `close()`), so tests can run it with fake ones. `visited(record)` is called after
    every visit (the command rewrites its file then, so a session killed outright keeps its completed visits)."""
    settings, plan = record.settings, record.settings.plan
    rng = random.Random(settings.seed)
    by_name = {side.name: side for side in sides}
    start, pair_number, total_blocks = clock(), 0, None
    for cycle in range(plan.cycles):
        workers = {}
        try:
            for name in SIDES:
                workers[name] = start_worker(by_name[name])
            for name in SIDES:
                record.hellos[name].append(workers[name].hello)
            if cycle == 0:
                _common_rows(record, {name: worker.hello for name, worker in workers.items()})
                total_blocks = plan.cycles * len(record.rows) * 2 * plan.pairs_per_visit
            fitter, follower = (BASELINE, CURRENT) if cycle % 2 == 0 else (CURRENT, BASELINE)
            for row in row_order(rng, record.rows):
                try:
                    fitted = workers[fitter].request("open", row=row, steps_per_round=None,
                                                     round_s=list(plan.round_s))
                    followed = workers[follower].request("open", row=row, steps_per_round=fitted["steps_per_round"])
                except Exception as exc:  # noqa: BLE001  one row that cannot run on a side: recorded, rows go on
                    record.visits.append(Visit(cycle, row, fitter, 0, 0.0, 0.0, 0.0, "", f"{exc}"))
                    continue
                start_up_s = max(fitted["start_up_s"], followed["start_up_s"])
                seconds, why = block_seconds(start_up_s, plan.block_s)
                record.visits.append(Visit(cycle, row, fitter, fitted["steps_per_round"], fitted["round_s"],
                                           start_up_s, seconds, why))
                order = visit_order(rng, plan.pairs_per_visit)
                pair_of = {index: pair_number + number for number, indices in enumerate(neighbour_pairs(order))
                           for index in indices}
                pair_number += plan.pairs_per_visit
                for index, side in enumerate(order):
                    started = clock() - start
                    reply = workers[side].request("block", seconds=seconds, min_rounds=MIN_BLOCK_ROUNDS,
                                                  max_wall_s=MAX_BLOCK_WALL_S)
                    record.blocks.append(Block(len(record.blocks), cycle, row, side, pair_of[index],
                                               tuple(reply["rates"]), reply["start_up_s"], started))
                    done = len(record.blocks)
                    left = total_blocks - done
                    eta_s = (clock() - start) / done * left
                    progress(f"block {done}/{total_blocks}: {side} {row} (cycle {cycle + 1}/{plan.cycles}; "
                             f"{left} blocks left, ~{eta_s / 60:.1f} min left)")
                for worker in workers.values():
                    worker.request("close")
                visited(record)
        finally:
            for worker in workers.values():
                worker.close()
    record.complete = True
    return record
