"""The parts the benchmark session delegates to (bench/run_writer.py, budget.py, outcomes.py), without a session:
pytest's side is a stand-in that hands over a committed real run's JSON as pytest-benchmark's would."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.budget import TimeBudget
from bench.outcomes import Outcomes, final_state
from bench.run_writer import RunWriter
from conftest import REPO_ROOT
from mnist_core.measure.profiles import get_profile
from mnist_core.runs.runfile import SECTION, check_run_data, read_run, typed_run, writer_lock

REAL_RUN = REPO_ROOT / "docs/evidence/cpu-amd-epyc-2core/fresh-clone/run-20261130T135632Z-amd-epyc.json"
STARTED = datetime(2026, 12, 3, 13, 0, tzinfo=timezone.utc)


class PytestBenchmarkStandIn:
    """pytest's config as RunWriter uses it: generate_json gives a real run's benchmarks (plus a value JSON
    cannot encode, as pytest-benchmark's params may hold), update_json adds the section (the session's hook)."""

    def __init__(self, real_run: dict):
        self.real_run = real_run
        self.written_states: list[tuple[bool, bool]] = []
        finished = SimpleNamespace(has_error=False, extra_info={"kind": "train"})
        self._benchmarksession = SimpleNamespace(benchmarks=[finished], get_machine_info=lambda: {})
        self.hook = SimpleNamespace(pytest_benchmark_generate_json=self.generate_json,
                                    pytest_benchmark_update_json=self.update_json,
                                    pytest_benchmark_generate_commit_info=lambda config: {})
        self.writer: RunWriter | None = None

    def generate_json(self, **_):
        output = {key: copy.deepcopy(value) for key, value in self.real_run.items() if key != SECTION}
        output["benchmarks"][0]["params"] = {"where": Path("/tmp/x"), "sizes": (1, 2)}
        return output

    def update_json(self, config, benchmarks, output_json):
        self.written_states.append(self.writer.writing)
        output_json[SECTION] = {**self.real_run[SECTION], "complete": self.writer.writing[0]}


@pytest.fixture
def writer(tmp_path):
    stand_in = PytestBenchmarkStandIn(json.loads(REAL_RUN.read_text()))
    stand_in.writer = RunWriter(stand_in)
    stand_in.writer.claim(tmp_path, "Some CPU", STARTED)
    return stand_in.writer


def test_the_run_in_memory_is_the_file_as_written_without_reading_it_back(writer):
    writer.save(complete=False, interrupted=False)
    writer.save(complete=True, interrupted=False)
    assert writer.config.written_states == [(False, False), (True, False)]  # the section saw each save's state
    on_disk = read_run(writer.path)
    writer.path.write_text("not JSON any more")  # the session must not need its file again
    writer.finish()
    in_memory = writer.run()
    assert in_memory.data == on_disk.data and in_memory.rows == on_disk.rows and in_memory.complete
    assert in_memory.data["benchmarks"][0]["params"] == {"where": "/tmp/x", "sizes": [1, 2]}  # as JSON holds them
    assert not writer_lock(writer.path).exists()


def test_the_report_is_made_from_the_run_in_memory_as_mnist_bench_report_makes_it_from_the_file(writer, tmp_path):
    from mnist_core.report import REPORT_FILES, write_report

    writer.save(complete=True, interrupted=False)
    from_file = write_report([writer.path], tmp_path / "from-file").out_dir
    writer.path.write_text("not JSON any more")
    writer.finish()
    writer.publish_report()
    assert writer.report_error is None
    written = sorted(path.name for path in writer.report_dir.iterdir())
    assert written == sorted(path.name for path in from_file.iterdir()) and set(written) <= set(REPORT_FILES)
    for name in ("report.md", "results.csv", "report.html"):
        assert (writer.report_dir / name).read_bytes() == (from_file / name).read_bytes(), name


def test_a_claim_with_nothing_written_goes_at_the_end(writer):
    claimed = writer.path
    assert claimed.exists() and claimed.stat().st_size == 0
    writer.finish()
    assert writer.path is None and not claimed.exists() and writer.run() is None
    writer.save(complete=True, interrupted=False)  # after the end nothing is written any more
    assert not claimed.exists()


def test_each_row_gets_its_share_of_what_is_left_of_the_budget():
    profile = get_profile("quick")
    budget = TimeBudget(profile)
    budget.rows_left = 3
    with budget.row() as first:
        assert first == profile.row_policy(profile.budget_s, 3)
    spent_s = budget.spent_s
    with budget.row() as second:
        assert second == profile.row_policy(profile.budget_s - spent_s, 2)
    assert budget.rows_left == 1 and budget.spent_s >= spent_s


def _item(params: dict, call_id: str):
    return SimpleNamespace(callspec=SimpleNamespace(params=params, id=call_id), nodeid=f"bench/x.py::t[{call_id}]",
                           originalname="t", name=f"t[{call_id}]")


def _failure(message: str):
    error = RuntimeError(message)
    return SimpleNamespace(excinfo=SimpleNamespace(value=error, typename=type(error).__name__))


def test_skips_and_failures_are_recorded_with_one_line_reasons():
    outcomes = Outcomes()
    config = SimpleNamespace(asdict=lambda: {"device": "cuda"})
    skipped = SimpleNamespace(skipped=True, failed=False, when="setup", longrepr=("f", 1, "Skipped: no GPU here"))
    assert not outcomes.record(_item({"train_spec": config}, "a"), None, skipped)
    failed = SimpleNamespace(skipped=False, failed=True, when="call")
    assert not outcomes.record(_item({"loader_spec": config}, "b"), _failure("out of memory\nmore detail"), failed)
    killed = _failure("DataLoader worker (pid 12) is killed by signal: Terminated. ")
    assert outcomes.record(_item({"loader_spec": config}, "c"), killed, failed)  # the session must stop
    assert [item.to_json() for item in outcomes.skipped] == [{"id": "train/a", "nodeid": "bench/x.py::t[a]", "kind": "train",
                                                              "config": {"device": "cuda"}, "reason": "no GPU here"}]
    assert [(item.id, item.when, item.reason) for item in outcomes.failed] == [
        ("loader/b", "call", "RuntimeError: out of memory"),
        ("loader/c", "call", "RuntimeError: DataLoader worker (pid 12) is killed by signal: Terminated.")]


@pytest.mark.parametrize(("session", "interrupted", "expected"), [
    (None, False, (True, False)),
    (SimpleNamespace(exitstatus=pytest.ExitCode.OK, shouldfail=False, shouldstop=False), False, (True, False)),
    (SimpleNamespace(exitstatus=pytest.ExitCode.TESTS_FAILED, shouldfail="stopping after 1 failures",
                     shouldstop=False), False, (False, False)),  # -x
    (SimpleNamespace(exitstatus=pytest.ExitCode.INTERRUPTED, shouldfail=False, shouldstop=False), False, (False, True)),
    (SimpleNamespace(exitstatus=pytest.ExitCode.OK, shouldfail=False, shouldstop="signal"), True, (False, True)),
])
def test_how_the_session_ended(session, interrupted, expected):
    assert final_state(session, interrupted) == expected


def test_drift_has_one_definition_and_runs_that_stored_another_still_load():
    """Runs written before kept a second drift (spread_pct of the yardstick's rounds) in mnist_bench.drift:
    they load, and their drift is still Run.drift's, from the rows' paired yardstick rounds, whatever that says."""
    data = json.loads(REAL_RUN.read_text())
    assert "spread_pct" in data[SECTION]["drift"]["cpu"]  # written by a session before the change
    drift = read_run(REAL_RUN).drift()
    assert drift["cpu"].rows > 1 and drift["cpu"].spread_pct is not None
    data[SECTION]["drift"]["cpu"]["spread_pct"] = 1e6
    changed = REAL_RUN.parent / "unused.json"
    assert typed_run(changed, check_run_data(changed, data)).drift() == drift
