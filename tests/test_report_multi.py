"""Several runs from different machines, reported side by side by hardware."""

from __future__ import annotations

import json

import pytest

from mnist_core.commands.cli import main
from mnist_core.report import MARKDOWN, report_frame, report_tables, write_report
from mnist_core.report.formatting import rate
from mnist_core.runs.runfile import load_run, read_run

from report_data import gpu_run, relabelled

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
    assert header == "| benchmark | machine | unit | median [95% interval] | vs the first machine [95%] |"
    ref = next(row for row in read_run(real).rows if getattr(row, "reference", False))
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in side.splitlines()
            if line.startswith("| train/cpu-mlp-dataloader-bs128-w2 |")]
    assert [cells[1] for cells in rows] == [host, LAPTOP]  # one row per machine, adjacent
    interval = ref.measurement.interval
    median = f"{rate(interval.estimate)} [{rate(interval.low)}–{rate(interval.high)}]"
    assert [cells[3] for cells in rows] == [median] * 2  # the same rounds, so the same numbers on each machine
    assert rows[0][4] == "1.00×" and rows[1][4].startswith("1.00× [")  # the ratio to itself; then to the first
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


def halved(run: dict) -> dict:
    """A copy of `run` whose every round ran at half the rate (a slower machine)."""
    out = relabelled(run, cpu_model="Slower Xeon", gpu_name="NVIDIA T4")
    for bench in out["benchmarks"]:
        info = bench["extra_info"]
        for metric in ("samples_per_s", "gb_s"):
            if f"{metric}_rounds" in info:
                info[f"{metric}_rounds"] = [rate / 2 for rate in info[f"{metric}_rounds"]]
                info[metric] = info[metric] / 2
    return out


def test_side_by_side_gives_each_machine_its_interval_and_the_ratio_to_the_first(tmp_path):
    fast, slow = tmp_path / "fast.json", tmp_path / "slow.json"
    fast.write_text(json.dumps(gpu_run()))
    slow.write_text(json.dumps(halved(gpu_run())))
    side = report_tables(fast, slow)["side_by_side"]
    first, second = list(dict.fromkeys(side["machine"]))
    for bench_id, rows in side.groupby("id", sort=False):
        assert list(rows["machine"]) == [first, second] and rows.index[1] == rows.index[0] + 1, bench_id
        reference, other = rows.iloc[0], rows.iloc[1]
        assert reference["vs_first_machine"] == 1.0
        assert other["machine_median"] == pytest.approx(reference["machine_median"] / 2)
        assert other["machine_median_low"] <= other["machine_median"] <= other["machine_median_high"]
        assert other["vs_first_machine"] == pytest.approx(0.5)
        assert other["vs_first_machine_low"] <= 0.5 <= other["vs_first_machine_high"] < 0.95
        assert other["vs_first_machine_verdict"] == "slower"
