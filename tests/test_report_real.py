"""The report rendered from a real quick-profile run: files, the reference row, findings, and numbers
in the tables equal to the run's own."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mnist_core.commands.cli import main
from mnist_core.report import CSV, HTML, MARKDOWN, report_frame, report_tables, write_report
from mnist_core.report.formatting import rate, seconds
from mnist_core.report.plots import THROUGHPUT_PNG, TRANSFER_PNG
from mnist_core.runs.runfile import load_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(quick_run):
    return load_run(quick_run)


@pytest.fixture(scope="module")
def written(quick_run, tmp_path_factory):
    return write_report([quick_run], tmp_path_factory.mktemp("real-report") / "report")


def measured(run):
    return [bench for bench in run["benchmarks"] if bench["extra_info"].get("kind")]


def bench_id(bench):
    return f"{bench['extra_info']['kind']}/{bench['name'].split('[', 1)[1].rstrip(']')}"


def reference(run):
    rows = [b["extra_info"] for b in run["benchmarks"] if b["extra_info"]["kind"] == "train" and b["extra_info"]["reference"]]
    assert len(rows) == 1
    return rows[0]


def table_cells(line: str) -> list[str]:
    """A Markdown table line's cells, bold markers removed."""
    return [cell.strip(" *") for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []


def section_text(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_session_wrote_its_report_next_to_the_run(quick_run):
    folder = quick_run.with_suffix("")
    for name in (MARKDOWN, HTML, CSV, THROUGHPUT_PNG, TRANSFER_PNG):
        assert (folder / name).is_file(), name
    assert "tutorial reference" in (folder / MARKDOWN).read_text()


def test_files_exist_and_html_shows_the_plots_by_relative_path(written):
    for path in (written.markdown, written.html, written.csv, *written.plots):
        assert path.is_file() and path.stat().st_size > 0
    assert {path.name for path in written.plots} == {THROUGHPUT_PNG, TRANSFER_PNG}  # no GPU: no H2D plot
    for path in written.plots:
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert f'<img src="{path.name}"' in written.html.read_text()
        assert f"]({path.name})" in written.markdown.read_text()


def test_reference_row_carries_the_runs_numbers(written, run):
    ref = reference(run)
    markdown = written.markdown.read_text()
    headline = section_text(markdown, "Headline")
    line = next(line for line in headline.splitlines() if line.startswith("| tutorial reference |"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[1] == "train/cpu-mlp-dataloader-bs128-w2"
    assert cells[2] == f"{ref['samples_per_s']:,.0f}"
    assert cells[3] == seconds(50_000 / ref["samples_per_s"])  # the 50,000-image training split
    assert "The reference is the tutorial's own setting" in headline
    assert "resident vs tutorial reference (CPU)" in headline  # the CPU target ratio, stated


def test_every_row_in_the_noise_table_equals_the_run(written, run):
    noise = section_text(written.markdown.read_text(), "Noise")
    for bench in measured(run):
        info = bench["extra_info"]
        line = next(line for line in noise.splitlines() if table_cells(line)[:1] == [bench_id(bench)])
        cells = table_cells(line)
        assert cells[1] == str(info["rounds"])
        assert cells[2] == rate(info["samples_per_s"])
        assert (cells[5] == "yes") == (line.count("**") > 0)  # flagged rows are the bold ones


def test_findings_are_present_and_point_at_real_rows(written):
    report = written.report
    assert len(report.findings) >= 3
    markdown = written.markdown.read_text()
    findings = section_text(markdown, "Findings")
    for index, finding in enumerate(report.findings, 1):
        assert f"{index}. {finding.text}" in findings
        table = report.table(finding.table)
        cells = {str(value) for value in table.frame.to_numpy().ravel()}
        assert finding.row in cells, (finding, table.key)
    texts = " ".join(finding.text for finding in report.findings)
    assert "tutorial's setting trains at" in texts and "fastest MLP configuration" in texts


def test_results_csv_round_trips_every_benchmark(written, run):
    frame = pd.read_csv(written.csv)
    rows = measured(run)
    assert len(frame) == len(rows)
    for bench in rows:
        info = bench["extra_info"]
        row = frame[frame["id"] == bench_id(bench)].iloc[0]
        for key in ("kind", "device", "model", "loader", "dataset"):
            assert row[key] == info[key]
        for key in ("batch_size", "num_workers", "hidden_width", "rounds"):
            assert int(row[key]) == info[key]
        assert row["samples_per_s"] == info["samples_per_s"]  # full precision, not the table's rounding
        if "samples_per_s_rounds" in info:
            assert json.loads(row["samples_per_s_rounds"]) == info["samples_per_s_rounds"]
        assert bool(row["reference"]) == info["reference"]


def test_dataframe_api(quick_run, run):
    frame = report_frame(quick_run)
    assert len(frame) == len(measured(run))
    assert {"machine", "id", "kind", "device", "samples_per_s", "epoch_s", "iqr_pct", "noisy"} <= set(frame.columns)
    tables = report_tables(frame)
    headline = tables["headline"]
    assert headline.loc[0, "reference_samples_per_s"] == reference(run)["samples_per_s"]
    assert set(tables) >= {"headline", "cpu_vs_gpu", "targets", "transfer_settings", "crossover", "bandwidth",
                           "telemetry", "accuracy", "noise", "side_by_side"}
    assert report_tables(quick_run)["noise"].equals(tables["noise"])


def test_cli_reports_the_latest_run_and_never_overwrites(quick_run, tmp_path, capsys):
    shutil.copy(quick_run, tmp_path / quick_run.name)
    assert main(["report", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / quick_run.stem
    assert f"report written to {folder}" in " ".join(out.split())
    assert "tutorial reference" in out and "Findings" in out
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    assert main(["report", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a report" in err[0] and "--force" in err[0]
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before

    assert main(["report", str(tmp_path / quick_run.name), "--force"]) == 0
    assert (folder / MARKDOWN).is_file()
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]  # no staging left over
