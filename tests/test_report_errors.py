"""Bad input to `mnist-bench report`: one line, exit 2, no traceback, and nothing already written replaced."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from mnist_core.report import MARKDOWN
from mnist_core.runs.runfile import SECTION, load_run
from cli_helpers import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def run(quick_run):
    return load_run(quick_run)


@pytest.fixture
def existing_report(quick_run, tmp_path):
    """A copy of the report the session wrote, and its files' bytes."""
    folder = tmp_path / "existing"
    shutil.copytree(quick_run.with_suffix(""), folder)
    return folder, {path.name: path.read_bytes() for path in folder.iterdir()}


def variant(run: dict, **section) -> dict:
    out = copy.deepcopy(run)
    out[SECTION].update(section)
    return out


def bad_inputs(run: dict) -> dict[str, tuple[object, str]]:
    """name -> (file content: dict, str or None for no file, the fragment the error names)."""
    without_section = copy.deepcopy(run)
    del without_section[SECTION]
    empty = copy.deepcopy(run)
    empty["benchmarks"] = []
    failed = variant(run, failed=[{"id": "train/cpu-mlp-resident-bs128", "reason": "RuntimeError: boom"},
                                  {"id": "train/cpu-mlp-dataloader-bs128-w2", "reason": "DataLoader worker failed"}])
    failed["benchmarks"] = []
    return {
        "not-a-run": ({"hello": "world"}, "not a pytest-benchmark run"),
        "no-section": (without_section, "without the 'mnist_bench' section"),
        "empty": (empty, "an empty run"),
        "all-failed": (failed, "all 2 benchmarks failed (first: train/cpu-mlp-resident-bs128: RuntimeError: boom)"),
        "newer-format": (variant(run, format_version=99), "newer than this mnist-bench understands"),
        "invalid-json": ('{"benchmarks": [', "not valid JSON"),
        "missing": (None, "no such run file"),
    }


def run_report(capsys, *args):
    return run_cli(capsys, "report", *args)


@pytest.mark.parametrize("name", ["not-a-run", "no-section", "empty", "all-failed", "newer-format", "invalid-json",
                                  "missing"])
def test_bad_run_file(name, run, tmp_path, existing_report, capsys):
    content, fragment = bad_inputs(run)[name]
    path = tmp_path / f"run-{name}.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    folder, before = existing_report
    code, out, err = run_report(capsys, str(path), "--out", str(folder), "--force")
    assert_one_line_error(code, err, fragment)
    assert str(path) in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # even with --force
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"existing", *([path.name] if content else [])})


def test_one_bad_run_among_good_ones_writes_nothing(quick_run, tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, _, err = run_report(capsys, str(quick_run), str(tmp_path / "missing.json"), "--out", str(out_dir))
    assert_one_line_error(code, err, "missing.json: no such run file")
    assert not out_dir.exists()


def test_no_runs_in_results_dir(tmp_path, capsys):
    code, _, err = run_report(capsys, "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "no run yet")


def test_existing_report_needs_force(quick_run, existing_report, capsys):
    folder, before = existing_report
    code, _, err = run_report(capsys, str(quick_run), "--out", str(folder))
    assert_one_line_error(code, err, "already holds a report")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_out_is_a_file(quick_run, tmp_path, capsys):
    target = tmp_path / "report"
    target.write_text("mine")
    code, _, err = run_report(capsys, str(quick_run), "--out", str(target), "--force")
    assert_one_line_error(code, err, "is not a folder")
    assert target.read_text() == "mine"


def test_partial_run_is_reported_as_partial(run, tmp_path, capsys):
    path = tmp_path / "run-partial.json"
    path.write_text(json.dumps(variant(run, complete=False, interrupted=True)))
    code, out, err = run_report(capsys, str(path), "--out", str(tmp_path / "report"))
    assert code == 0, err
    markdown = (tmp_path / "report" / MARKDOWN).read_text()
    assert "· PARTIAL (interrupted) ·" in markdown.split("## The answer")[0]  # one short status line, on top
    assert "PARTIAL (interrupted) run:" in markdown.split("## The answer")[1]  # the answer says what it covers
    assert "PARTIAL (interrupted)" in markdown.split("## Environment")[1]  # the environment table's status row
    assert "PARTIAL" in out
