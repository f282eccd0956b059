"""Several runs from different machines, reported side by side by hardware."""

from __future__ import annotations

import json

import pytest

from mnist_core.commands.cli import main
from mnist_core.report import MARKDOWN, report_frame, report_tables, write_report
from mnist_core.runs.runfile import load_run, read_run

from report_data import relabelled

LAPTOP = "Laptop Core i5-8250U"


@pytest.fixture(scope="module")
def two_runs(quick_run, tmp_path_factory):
    """The real run, and a copy of it labelled as another machine."""
    folder = tmp_path_factory.mktemp("two-machines")
    laptop = folder / "run-20261120T090000Z-laptop.json"
    laptop.write_text(json.dumps(relabelled(load_run(quick_run), cpu_model=LAPTOP)))
    return quick_run, laptop


def test_frame_labels_rows_by_machine(two_runs):
    real, laptop = two_runs
    frame = report_frame(real, laptop)
    host = load_run(real)["machine_info"]["cpu_model"]
    assert list(dict.fromkeys(frame["machine"])) == [host, LAPTOP]
    assert (frame["machine"] == host).sum() == (frame["machine"] == LAPTOP).sum() == len(frame) // 2
    settings = report_tables(real, laptop)["settings"]
    assert list(dict.fromkeys(settings["machine"])) == [host, LAPTOP]


def test_side_by_side_report(two_runs, tmp_path):
    real, laptop = two_runs
    written = write_report([real, laptop], tmp_path / "both")
    markdown = written.markdown.read_text()
    host = load_run(real)["machine_info"]["cpu_model"]
    assert markdown.startswith(f"# mnist-bench report: {host} vs {LAPTOP}")
    side = markdown.split("## Side by side\n", 1)[1]
    header = next(line for line in side.splitlines() if line.startswith("| benchmark |"))
    assert f"| {host} |" in header and f"| {LAPTOP} |" in header
    ref = next(row for row in read_run(real).rows if getattr(row, "reference", False))
    row = next(line for line in side.splitlines() if line.startswith("| train/cpu-mlp-dataloader-bs128-w2 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2:] == [f"{ref.measurement.median:,.0f}"] * 2  # the same numbers, once per machine
    environment = markdown.split("## Environment and what was not measured\n", 1)[1].split("\n## ", 1)[0]
    assert f"| {host} | {LAPTOP} |" in environment
    # with several machines, each answer and finding names the machine it is about
    assert [answer.machine for answer in written.report.answers] == [host, LAPTOP]
    assert all(finding.text.startswith((f"{host}: ", f"{LAPTOP}: ")) for finding in written.report.findings)


def test_same_hardware_twice_gets_distinct_labels(quick_run):
    frame = report_frame(quick_run, quick_run)
    labels = list(dict.fromkeys(frame["machine"]))
    assert len(labels) == 2 and quick_run.stem in labels[0]


def test_cli_default_out_for_several_runs(two_runs, tmp_path, capsys):
    real, laptop = two_runs
    assert main(["report", str(real), str(laptop), "--results-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    folders = list(tmp_path.glob("report-*"))
    assert len(folders) == 1 and (folders[0] / MARKDOWN).is_file()
