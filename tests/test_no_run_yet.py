"""A fresh clone, before any session: results/ holds only its README and the project's evidence sits in
docs/evidence/. The commands that read "the latest run" say there is none yet, and never take one of the
evidence runs for it."""

import shutil

import pytest

from cli_helpers import assert_one_line_error, run_cli
from conftest import REPO_ROOT

EVIDENCE_RUN = REPO_ROOT / "docs" / "evidence" / "cpu-amd-epyc-2core" / "fresh-clone" / "run-20261130T135632Z-amd-epyc.json"


@pytest.fixture
def fresh_clone(tmp_path, monkeypatch):
    """The layout of a clone: results/README.md, and a real run under docs/evidence/; commands run from its root."""
    (tmp_path / "results").mkdir()
    shutil.copy(REPO_ROOT / "results" / "README.md", tmp_path / "results")
    evidence = tmp_path / "docs" / "evidence" / "cpu-amd-epyc-2core" / "fresh-clone"
    evidence.mkdir(parents=True)
    shutil.copy(EVIDENCE_RUN, evidence)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [["baseline", "save"], ["report"], ["check"]])
def test_a_command_before_any_run_says_there_is_none_yet(fresh_clone, capsys, command):
    before = sorted(path.relative_to(fresh_clone) for path in fresh_clone.rglob("*"))
    code, _, err = run_cli(capsys, *command)
    assert_one_line_error(code, err, "no run yet in results", "run pytest --benchmark-only first")
    assert sorted(path.relative_to(fresh_clone) for path in fresh_clone.rglob("*")) == before  # nothing written
