"""The regression gate, calibrated: false alarms and power from synthetic sessions resampled from real ones.

Each profile has an A/A pair committed under results/: two unchanged sessions on the 2-core machine, one after
the other. A synthetic comparison redraws every row's rounds from that pair, always across it: for each row,
one real session gives the baseline's rounds and the other the current run's, which is which drawn at random
per row, each taking the row's number of consecutive rounds from a random place in that session's rounds of
the row (read in a circle), with the yardstick round and the machine-state probe reading that were beside each.
So every row comparison is between two real sessions, with what the machine really did: their noise, their
drift, a row's level in each session (two sessions can differ by a fifth on a row whose speed flips, with no
sign of it in the row's own rounds within either), and its jumps within one.
Two synthetic sessions compared must give a verdict (faster or slower) in at most 1% of row comparisons, for
quick and default; a training row slowed by 20% must be called slower in at least 90% of trials at default,
every training row slowed in turn. The draws use a fixed seed; the rates measured with it, and with other
seeds, are stated beside each limit.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from statistics import median

import pytest

from conftest import REPO_ROOT
from mnist_core.measure.effect import FASTER, SLOWER
from mnist_core.regress.comparison import compare_runs
from mnist_core.runs.rows import ThroughputRow
from mnist_core.runs.runfile import read_run, typed_run

AA = REPO_ROOT / "results" / "cpu-amd-epyc-2core" / "aa"
TRIALS = 300  # unchanged comparisons per profile
TRIALS_PER_ROW = 40  # comparisons with each training row slowed in turn
SLOWDOWN = 0.8
SEED = 20261130


def committed(profile: str) -> list[Path]:
    paths = sorted((AA / profile).glob("run-*.json"))
    assert len(paths) == 2, f"the A/A pair of the {profile} profile is committed under {AA / profile}"
    return paths


def _id(bench: dict) -> str:
    return f"{bench['extra_info']['kind']}/{bench['name'][bench['name'].index('[') + 1:-1]}"


class Pair:
    """The rounds of an A/A pair: per row, each session's rounds with the yardstick round and the state probe
    reading beside each."""

    def __init__(self, paths: list[Path]):
        runs = [read_run(path) for path in paths]
        self.template = json.loads(paths[0].read_text())
        by_id = [{row.id: row for row in run.rows if isinstance(row, ThroughputRow)} for run in runs]
        self.sessions = {}
        for row_id, row in by_id[0].items():
            other = by_id[1].get(row_id)
            if other is None or row.measurement.paired != other.measurement.paired:
                continue
            self.sessions[row_id] = (row.measurement.rounds, [
                (measured.measurement.rates, measured.measurement.yardstick_rates, measured.measurement.states)
                for measured in (row, other)])
        self.train_rows = sorted(row_id for row_id in self.sessions if row_id.startswith("train/"))

    def session(self, rng: random.Random, sides: dict[str, int], slowed: str | None = None) -> dict:
        """A run file whose rows take their rounds from real session sides[row] (0 or 1); `slowed`'s at 80%."""
        data = json.loads(json.dumps(self.template))
        data["benchmarks"] = [bench for bench in data["benchmarks"]
                              if "samples_per_s_rounds" not in bench["extra_info"] or _id(bench) in self.sessions]
        for bench in data["benchmarks"]:
            if _id(bench) not in self.sessions:
                continue
            rounds, sessions = self.sessions[_id(bench)]
            rates, yardstick, states = sessions[sides[_id(bench)]]
            start = rng.randrange(len(rates))
            picked = [(start + offset) % len(rates) for offset in range(rounds)]
            factor = SLOWDOWN if _id(bench) == slowed else 1.0
            info = bench["extra_info"]
            info["samples_per_s_rounds"] = [rates[index] * factor for index in picked]
            info["samples_per_s"] = median(info["samples_per_s_rounds"])
            if yardstick:
                info["yardstick_rounds"] = [yardstick[index] for index in picked]
            info["state_probe_rounds"] = [states[index] for index in picked] if states else []
            bench["stats"]["data"] = [1.0 / rate for rate in info["samples_per_s_rounds"]]
        return data

    def compared(self, rng: random.Random, slowed: str | None = None):
        """One synthetic comparison: every row's baseline from one real session and its current from the other."""
        sides = {row_id: rng.randrange(2) for row_id in self.sessions}
        before = typed_run(Path("a.json"), self.session(rng, sides))
        after = typed_run(Path("b.json"), self.session(rng, {row_id: 1 - side for row_id, side in sides.items()},
                                                       slowed))
        return compare_runs(before, after).rows


def rates_for(profile: str, slowed: bool, seed: int = SEED) -> tuple[float, float]:
    """(share of unchanged row comparisons with a verdict, share of trials where the slowed row was slower)."""
    pair = Pair(committed(profile))
    rng = random.Random(seed)
    targets = [target for target in pair.train_rows for _ in range(TRIALS_PER_ROW)] if slowed else [None] * TRIALS
    verdicts = comparisons = detected = 0
    for target in targets:
        for row in pair.compared(rng, target):
            if row.id == target:
                detected += row.status == SLOWER
            else:
                comparisons += 1
                verdicts += row.status in (SLOWER, FASTER)
    return verdicts / comparisons, detected / len(targets)


@pytest.mark.parametrize("profile", ["quick", "default"])
def test_unchanged_sessions_give_no_verdict(profile):
    """At most 1% of row comparisons between unchanged sessions get a verdict (measured: quick 0.00%, default
    0.00%, with this seed and with seeds 1-3). Without the state allowance (regress/matching.py) the same draws
    give 12.5% and 5.3%."""
    false_alarms, _ = rates_for(profile, slowed=False)
    assert false_alarms <= 0.01, f"{false_alarms:.2%} of unchanged rows got a verdict"


def test_a_twenty_percent_slowdown_is_found_at_default():
    """Each training row slowed by 20% in turn is called slower in at least 90% of trials (measured: 93.8% with
    this seed, 94.3-94.6% with seeds 1-3), while the other rows keep their false-alarm rate (measured: 0.00%)."""
    false_alarms, power = rates_for("default", slowed=True)
    assert power >= 0.90, f"found in {power:.1%} of trials"
    assert false_alarms <= 0.01
