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
slower in 24% or more of trials at default, every training row slowed in turn (90% is the aim, not reached; a
test shows why); a slower tutorial pipeline (every DataLoader row and the yardstick) is called slower on 70% or more
of its rows, and no other row is called. Sessions hours apart (from different committed pairs) are the harder case:
at most 1% of their rows get a verdict, but a comparison of ~20 rows sometimes has one (measured, and marked as not
met). The draws use a fixed seed; the rates measured with it, and with other seeds, are stated beside each limit.
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
# The tutorial's pipeline slower: every sample through its Dataset 40 us slower (the fault sample_us:40) took the
# DataLoader rows of two quick sessions on the 2-vCPU VM from 16,936 to 8,827 and from 20,444 to 10,894 samples/s,
# and the tutorial's training row from 8,579 to 6,594; 0.7 is the least of those.
PIPELINE_SLOWDOWN = 0.7
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


def on_the_yardsticks_path(row_id: str) -> bool:
    return "-dataloader-" in row_id


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

    def session(self, rng: random.Random, sides: dict[str, int], slowed: str | None = None,
                pipeline_slowed: bool = False) -> dict:
        """A run file whose rows take their rounds from real session sides[row]; `slowed`'s at SLOWDOWN, or with
        `pipeline_slowed` every DataLoader row's and the yardstick's (the tutorial's DataLoader row, so every
        yardstick round too) at PIPELINE_SLOWDOWN."""
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
            if pipeline_slowed and on_the_yardsticks_path(_id(bench)):
                factor = PIPELINE_SLOWDOWN
            info = bench["extra_info"]
            info["samples_per_s_rounds"] = [rates[index] * factor for index in picked]
            info["samples_per_s"] = median(info["samples_per_s_rounds"])
            if yardstick:
                yardstick_factor = PIPELINE_SLOWDOWN if pipeline_slowed else 1.0
                info["yardstick_rounds"] = [yardstick[index] * yardstick_factor for index in picked]
            info["state_probe_rounds"] = [states[index] for index in picked] if states else []
            bench["stats"]["data"] = [1.0 / rate for rate in info["samples_per_s_rounds"]]
        return data

    def _two(self, rng: random.Random) -> list[int]:
        """Two different sessions, from different groups (pairs) when there are several."""
        while True:
            two = rng.sample(range(len(self.groups)), 2)
            if len(set(self.groups)) == 1 or self.groups[two[0]] != self.groups[two[1]]:
                return two

    def compared(self, rng: random.Random, slowed: str | None = None, pipeline_slowed: bool = False):
        """One synthetic comparison: each row's baseline from one real session and its current from another."""
        sides = {row_id: self._two(rng) for row_id in self.rows}
        before = typed_run(Path("a.json"), self.session(rng, {row_id: two[0] for row_id, two in sides.items()}))
        after = typed_run(Path("b.json"), self.session(rng, {row_id: two[1] for row_id, two in sides.items()},
                                                       slowed, pipeline_slowed))
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


def pipeline_slowdown(profile: str, seed: int = SEED, trials_per_pair: int = 40) -> tuple[float, float]:
    """Back-to-back comparisons with the tutorial's pipeline slower in the current session (PIPELINE_SLOWDOWN on
    every DataLoader row and on the yardstick beside every row): the share of DataLoader rows called slower, and
    the share of the other rows with any verdict."""
    rng = random.Random(seed)
    called = slowed_rows = verdicts = other_rows = 0
    for pair in committed_pairs(profile):
        sessions = Sessions(pair)
        for _ in range(trials_per_pair):
            for row in sessions.compared(rng, pipeline_slowed=True):
                if row.kind in ("train", "loader") and on_the_yardsticks_path(row.id):
                    slowed_rows += 1
                    called += row.status == SLOWER
                elif row.kind in ("train", "loader"):
                    other_rows += 1
                    verdicts += row.status in (SLOWER, FASTER)
    return called / slowed_rows, verdicts / other_rows


@pytest.mark.parametrize("profile", ["quick", "default"])
def test_unchanged_back_to_back_sessions_give_no_verdict(profile):
    """At most 1% of comparisons between unchanged back-to-back sessions give any row a verdict, at the default
    threshold (10%). Measured: quick 0 of 300 (two pairs; the same with seeds 1-2), default 1 of 304 (eight pairs;
    2 and 1 with seeds 1-2); of their rows, 0.02-0.03%. Without the state allowance (regress/matching.py) 132 of
    the 304 default draws give a verdict, so the test can fail."""
    unchanged = back_to_back(profile, slowed=False)
    assert unchanged.comparison_rate <= 0.01, (
        f"{unchanged.comparison_rate:.1%} of comparisons ({unchanged.row_rate:.2%} of rows) got a verdict")


def test_the_between_session_allowance_is_no_wider_than_unchanged_sessions_need(monkeypatch):
    """SCATTER_PER_DRIFT is the calibration's, not a margin picked to be safe: at 1.5 (the gate's) 1-2 of 304
    unchanged default comparisons give a verdict over three seeds; at 1.25, 1, 5 and 6 of 304 (the fixed seed and seeds 1-2); at 1.0,
    9 of 304 (3.0%), beyond the 1% limit."""
    assert comparison.SCATTER_PER_DRIFT == 1.5
    monkeypatch.setattr(comparison, "SCATTER_PER_DRIFT", 1.0)
    narrower = back_to_back("default", slowed=False)
    assert narrower.comparison_rate > 0.01, f"{narrower.comparison_rate:.1%} of comparisons got a verdict at 1.0"


def test_a_twenty_percent_slowdown_is_found_back_to_back():
    """Each training row slowed by 20% in turn is called slower in 26.4% of trials (25.5% and 24.5% with seeds
    1-2), far short of the 90% aimed for. The gate used to estimate how far rows move between the sessions from the
    rows under test and found 37% with it; that estimate let the rows' own regression widen every interval (a
    slower tutorial pipeline went uncalled: test_a_slower_tutorial_pipeline_is_called_slower), so the allowance is
    now a calibrated multiple of the sessions' drift, and a quiet pair gets no more than a noisy one needs. Rows
    caught wholly in different machine states in the two sessions are widened by what the state did to their
    pipeline (1.4-1.6x for the resident MLP), or 2x when no row of it ran 4 rounds or more in each state. The
    limit guards what is reached. The other rows keep their false-alarm rate (measured: 0.04-0.05%)."""
    slowed = back_to_back("default", slowed=True)
    assert slowed.detection >= 0.24, f"found in {slowed.detection:.1%} of trials"
    assert slowed.row_rate <= 0.01


def test_a_slower_tutorial_pipeline_is_called_slower():
    """Every DataLoader row 30% slower, the yardstick beside every row with them (the tutorial's pipeline, which is
    the yardstick, made slower: the fault sample_us:40 did this on the 2-vCPU VM): 75.0% of the DataLoader rows are
    called slower at quick and 76.6% at default (75.4-76.2% with seeds 1-2), and no other row gets a verdict
    (0-0.08%). The machine's change is read off the rows that do not share the yardstick's path, so the pipeline's
    slowdown is not divided out as the machine's. The gate before this found 33% at quick and 1.1% at default,
    while 2.5% and 6.0% of the other rows got a verdict (the slowdown taken for the machine's and moved onto them)."""
    for profile in ("quick", "default"):
        called, others = pipeline_slowdown(profile)
        assert called >= 0.70, f"{profile}: {called:.1%} of the slower DataLoader rows called slower"
        assert others <= 0.01, f"{profile}: {others:.2%} of the other rows got a verdict"


def test_the_detection_aim_is_out_of_reach_on_these_sessions(monkeypatch):
    """Why 90% is not reached: with both of the gate's allowances taken out (no widening for how rows move between
    sessions, none for rows measured in different machine states), a 20% slowdown is still found in only 72.1% of
    trials, while 6.95% of unchanged rows get a verdict (197 of 304 comparisons). Without the between-session
    allowance alone, 56.3% is found and 33 of 304 comparisons get a verdict; without the state one alone, 35.8% and
    132 of 304. The rest is the rows themselves: a row that ran 15% faster in one session on its own hides most of
    a 20% slowdown. So the aim needs a quieter machine, or both versions measured in one session (mnist-bench ab),
    not a different verdict rule."""
    monkeypatch.setattr(comparison, "SCATTER_PER_DRIFT", 0.0)
    monkeypatch.setattr(comparison, "state_allowance", lambda row, factors: (1.0, ""))
    unguarded = back_to_back("default", slowed=True)
    assert unguarded.detection < 0.90, f"found in {unguarded.detection:.1%} of trials with no allowances"
    assert unguarded.row_rate > 0.01, f"{unguarded.row_rate:.2%} of unchanged rows got a verdict with no allowances"


def test_unchanged_rows_hours_apart_rarely_get_a_verdict():
    """Each row's two sessions drawn from different pairs, a quarter of an hour to twelve hours apart: at most 1% of
    rows get a verdict (measured: 0.23%; 0.23% and 0.12% with seeds 1-2)."""
    unchanged = hours_apart("default", slowed=False)
    assert unchanged.row_rate <= 0.01, f"{unchanged.row_rate:.2%} of unchanged rows got a verdict"


@pytest.mark.xfail(strict=True, reason="sessions hours apart on the 2-core VM: 2-4% of comparisons give a row a "
                                       "verdict; rows move by up to a fifth between such sessions with no sign in "
                                       "the state probe")
def test_unchanged_sessions_hours_apart_give_no_verdict():
    """The per-comparison limit for sessions hours apart (measured: 3.7%; 4.0% and 2.3% with seeds 1-2). Not met:
    compare back-to-back sessions, or both versions in one session (docs/calibration.md says how). Strict, so the
    day the gate meets it this test says so."""
    unchanged = hours_apart("default", slowed=False)
    assert unchanged.comparison_rate <= 0.01, f"{unchanged.comparison_rate:.1%} of comparisons got a verdict"
