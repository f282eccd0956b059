"""The report rendered from a real quick-profile run on this CPU-only machine, and from the committed runs of
format 1 (the H100 run among them): files, the answer first, only what was measured, numbers equal to the run's."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO_ROOT
from mnist_core.commands.cli import main
from mnist_core.report import CSV, HTML, MARKDOWN, report_frame, report_tables, write_report
from mnist_core.report.formatting import rate
from mnist_core.report.plots import SETTINGS_PNG, THROUGHPUT_PNG
from mnist_core.runs.files import umask
from mnist_core.runs.runfile import read_run

COMMITTED = sorted((REPO_ROOT / "docs" / "evidence").glob("*/run-*.json"))


@pytest.fixture(scope="module")
def run(quick_run):
    return read_run(quick_run)


@pytest.fixture(scope="module")
def written(quick_run, tmp_path_factory):
    return write_report([quick_run], tmp_path_factory.mktemp("real-report") / "report")


def section_text(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_session_wrote_its_report_next_to_the_run(quick_run):
    folder = quick_run.with_suffix("")
    for name in (MARKDOWN, HTML, CSV, THROUGHPUT_PNG, SETTINGS_PNG):
        assert (folder / name).is_file(), name
    assert "## The answer" in (folder / MARKDOWN).read_text()


def test_the_answer_opens_the_report(written, run):
    markdown = written.markdown.read_text()
    assert markdown.index("## The answer") < markdown.index("## Findings") < markdown.index("## DataLoader settings")
    answer = section_text(markdown, "The answer")
    tutorial = next(row for row in run.rows if getattr(row, "reference", False))
    assert "no GPU was visible to torch" in answer and rate(tutorial.measurement.median) in answer
    assert "Fastest on the CPU" in answer


def test_a_cpu_only_report_shows_only_what_was_measured(written):
    markdown = written.markdown.read_text()
    page = written.html.read_text()
    for absent in ("## GPU vs CPU", "## Host→device", "## GPU utilisation", "GPU samples/s", "GPU setting"):
        assert absent not in markdown, absent
    for anchor in ('id="cpu-vs-gpu"', 'id="bandwidth"', 'id="gpu"'):
        assert anchor not in page
    assert "No GPU was visible to torch on this machine" in markdown
    assert {path.name for path in written.plots} == {THROUGHPUT_PNG, SETTINGS_PNG}  # no copies: no H2D plot


def test_skips_are_counted_by_reason_with_their_ids_folded_away(written, run):
    markdown = section_text(written.markdown.read_text(), "Environment and what was not measured")
    skipped = run.session.skipped
    assert skipped  # resident-graph needs CUDA
    for reason in {item.reason for item in skipped}:
        assert reason in markdown
    assert "<details>" not in markdown.split("Not measured", 1)[1].split("\n\n", 2)[0]  # counts shown, not folded


def test_html_is_one_self_contained_file(written):
    page = written.html.read_text()
    assert page.count('<img src="data:image/svg+xml;base64,') == len(written.plots)  # each plot, as vector
    sources = re.findall(r'(?:src|srcset)="([^"]*)"', page)
    assert sources and all(source.startswith("data:image/svg+xml;base64,") for source in sources)  # nothing beside it
    assert "<details id=" in page  # long tables folded away
    assert '<meta name="viewport"' in page


def test_every_row_in_the_noise_table_equals_the_run(run):
    noise = report_tables(run.path)["noise"].set_index("id")
    for row in run.rows:
        if not hasattr(row, "measurement"):
            continue
        line = noise.loc[row.id]
        assert line["rounds"] == row.measurement.rounds and line["median"] == row.measurement.median
        assert line["ci_half_pct"] == row.measurement.half_width_pct and line["stop_reason"] == row.measurement.stop_reason


def test_results_csv_round_trips_every_benchmark(written, run):
    frame = pd.read_csv(written.csv)
    assert len(frame) == len(run.rows)
    assert list(frame.columns[:4]) == ["machine", "id", "kind", "device"]  # the typed rows' field order
    for row in run.rows:
        info = row.to_info()
        line = frame[frame["id"] == row.id].iloc[0]
        for key in ("kind", "device", "model", "loader", "dataset"):
            assert line[key] == info[key]
        for key in ("batch_size", "num_workers", "hidden_width", "rounds"):
            assert int(line[key]) == info[key]
        if "samples_per_s_rounds" in info and line["kind"] != "accuracy":
            assert json.loads(line["samples_per_s_rounds"]) == info["samples_per_s_rounds"]
            assert line["samples_per_s"] == info["samples_per_s"]  # full precision, not the table's rounding


def test_report_files_follow_the_umask(written):
    for path in (written.markdown, written.html, written.csv, *written.plots):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask()


def test_dataframe_api(quick_run, run):
    frame = report_frame(quick_run)
    assert len(frame) == len(run.rows)
    assert {"machine", "id", "kind", "device", "samples_per_s", "epoch_s", "iqr_pct", "noisy"} <= set(frame.columns)
    tables = report_tables(quick_run)
    assert set(tables) == {"cpu_vs_gpu", "settings", "pipelines", "launch", "loader", "bandwidth", "telemetry", "accuracy",
                           "noise", "drift", "suite_checks", "not_measured", "unusable", "side_by_side", "crossover"}
    tutorial = tables["settings"][tables["settings"]["reference"]].iloc[0]
    assert tutorial["samples_per_s"] == next(row for row in run.rows if getattr(row, "reference", False)).measurement.median


@pytest.mark.parametrize("path", COMMITTED, ids=[path.parent.name + "/" + path.name for path in COMMITTED])
def test_the_committed_runs_still_report(path, tmp_path):
    """Format-1 runs (fixed rounds, no yardstick) load and report: their comparisons are unpaired."""
    written = write_report([path], tmp_path / "report")
    markdown = written.markdown.read_text()
    assert "## The answer" in markdown and written.report.answers[0].lines


def test_cli_reports_the_latest_run_and_never_overwrites(quick_run, tmp_path, capsys):
    shutil.copy(quick_run, tmp_path / quick_run.name)
    assert main(["report", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / quick_run.stem
    assert f"report written to {folder}" in " ".join(out.split())
    assert "The answer" in out and "Findings" in out
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    assert main(["report", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a report" in err[0] and "--force" in err[0]
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before

    assert main(["report", str(tmp_path / quick_run.name), "--force"]) == 0
    assert (folder / MARKDOWN).is_file()
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]  # no staging left over


def test_committed_runs_exist():
    assert any("gpu-nvidia" in str(path) for path in COMMITTED) and Path(COMMITTED[0]).is_file()
