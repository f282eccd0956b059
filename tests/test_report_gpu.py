"""The report's GPU code paths (transfer settings, crossover, H2D bandwidth, telemetry) from a hand-made
H100-shaped run: this CI machine has no GPU, so these paths never ran on a real GPU run here."""

from __future__ import annotations

import json

import pytest

from mnist_core.report import build_report, load_runs, report_frame, report_tables, write_report
from mnist_core.report.plots import BANDWIDTH_PNG, THROUGHPUT_PNG, TRANSFER_PNG

from report_data import GPU_NAME, PCIE_GB_S, gpu_run


@pytest.fixture
def gpu_path(tmp_path):
    path = tmp_path / "run-20261120T100000Z-nvidia-h100.json"
    path.write_text(json.dumps(gpu_run()))
    return path


@pytest.fixture
def tables(gpu_path):
    return report_tables(report_frame(gpu_path))


def finding_texts(path) -> list[str]:
    report, _, _ = build_report(load_runs([path]))
    return [finding.text for finding in report.findings]


def test_headline_and_targets(tables):
    cpu_vs_gpu = tables["cpu_vs_gpu"].set_index("configuration")
    assert cpu_vs_gpu.loc["tutorial reference", "gpu_speedup"] == pytest.approx(12_600 / 12_500)
    targets = tables["targets"].set_index("ratio")
    assert targets.loc["resident-graph vs tutorial reference", "measured_x"] == pytest.approx(1_480_000 / 12_600)
    assert targets.loc["resident-graph vs eager resident", "measured_x"] == pytest.approx(1_480_000 / 210_000)
    assert targets.loc["resident vs tutorial reference", "measured_x"] == pytest.approx(170_000 / 12_500)
    pcie = targets.loc["pinned 64 MiB host→device copy vs PCIe limit"]
    assert pcie["measured_x"] == pytest.approx(49.0 / PCIE_GB_S) and pcie["target_x"] == 0.70
    assert pcie["numerator_id"] == "transfer/cuda-h2d-64MiB-pinned-nb"
    assert set(targets["status"]) == {"met"}


def _with_pinned_block_fraction(gpu_path, fraction):
    run = json.loads(gpu_path.read_text())
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        if info.get("transfer") == "block64MiB" and info["pin_memory"]:
            info["pcie_fraction"] = fraction
    gpu_path.write_text(json.dumps(run))
    return report_tables(report_frame(gpu_path))["targets"].set_index("ratio").loc[
        "pinned 64 MiB host→device copy vs PCIe limit"]


def test_pcie_target_below(gpu_path):
    pcie = _with_pinned_block_fraction(gpu_path, 0.5)
    assert (pcie["measured_x"], pcie["status"]) == (0.5, "below target")
    assert any("PCIe limit on the GPU: 0.50x (target at least 0.70x): below the target" in text
               for text in finding_texts(gpu_path))


def test_pcie_target_unreadable_link_is_not_measured(gpu_path):
    pcie = _with_pinned_block_fraction(gpu_path, None)
    assert pcie["status"] == "not measured: the PCIe link was not readable through NVML"


def test_transfer_settings_best_and_delta(tables):
    settings = tables["transfer_settings"]
    gpu128 = settings[(settings["device"] == "cuda") & (settings["batch_size"] == 128)]
    assert len(gpu128) == 8  # 2 worker counts x pin_memory x non_blocking
    best = gpu128[gpu128["best"]]
    assert list(best["id"]) == ["train/cuda-mlp-dataloader-bs128-w2-pin-nb"] and bool(best["reference"].iloc[0])
    nopin = gpu128[gpu128["id"] == "train/cuda-mlp-dataloader-bs128-w2-nopin-nb"].iloc[0]
    assert nopin["delta_vs_reference_pct"] == pytest.approx((1 / 1.38 - 1) * 100)
    cpu = settings[settings["device"] == "cpu"]
    assert cpu["pin_memory"].isna().all() and cpu["non_blocking"].isna().all()  # collapsed: shown n/a


def test_crossover_and_its_sentences(tables, gpu_path):
    crossover = tables["crossover"]
    mlp = crossover[(crossover["model"] == "mlp") & (crossover["pipeline"] == "dataloader")]
    assert list(mlp["faster"]) == ["CPU", "neither (within 10%)", "GPU", "GPU"]
    texts = finding_texts(gpu_path)
    assert "The tutorial MLP with the dataloader pipeline: the GPU starts to win at batch 512 (1.50x)" in " ".join(texts)
    assert any(text.startswith("At batch 128 the tutorial MLP is no faster on the GPU than on the CPU") for text in texts)
    assert any(text.startswith("pin_memory raised samples/s by 38% at batch 128 on the GPU") for text in texts)


def test_bandwidth_against_pcie(tables, gpu_path):
    bandwidth = tables["bandwidth"]
    block = bandwidth[bandwidth["id"] == "transfer/cuda-h2d-64MiB-pinned-nb"].iloc[0]
    assert block["pcie_link"] == "gen5 x16"
    assert block["pcie_pct"] == pytest.approx(49.0 / (3.938 * 16) * 100)
    texts = " ".join(finding_texts(gpu_path))
    assert "Pinned host→device copies of 64 MiB reached 49.0 GB/s, 78% of the PCIe gen5 x16 limit" in texts
    assert "one batch of 128 images (392 KiB)" in texts


def test_telemetry_and_busy_finding(tables, gpu_path):
    telemetry = tables["telemetry"]
    reference = telemetry[telemetry["reference"]].iloc[0]
    assert reference["gpu_util_mean_pct"] == 4.0
    assert any("GPU was busy 4% of the time" in text for text in finding_texts(gpu_path))


def test_gpu_report_files_and_traceable_findings(gpu_path, tmp_path):
    written = write_report([gpu_path], tmp_path / "report")
    assert {path.name for path in written.plots} == {THROUGHPUT_PNG, TRANSFER_PNG, BANDWIDTH_PNG}
    html = written.html.read_text()
    assert html.count("<img src=") == 3 and GPU_NAME in html
    report = written.report
    for finding in report.findings:
        frame = report.table(finding.table).frame
        cells = {str(value) for value in frame.to_numpy().ravel()}
        composite = {f"{m}/{p}/batch {b}" for m, p, b in frame[["model", "pipeline", "batch_size"]].itertuples(
            index=False)} if finding.table == "crossover" else set()
        assert finding.row in cells | composite, finding


def test_cpu_laptop_beside_the_gpu_machine(gpu_path, quick_run, tmp_path):
    written = write_report([quick_run, gpu_path], tmp_path / "both")
    frame = written.report.table("side_by_side").frame
    assert GPU_NAME in " ".join(frame.columns)
    crossover = written.report.table("crossover").frame
    assert set(crossover["machine"]) == {next(c for c in frame.columns if GPU_NAME in c)}  # only where both devices ran


@pytest.mark.parametrize("keep, finding", [
    (lambda info: info["kind"] == "transfer", "Pinned host→device copies"),  # only the copies (e.g. `-k h2d`)
    (lambda info: info["device"] == "cuda" and info["kind"] == "train", "resident-graph"),  # GPU only, no CPU
    (lambda info: info["kind"] == "loader", "The input pipeline alone on the GPU"),
], ids=["transfer-only", "gpu-train-only", "loader-only"])
def test_reports_from_a_subset_of_rows(keep, finding, tmp_path):
    run = gpu_run()
    run["benchmarks"] = [bench for bench in run["benchmarks"] if keep(bench["extra_info"])]
    path = tmp_path / "run-subset.json"
    path.write_text(json.dumps(run))
    written = write_report([path], tmp_path / "report")
    assert written.markdown.read_text().startswith("# mnist-bench report: ")
    assert any(finding in item.text for item in written.report.findings), [item.text for item in written.report.findings]
