"""Writers that race: sessions, baselines and reports started at once, in real processes.

Each race is repeated so that a lost write would be likely if check-then-write came back: with the old
naming, two sessions started in the same second got the same run file every time.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import REPO_ROOT, bench_command, cpu_session_env, saved_runs
from mnist_core.errors import OutputExistsError
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import SECTION, claim_run_path, load_run

SAME_SECOND = datetime(2026, 11, 30, 5, 26, 22, tzinfo=timezone.utc)
SAVED = re.compile(r"mnist-bench run \(complete\) saved to (\S+\.json)")


def _claim_many(results_dir: str, count: int, queue) -> None:
    queue.put([str(claim_run_path(results_dir, "Intel Xeon", SAME_SECOND)) for _ in range(count)])


def _create_once(path: str, payload: int, queue) -> None:
    try:
        write_json_atomic(path, {"writer": payload}, overwrite=False)
        queue.put(("won", payload))
    except OutputExistsError as exc:
        queue.put(("lost", str(exc)))


def _start_together(target, args_list) -> list:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=target, args=(*args, queue)) for args in args_list]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return results


def test_claimed_run_names_are_unique_across_processes_in_one_second(tmp_path):
    for attempt in range(5):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        claims = [path for batch in _start_together(_claim_many, [(str(folder), 25)] * 8) for path in batch]
        assert len(claims) == len(set(claims)) == 200
        assert len(list(folder.glob("run-*.json"))) == 200


def test_create_if_absent_has_exactly_one_winner(tmp_path):
    for attempt in range(20):
        target = tmp_path / f"baseline-{attempt}.json"
        outcomes = _start_together(_create_once, [(str(target), writer) for writer in range(8)])
        winners = [payload for state, payload in outcomes if state == "won"]
        assert len(winners) == 1, outcomes
        assert json.loads(target.read_text()) == {"writer": winners[0]}
        assert all("already exists; pass --force" in message for state, message in outcomes if state == "lost")
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_eight_sessions_started_at_once_keep_eight_runs(tmp_path, fashion_dir):
    results_dir = tmp_path / "shared-results"
    command = bench_command(results_dir, "-k", "train and resident and mlp", "--no-report")
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=cpu_session_env()) for _ in range(8)]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * 8, outputs[0][-2000:]
    printed = [Path(SAVED.search(" ".join(output.split())).group(1)) for output in outputs]
    assert len(set(printed)) == 8 and sorted(printed) == saved_runs(results_dir)
    for path, output in zip(printed, outputs):
        run = load_run(path)
        assert run[SECTION]["complete"] and run["benchmarks"]
        names = {bench["name"].split("[")[1].rstrip("]") for bench in run["benchmarks"]}
        assert all(name in output for name in names)  # each file holds what its own session ran
    assert not list(results_dir.glob(".*"))  # no claims, temporary files or locks left behind


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mnist_core.commands.cli", *args], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cpu_session_env())


def _finish(processes) -> list[tuple[int, str, str]]:
    outputs = [process.communicate(timeout=300) for process in processes]
    return [(process.returncode, *output) for process, output in zip(processes, outputs)]


@pytest.mark.slow
def test_two_baseline_saves_at_once_one_wins(tmp_path, quick_run):
    for attempt in range(6):
        results_dir = tmp_path / str(attempt)
        outcomes = _finish([_cli("baseline", "save", str(quick_run), "--results-dir", str(results_dir))
                            for _ in range(2)])
        codes = sorted(code for code, _, _ in outcomes)
        assert codes == [0, 2], outcomes
        (loser,) = [err for code, _, err in outcomes if code == 2]
        assert len(loser.strip().splitlines()) == 1 and "already exists; pass --force" in loser
        (baseline,) = (results_dir / "baselines").glob("*.json")
        assert load_run(baseline)["benchmarks"] == load_run(quick_run)["benchmarks"]


@pytest.mark.slow
def test_two_reports_into_one_folder_never_mix(tmp_path, quick_run):
    other = tmp_path / "other.json"
    run = json.loads(quick_run.read_text())
    run["machine_info"]["cpu_model"] = "Other CPU"  # a second run whose report differs in every file
    other.write_text(json.dumps(run))
    for attempt in range(3):
        out = tmp_path / f"report-{attempt}"
        outcomes = _finish([_cli("report", str(path), "--out", str(out)) for path in (quick_run, other)])
        codes = sorted(code for code, _, _ in outcomes)
        assert codes == [0, 2], outcomes
        (loser,) = [err for code, _, err in outcomes if code == 2]
        assert "already holds a report" in loser and len(loser.strip().splitlines()) == 1
        _assert_one_report(out)
        forced = _finish([_cli("report", str(path), "--out", str(out), "--force") for path in (quick_run, other)])
        assert [code for code, _, _ in forced] == [0, 0], forced
        _assert_one_report(out)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def _assert_one_report(folder: Path) -> None:
    """Every file of the folder comes from the same run: no mix of two writers."""
    texts = [(folder / name).read_text() for name in ("report.md", "report.html", "results.csv")]
    sources = {"Other CPU" in text for text in texts}
    assert len(sources) == 1, f"{folder} mixes two reports"
