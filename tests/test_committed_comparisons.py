"""The `compare` outputs committed under docs/evidence/ are what this version prints for the same runs.

The calibration evidence in docs/calibration.md (A/A pairs, the injected slowdown, sessions hours apart) quotes them: each file
starts with the command line it came from and ends with its exit code. A change to the comparison that alters
a verdict, an interval or a note must regenerate them (scripts/regen-compare-outputs.sh), so the evidence never
describes an older gate.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cli_helpers import run_cli

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "evidence"
COMMITTED = sorted(RESULTS.glob("**/*compare*.txt"))
WIDTH_COLUMNS = "200"  # the width scripts/regen-compare-outputs.sh writes them at


def test_the_calibration_evidence_is_committed():
    assert len(COMMITTED) >= 10  # eight default and two quick A/A pairs, and more


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: str(path.relative_to(RESULTS)))
def test_a_committed_comparison_is_what_this_version_prints(path, capsys, monkeypatch):
    lines = path.read_text().splitlines()
    command, printed, exit_line = lines[0], lines[1:-1], lines[-1]
    program, *arguments = shlex.split(command.removeprefix("$ "))
    assert program == "mnist-bench" and exit_line.startswith("exit code: ")
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv("COLUMNS", WIDTH_COLUMNS)
    code, out, err = run_cli(capsys, *arguments)
    assert (code, err) == (int(exit_line.removeprefix("exit code: ")), "")
    assert [line.rstrip() for line in out.splitlines()] == [line.rstrip() for line in printed], (
        "this version prints something else: run scripts/regen-compare-outputs.sh and review the diff")
