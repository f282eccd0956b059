"""Matching one row's rounds across two runs, so a change of the machine's speed is not read as a change of code.

A machine can run at two speeds for tens of seconds at a time (measure/machine_state.py). When the state probe
read before every round shows two states across the two runs, a row's rounds are compared state with state
(fast with fast, slow with slow, MIN_STATE_ROUNDS or more a side). The state-by-state changes are independent
measurements of one change: when their intervals agree they are pooled (weighted by precision), otherwise the
verdict must hold for each of them (their envelope).

A row with no state in common (all its rounds fast in one run and slow in the other) is compared across states
with its interval widened, in full, by the most the state could have moved it: the largest fast-vs-slow ratio
measured in these two runs on any row of its pipeline (state_factors), or MAX_STATE_FACTOR when none of them
was measured in both states. A DataLoader-bound pipeline feels the state less (1.00-1.25 over the eight A/A
pairs on the 2-vCPU VM), so a 20% slowdown can still be seen there; a compute-bound one moved 1.4-1.6x (the
compiled resident MLP up to 1.74x), so only a far larger change is.

Runs without probe readings fall back to the rows' own levels (Measurement.levels): a row that ran at two
levels is compared level with level, and a run that held one level with each of the other's, since it may have
held either.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, log

from mnist_core.measure.effect import Effect, pooled, unpaired
from mnist_core.measure.machine_state import States, state_split
from mnist_core.measure.measurement import Measurement
from mnist_core.runs.rows import AccuracyRow, Row, TransferRow
from mnist_core.runs.runfile import Run

MIN_STATE_ROUNDS = 4  # rounds in one machine state, in each run, for a state's comparison (an exact 95% interval)
# Rounds in each state, within one run, for a row's fast-vs-slow ratio to count towards its pipeline's state
# factor (a point estimate; the largest over the pipeline's rows and both runs is taken). Two were too few: two
# probe readings that dipped while the row ran at full speed made the resident MLP's factor 1.00 instead of about
# 1.5, and a back-to-back A/A pair then called all four resident MLP rows slower (docs/evidence/.../aa/default-4).
STATE_FACTOR_ROUNDS = MIN_STATE_ROUNDS
# The most a machine state can move a row's speed, either way, when nothing in the two runs measured it. On the
# 2-vCPU VM the states moved rows by up to 1.74x (the compiled resident MLP, docs/evidence/.../aa/default-8; the eager
# one up to 1.61x); 2 leaves a margin.
MAX_STATE_FACTOR = 2.0


@dataclass(frozen=True)
class Matched:
    """How one row's rounds were compared: the effects its verdict rests on (empty when it has no machine state
    in common between the runs) and the note a reader needs ("" when compared plainly)."""

    effects: tuple[Effect, ...]
    note: str

    def joined(self) -> Effect:
        """One effect from the state-by-state (or level-by-level) ones: pooled when their intervals share a
        point (one change, measured in independent strata), else the envelope of them all."""
        effects = self.effects
        if max(effect.low for effect in effects) <= min(effect.high for effect in effects):
            return pooled(*effects)
        centre = exp(sum(log(effect.ratio) for effect in effects) / len(effects))
        return Effect(centre, min(effect.low for effect in effects), max(effect.high for effect in effects),
                      min(effect.confidence for effect in effects), effects[0].method, min(e.pairs for e in effects))


def compared(row: Row) -> Measurement:
    """What a row is judged on between runs: an overhead row's rounds as multiples of the bare loop's round
    beside each (the suite's overhead, which a machine's speed cancels out of); any other row's own rounds."""
    measurement = row.measurement
    if row.kind == "overhead" and measurement.paired:
        return Measurement("ratio", measurement.normalised(), subject=row.id)
    return measurement


def group_of(row: Row) -> str:
    """The rows a machine-wide change is shared by: a device's, or the host-device copies."""
    return "copies" if isinstance(row, TransferRow) else row.config.device


def machine_states(baseline: Run, current: Run) -> States | None:
    """Where the machine-state probe's readings of both runs divide into a fast and a slow state, if they do."""
    readings = [state for run in (baseline, current) for row in run.rows
                if not isinstance(row, AccuracyRow) for state in row.measurement.states]
    return state_split(readings)


def pipeline(row: Row) -> tuple:
    """What decides how a machine state moves a row: its kind, device, model and loader (not its batch size or
    workers: a DataLoader-bound pipeline is bound by its loader at every batch size)."""
    config = getattr(row, "config", None)
    return (row.kind, group_of(row)) + (() if config is None else (config.model, config.hidden_width, config.loader))


def state_factors(runs: tuple[Run, ...], states: States | None) -> dict[tuple, float]:
    """Per pipeline: the most the machine's state moved any of its rows, either way, where a run measured a row
    in both states (STATE_FACTOR_ROUNDS or more rounds in each), at most MAX_STATE_FACTOR. Pipelines never
    measured in both states are absent."""
    factors: dict[tuple, float] = {}
    if states is None:
        return factors
    for run in runs:
        for row in run.rows:
            if isinstance(row, AccuracyRow) or not row.measurement.states:
                continue
            fast, slow = compared(row).by_state(states.split, states.floor)
            if min(len(fast), len(slow)) >= STATE_FACTOR_ROUNDS:
                ratio = unpaired(fast, slow).ratio
                moved = min(max(ratio, 1 / ratio), MAX_STATE_FACTOR)
                factors[pipeline(row)] = max(factors.get(pipeline(row), 1.0), moved)
    return factors


def state_allowance(row: Row, factors: dict[tuple, float]) -> tuple[float, str]:
    """How far either way the machine's state may have moved a row with no state in common, and the note that
    says so."""
    factor = factors.get(pipeline(row))
    different = "measured in different machine states (the state probe read the other speed in the other run)"
    if factor is None:
        return MAX_STATE_FACTOR, (f"{different}, and no row of its pipeline in both: compared across states, the "
                                  f"interval widened {MAX_STATE_FACTOR:g}x either way")
    return factor, (f"{different}: compared across states, the interval widened {factor:.2f}x either way, the most "
                    f"the state moved a row of its pipeline in these runs")


def _by_state(new: Measurement, old: Measurement, states: States) -> Matched:
    effects, names = [], []
    for name, after, before in zip(("fast", "slow"), new.by_state(states.split, states.floor),
                                   old.by_state(states.split, states.floor)):
        if len(after) >= MIN_STATE_ROUNDS and len(before) >= MIN_STATE_ROUNDS:
            effects.append(unpaired(after, before))
            names.append(name)
    readings = [value for value in new.states + old.states if value >= states.floor]
    if not effects or not min(readings) < states.split <= max(readings):  # every round in one state: plainly
        return Matched(tuple(effects), "")
    return Matched(tuple(effects), f"compared in the machine's {' and '.join(names)} state{'s' if len(names) > 1 else ''}")


def _by_level(new: Measurement, old: Measurement) -> Matched:
    new_levels, old_levels = new.levels(), old.levels()
    if len(new_levels) == len(old_levels):
        pairs = list(zip(new_levels, old_levels))
    else:  # a run that held one level may have held either of the other's
        pairs = [(after, before) for after in new_levels for before in old_levels]
    jumped = [f"{measurement.level_jump_pct:.0f}% within the {role}" for measurement, role in
              ((old, "baseline"), (new, "current run")) if measurement.level_jump_pct is not None]
    note = f"ran at two speeds ({' and '.join(jumped)}): compared level with level" if jumped else ""
    return Matched(tuple(unpaired(after, before) for after, before in pairs), note)


def matched(new: Measurement, old: Measurement, states: States | None) -> Matched:
    """new's rounds against old's, state with state where the probe tells states, else level with level."""
    if states is not None and new.states and old.states:
        return _by_state(new, old, states)
    return _by_level(new, old)
