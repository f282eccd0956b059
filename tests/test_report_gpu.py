"""The report's GPU code paths (GPU vs CPU, DataLoader settings, copies, telemetry, suite checks) from a hand-made
H100-shaped run in the session's own format: this CI machine has no GPU, so these paths never ran on a real
GPU run here (the committed H100 run, format 1, is rendered in test_report_real.py)."""

from __future__ import annotations

import json
import re

import pytest

from mnist_core.measure.effect import FASTER, SAME
from mnist_core.report import build_report, load_runs, report_tables, to_markdown, write_report
from mnist_core.report.findings import MAX_FINDINGS
from mnist_core.report.plots import BANDWIDTH_PNG, CROSSOVER_PNG, SETTINGS_PNG, THROUGHPUT_PNG

from report_data import GPU_NAME, PCIE_GB_S, RESIDENT, gpu_run, throughput_bench


# The hand-made run is rendered once for the module: drawing a report's plots takes seconds, and the tests that
# read its Report read the one write_report rendered (build_report of the same run) beside the files it wrote.
# The tests only read what they are given; each still gets its own copy of the tables' frames.
@pytest.fixture(scope="module")
def gpu_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpu-run") / "run-20261120T100000Z-nvidia-h100.json"
    path.write_text(json.dumps(gpu_run()))
    return path


@pytest.fixture(scope="module")
def _gpu_tables(gpu_path):
    return report_tables(gpu_path)


@pytest.fixture
def tables(_gpu_tables):
    return {key: frame.copy(deep=True) for key, frame in _gpu_tables.items()}


@pytest.fixture(scope="module")
def written(gpu_path, tmp_path_factory):
    """The report of the hand-made run as `mnist-bench report` writes it: its files and its Report model."""
    return write_report([gpu_path], tmp_path_factory.mktemp("gpu-report") / "gpu-report")


@pytest.fixture
def report(written):
    return written.report


def test_the_answer_comes_first_with_intervals_and_verdicts(report):
    (answer,) = report.answers
    lines = answer.lines
    assert len(lines) <= 12
    assert lines[0].startswith("GPU vs CPU at the tutorial's setting: the GPU is faster, 1.09× [")
    assert "samples/s" in lines[0] and "per epoch" in lines[0]  # the user's units
    assert lines[1].startswith("GPU vs CPU each at its fastest: the GPU is faster, 46.")
    # The tutorial's GPU setting ties with pinned + blocking copies (-2%: within ±5%), so it is kept, tie named.
    gpu_setting = next(line for line in lines if line.startswith("DataLoader on the GPU"))
    assert "keep the tutorial's setting" in gpu_setting and "tied with 1 other setting" in gpu_setting
    fastest = next(line for line in lines if line.startswith("Fastest on the GPU"))
    assert "step in a CUDA graph, batch 2048" in fastest and "× [" in fastest


def test_gpu_vs_cpu_table(tables):
    table = tables["cpu_vs_gpu"].set_index("what")
    tutorial = table.loc["tutorial setting"]
    assert tutorial["gpu_vs_cpu"] == pytest.approx(13_600 / 12_500, rel=0.01)
    assert tutorial["gpu_vs_cpu_low"] < tutorial["gpu_vs_cpu"] < tutorial["gpu_vs_cpu_high"]
    assert tutorial["gpu_vs_cpu_verdict"] == FASTER  # paired rounds: a 9% gain is clear
    assert table.loc["each device's fastest", "gpu_setting"] == \
        "data resident on the GPU, step in a CUDA graph, batch 2048"


def test_settings_pivot_has_every_setting_with_its_interval_and_verdict(tables, report):
    settings = tables["settings"]
    gpu = settings[settings["device"] == "GPU"]
    assert len(gpu) == 4 * 2 * 4  # batch sizes x workers x (pin, non_blocking)
    unpinned = gpu[(gpu["setting"] == "2 workers, not pinned, non_blocking") & (gpu["batch_size"] == 128)].iloc[0]
    assert unpinned["delta_pct"] == pytest.approx((1 / 1.38 - 1) * 100, abs=0.5)
    assert unpinned["delta_pct_low"] < unpinned["delta_pct"] < unpinned["delta_pct_high"]
    assert unpinned["delta_pct_verdict"] == "slower"
    table = report.table("settings")
    assert table.pivot is not None and not table.collapsed
    markdown = to_markdown(report)
    row = next(line for line in markdown.splitlines() if "| 2 workers, not pinned, non_blocking |" in line)
    assert re.search(r"-27\.\d% \[-\d+\.\d, -\d+\.\d\] ▼ slower", row)  # the interval is in the cell


def test_suite_checks_are_the_suites_targets_not_the_users_grade(tables):
    checks = tables["suite_checks"].set_index("check")
    graph = checks.loc["resident-graph vs the tutorial's setting (GPU)"]
    assert graph["measured_x"] == pytest.approx(1_480_000 / 13_600, rel=0.01) and graph["status"] == "reached"
    pcie = checks.loc["pinned 64 MiB host→device copy vs the PCIe limit"]
    assert pcie["measured_x"] == pytest.approx(49.0 / PCIE_GB_S, rel=0.01) and pcie["target_x"] == 0.70
    assert set(checks["status"]) <= {"reached", "not reached on this machine"}


def test_bandwidth_against_pcie(tables):
    bandwidth = tables["bandwidth"]
    block = bandwidth[(bandwidth["bytes"] == 64 * 1024 * 1024) & bandwidth["pin_memory"] & bandwidth["non_blocking"]]
    assert block.iloc[0]["pcie_pct"] == pytest.approx(49.0 / PCIE_GB_S * 100, rel=0.01)
    assert block.iloc[0]["gb_s_low"] <= block.iloc[0]["gb_s"] <= block.iloc[0]["gb_s_high"]


def test_findings_are_few_ranked_and_in_plain_words(report):
    texts = [finding.text for finding in report.findings]
    assert 3 <= len(texts) <= MAX_FINDINGS
    assert texts[0].startswith("At the tutorial's setting (DataLoader, 2 workers, pinned, non_blocking, batch 128) "
                               "the GPU is busy 4.0%")  # the why, first
    assert not any(re.search(r"\b(train|loader|transfer)/", text) for text in texts)  # no benchmark ids
    assert any("depends on the batch size" in text or "at every batch size" in text for text in texts)
    assert all(finding.tables and all(report.has_table(key) for key in finding.tables) for finding in report.findings)


def test_gpu_report_files_are_self_contained(written):
    assert {path.name for path in written.plots} == {CROSSOVER_PNG, THROUGHPUT_PNG, SETTINGS_PNG, BANDWIDTH_PNG}
    page = written.html.read_text()
    assert page.count('<img src="data:image/svg+xml;base64,') == 4 and 'src="throughput' not in page
    for anchor in ("cpu-vs-gpu", "settings", "pipelines", "bandwidth", "gpu", "noise", "checks", "environment"):
        assert f'id="{anchor}"' in page, anchor
    assert page.index('id="answer"') < page.index('id="findings"') < page.index("<nav>")
    assert GPU_NAME in page


def test_a_report_from_a_subset_of_rows(gpu_path, tmp_path):
    run = json.loads(gpu_path.read_text())
    run["benchmarks"] = [bench for bench in run["benchmarks"] if bench["extra_info"]["kind"] == "transfer"
                         or bench["extra_info"].get("device") == "cuda"]
    path = tmp_path / "gpu-only.json"
    path.write_text(json.dumps(run))
    report = build_report(load_runs([path]))[0]
    assert not report.has_section("cpu-vs-gpu")  # nothing to compare the GPU with
    assert any("DataLoader on the GPU" in line for line in report.answers[0].lines)
    tables = report_tables(path)
    assert tables["cpu_vs_gpu"].empty and not tables["settings"].empty


def test_same_settings_are_called_same(tables):
    settings = tables["settings"]
    blocking = settings[(settings["device"] == "GPU") & (settings["batch_size"] == 128)
                        & (settings["setting"] == "2 workers, pinned, blocking copies")].iloc[0]
    assert blocking["delta_pct_verdict"] == SAME  # -2%: the whole interval inside ±5%


def test_a_run_narrowed_past_the_tutorials_row_still_compares_with_it(gpu_path, tmp_path):
    """`-k resident` leaves out the tutorial's row; every row's rounds were still paired with the yardstick,
    which runs the tutorial's setting, so the answer and the pipelines table compare with it from those pairs."""
    run = json.loads(gpu_path.read_text())
    run["benchmarks"] = [bench for bench in run["benchmarks"] if bench["extra_info"].get("loader") == "resident-graph"]
    path = tmp_path / "graph-only.json"
    path.write_text(json.dumps(run))
    fastest = next(line for line in build_report(load_runs([path]))[0].answers[0].lines
                   if line.startswith("Fastest on the GPU"))
    assert "the tutorial's setting itself" not in fastest
    assert re.search(r": [\d,.]+× \[[\d,.]+×–[\d,.]+×\] the tutorial's setting \([\d,.]+[kM]? vs [\d,.]+[kM]? "
                     r"samples/s, adjusted\)\.$", fastest), fastest
    pipelines = report_tables(path)["pipelines"]
    assert pipelines["vs_tutorial"].notna().all() and (pipelines["vs_tutorial_verdict"] == FASTER).all()


def test_the_compiled_step_is_judged_against_the_eager_one(gpu_path, tmp_path):
    run = json.loads(gpu_path.read_text())
    cpu = [bench for bench in run["benchmarks"] if bench["extra_info"].get("device") == "cpu"]
    compiled = [throughput_bench("train", "cpu", "resident-compiled", batch, RESIDENT[("cpu", batch)] * gain)
                for batch, gain in ((128, 1.0), (2048, 1.3))]
    run["benchmarks"] = cpu + compiled
    path = tmp_path / "cpu-compiled.json"
    path.write_text(json.dumps(run))
    texts = [finding.text for finding in build_report(load_runs([path]))[0].findings]
    (compiled_finding,) = [text for text in texts if "torch.compile" in text]
    assert compiled_finding.startswith("On the CPU, the step compiled by torch.compile against the eager step")
    # Sign-consistent: faster where decided, never "depends on the batch size"; each batch with its two throughputs.
    assert "faster at batch 2048; within ±5% at batch 128" in compiled_finding and "depends" not in compiled_finding
    assert re.search(r"batch 128: ([\d.]+k) vs \1 samples/s, no different; batch 2048: [\d.]+k vs [\d.]+k samples/s, "
                     "faster", compiled_finding), compiled_finding


def test_the_fastest_names_what_it_cannot_be_told_from(gpu_path, tmp_path):
    """The compiled step 2% faster than the eager one at batch 2048 is the fastest measured, but not reliably:
    the answer names the eager step as a tie rather than calling the compiled one faster."""
    run = json.loads(gpu_path.read_text())
    cpu = [bench for bench in run["benchmarks"] if bench["extra_info"].get("device") == "cpu"]
    run["benchmarks"] = cpu + [throughput_bench("train", "cpu", "resident-compiled", 2048, RESIDENT[("cpu", 2048)] * 1.02)]
    path = tmp_path / "cpu-tied.json"
    path.write_text(json.dumps(run))
    fastest = next(line for line in build_report(load_runs([path]))[0].answers[0].lines
                   if line.startswith("Fastest on the CPU"))
    assert fastest.startswith("Fastest on the CPU: data resident on the CPU, step compiled, batch 2048")
    assert fastest.endswith("samples/s, adjusted) (no reliable difference from: data resident on the CPU, batch 2048).")
