"""The regression gate, calibrated: false alarms and power from synthetic sessions resampled from real ones.

Each profile has A/A pairs committed under docs/evidence/: two unchanged sessions on the 2-core machine, one after the
other (default has eight pairs, from 08:24 to 20:11 UTC on one day and 02:42-02:58 the night after; quick two,
at 08:39 and 19:53). A synthetic
comparison redraws every row's rounds from a pair, always across it: for each row, one real session gives the
baseline's rounds and the other the current run's, which is which drawn at random per row, each taking the row's
number of consecutive rounds from a random place in that session's rounds of the row (read in a circle), with the
yardstick round and the machine-state probe reading that were beside each. So every row comparison is between two
real sessions, with what the machine really did: their noise, their drift, a row's level in each session (two
sessions can differ by a fifth on a row whose speed flips, with no sign of it in the row's own rounds within
either), and its jumps within one. Two synthetic back-to-back sessions compared must give no row a verdict
(faster or slower) in at least 99% of comparisons, for quick and default; a training row slowed by 20% is called
slower in 35% or more of trials at default, every training row slowed in turn (90% is the aim, not reached; a
test shows why). Sessions hours apart (from different committed pairs) are the harder case: at most 1% of their
rows get a verdict, but a comparison of ~20 rows often has one (measured, and marked as not met). The draws use a
fixed seed; the rates measured with it, and with other seeds, are stated beside each limit.
"""

from __future__ import annotations

import json
import random
from dataclasses import astuple, dataclass
from functools import reduce
from pathlib import Path
from statistics import median

import pytest

from conftest import REPO_ROOT
from mnist_core.measure.effect import FASTER, SLOWER
from mnist_core.regress import comparison
from mnist_core.regress.comparison import compare_runs
from mnist_core.runs.rows import ThroughputRow
from mnist_core.runs.runfile import read_run, typed_run

AA = REPO_ROOT / "docs" / "evidence" / "cpu-amd-epyc-2core" / "aa"
TRIALS = 300  # unchanged comparisons per profile
TRIALS_PER_ROW = 40  # comparisons with each training row slowed in turn
SLOWDOWN = 0.8
SEED = 20261130


def committed_pairs(profile: str) -> list[list[Path]]:
    """The A/A pairs committed for a profile (aa/<profile>, aa/<profile>-2, ...), each two back-to-back sessions.
    Other folders there (aa/quick-samples: recorded on a heavily loaded machine to show pytest-benchmark's numbers
    agree) are not calibration evidence."""
    folders = sorted(folder for folder in AA.glob(f"{profile}*")
                     if folder.name == profile or folder.name.removeprefix(f"{profile}-").isdigit())
    pairs = [sorted(folder.glob("run-*.json")) for folder in folders]
    assert pairs and all(len(pair) == 2 for pair in pairs), f"A/A pairs of the {profile} profile under {AA}"
    return pairs


def _id(bench: dict) -> str:
    return f"{bench['extra_info']['kind']}/{bench['name'][bench['name'].index('[') + 1:-1]}"


class Sessions:
    """The rounds of unchanged sessions: per row found in all of them, each session's rounds with the yardstick
    round and the state probe reading beside each. `groups` names the pair each session belongs to."""

    def __init__(self, paths: list[Path], groups: list[int] | None = None):
        runs = [read_run(path) for path in paths]
        self.template = json.loads(paths[0].read_text())
        self.groups = groups or [0] * len(paths)
        by_id = [{row.id: row for row in run.rows if isinstance(row, ThroughputRow)} for run in runs]
        self.rows = {}
        for row_id in by_id[0]:
            found = [rows.get(row_id) for rows in by_id]
            if None in found or len({row.measurement.paired for row in found}) > 1:
                continue
            self.rows[row_id] = (min(row.measurement.rounds for row in found), [
                (row.measurement.rates, row.measurement.yardstick_rates, row.measurement.states) for row in found])
        self.train_rows = sorted(row_id for row_id in self.rows if row_id.startswith("train/"))

    def session(self, rng: random.Random, sides: dict[str, int], slowed: str | None = None) -> dict:
        """A run file whose rows take their rounds from real session sides[row]; `slowed`'s at SLOWDOWN."""
        data = json.loads(json.dumps(self.template))
        data["benchmarks"] = [bench for bench in data["benchmarks"]
                              if "samples_per_s_rounds" not in bench["extra_info"] or _id(bench) in self.rows]
        for bench in data["benchmarks"]:
            if _id(bench) not in self.rows:
                continue
            rounds, sessions = self.rows[_id(bench)]
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

    def _two(self, rng: random.Random) -> list[int]:
        """Two different sessions, from different groups (pairs) when there are several."""
        while True:
            two = rng.sample(range(len(self.groups)), 2)
            if len(set(self.groups)) == 1 or self.groups[two[0]] != self.groups[two[1]]:
                return two

    def compared(self, rng: random.Random, slowed: str | None = None):
        """One synthetic comparison: each row's baseline from one real session and its current from another."""
        sides = {row_id: self._two(rng) for row_id in self.rows}
        before = typed_run(Path("a.json"), self.session(rng, {row_id: two[0] for row_id, two in sides.items()}))
        after = typed_run(Path("b.json"), self.session(rng, {row_id: two[1] for row_id, two in sides.items()},
                                                       slowed))
        return compare_runs(before, after).rows


@dataclass
class Tally:
    """What synthetic comparisons gave: unchanged rows with a verdict among those compared, comparisons in which
    any unchanged row got one, and how often the slowed row (if any) was called slower."""

    rows_with_verdict: int = 0
    rows: int = 0
    comparisons_with_verdict: int = 0
    comparisons: int = 0
    detected: int = 0

    def add(self, other: "Tally") -> "Tally":
        return Tally(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other))))

    @property
    def row_rate(self) -> float:
        return self.rows_with_verdict / self.rows

    @property
    def comparison_rate(self) -> float:
        return self.comparisons_with_verdict / self.comparisons

    @property
    def detection(self) -> float:
        return self.detected / self.comparisons


def tally(sessions: Sessions, slowed: bool, seed: int = SEED, share: float = 1.0) -> Tally:
    """Synthetic comparisons over `share` of TRIALS (or of TRIALS_PER_ROW per training row, each slowed in turn)."""
    rng = random.Random(seed)
    per_row = round(TRIALS_PER_ROW * share)
    targets = [target for target in sessions.train_rows for _ in range(per_row)] if slowed else \
        [None] * round(TRIALS * share)
    result = Tally()
    for target in targets:
        verdicts = 0
        for row in sessions.compared(rng, target):
            if row.id == target:
                result.detected += row.status == SLOWER
            else:
                result.rows += 1
                verdicts += row.status in (SLOWER, FASTER)
        result.rows_with_verdict += verdicts
        result.comparisons_with_verdict += verdicts > 0
        result.comparisons += 1
    return result


def back_to_back(profile: str, slowed: bool, seed: int = SEED) -> Tally:
    """Each row's two sessions from one committed pair, over all the profile's pairs."""
    pairs = committed_pairs(profile)
    return reduce(Tally.add, (tally(Sessions(pair), slowed, seed, 1 / len(pairs)) for pair in pairs))


def hours_apart(profile: str, slowed: bool, seed: int = SEED) -> Tally:
    """Each row's two sessions from different committed pairs, half an hour to hours apart."""
    pairs = committed_pairs(profile)
    sessions = Sessions([path for pair in pairs for path in pair], [index for index, pair in enumerate(pairs)
                                                                     for _ in pair])
    return tally(sessions, slowed, seed)


@pytest.mark.parametrize("profile", ["quick", "default"])
def test_unchanged_back_to_back_sessions_give_no_verdict(profile):
    """At most 1% of comparisons between unchanged back-to-back sessions give any row a verdict, at the default
    threshold (10%). Measured: quick 0 of 300 (two pairs), default 1 of 304 (eight pairs; the same with seeds 1-2:
    the eighth pair's DataLoader row at batch 2048 with 2 workers, which ran 16.5% slower on its own there); of
    their rows, 0.02%. At --threshold 5 a default comparison gets a verdict in 3.0% of draws (4.6-5.9% with seeds
    1-2), which is why the gate's default is 10%. Without the state allowance (regress/matching.py) the same draws
    give a verdict in 100% and 53.0% of comparisons, so the test can fail."""
    unchanged = back_to_back(profile, slowed=False)
    assert unchanged.comparison_rate <= 0.01, (
        f"{unchanged.comparison_rate:.1%} of comparisons ({unchanged.row_rate:.2%} of rows) got a verdict")


def test_a_twenty_percent_slowdown_is_found_back_to_back():
    """Each training row slowed by 20% in turn is called slower in 37.1% of trials (36.8-38.5% with seeds 1-2),
    far short of the 90% aimed for: 67.1% and 62.7% with the first and sixth default pairs, 30.7%, 53.3%, 18.7%,
    8.0%, 26.7% and 32.0% with the others (53.9% at --threshold 5, at the cost of the false alarms above). The
    seventh pair lowered it from 41.1%, the eighth from 37.7%. Rows caught wholly in
    different machine states in the two sessions are widened by what the state did to their pipeline (1.4-1.6x for
    the resident MLP), or 2x when no row of it ran 4 rounds or more in each state; and rows move between sessions
    by up to +-18% (95%) in the noisiest pairs, which every interval allows for. A 20% change then stays
    inconclusive. The limit guards what is reached. The other rows keep their false-alarm rate (measured: 0.01%)."""
    slowed = back_to_back("default", slowed=True)
    assert slowed.detection >= 0.35, f"found in {slowed.detection:.1%} of trials"
    assert slowed.row_rate <= 0.01


def test_the_detection_aim_is_out_of_reach_on_these_sessions(monkeypatch):
    """Why 90% is not reached: with both of the gate's allowances taken out (no widening for how rows scatter
    between sessions, none for rows measured in different machine states), a 20% slowdown is still found in only
    71.8% of trials, while 6.0% of unchanged rows get a verdict. The scatter allowance costs 21 points (with only it:
    50.6%), the state one 16 (with only it: 56.1%). Neither buys enough to drop: without the state allowance 53.0%
    of back-to-back comparisons get a verdict (above); without the scatter one, 2.0% of them do, and 2.0% of
    unchanged rows hours apart get a verdict (32% of comparisons), for 56.1% found. The rest is the rows
    themselves: a row that ran 15% faster in one session on its own hides most of a 20% slowdown. So the aim needs
    a quieter machine, not a different verdict rule."""
    monkeypatch.setattr(comparison, "Z_AT_CONFIDENCE", 0.0)
    monkeypatch.setattr(comparison, "state_allowance", lambda row, factors: (1.0, ""))
    unguarded = back_to_back("default", slowed=True)
    assert unguarded.detection < 0.90, f"found in {unguarded.detection:.1%} of trials with no allowances"
    assert unguarded.row_rate > 0.01, f"{unguarded.row_rate:.2%} of unchanged rows got a verdict with no allowances"


def test_unchanged_rows_hours_apart_rarely_get_a_verdict():
    """Each row's two sessions drawn from different pairs, a quarter of an hour to twelve hours apart: at most 1% of
    rows get a verdict (measured: 0.61%; 0.61-0.68% with seeds 1-2; 1.56% at --threshold 5)."""
    unchanged = hours_apart("default", slowed=False)
    assert unchanged.row_rate <= 0.01, f"{unchanged.row_rate:.2%} of unchanged rows got a verdict"


@pytest.mark.xfail(strict=True, reason="sessions hours apart on the 2-core VM: 11% of comparisons give a row a "
                                       "verdict; rows move by up to a fifth between such sessions with no sign in "
                                       "the state probe")
def test_unchanged_sessions_hours_apart_give_no_verdict():
    """The per-comparison limit for sessions hours apart (measured: 11.0%; 10.7-12.0% with seeds 1-2). Not met:
    compare back-to-back sessions (docs/calibration.md says how). Strict, so the day the gate meets it this test says so."""
    unchanged = hours_apart("default", slowed=False)
    assert unchanged.comparison_rate <= 0.01, f"{unchanged.comparison_rate:.1%} of comparisons got a verdict"
