"""The end-of-session table and `info` rows with GPU data (hand-made, and one real H100 run)."""

import json
from pathlib import Path

import pandas as pd
from rich.console import Console

from mnist_core.commands.info import _dataset_rows, _machine_rows
from mnist_core.core.data import DatasetLocation, MnistData
from mnist_core.runs.frame import run_frame
from mnist_core.report.summary import comparison, outcome_lines, summary_table

from report_data import GPU_NAME, gpu_run


def test_comparison_pairs_cpu_and_best_gpu_rows():
    table = comparison(run_frame(gpu_run()))
    reference = table[table["reference"]].iloc[0]
    assert (reference["model"], reference["loader"], reference["batch_size"], reference["num_workers"]) == (
        "mlp", "dataloader", 128, 2)
    assert reference["gpu_speedup"] == reference["gpu_samples_per_s"] / reference["cpu_samples_per_s"]
    assert reference["gpu_setting"] == "pin+nb" and reference["gpu_util_mean_pct"] is not None
    resident = table[(table["loader"] == "resident-graph") & (table["batch_size"] == 128)].iloc[0]
    assert pd.isna(resident["cpu_samples_per_s"]) and resident["gpu_samples_per_s"] == 1_480_000


def test_reference_row_shows_the_reference_setting_even_when_another_is_faster():
    run = gpu_run()
    for bench in run["benchmarks"]:
        if bench["name"] == "test_train[cuda-mlp-dataloader-bs128-w2-nopin-blk]":
            bench["extra_info"]["samples_per_s"] = 99_000.0
    table = comparison(run_frame(run))
    group = table[(table["kind"] == "train") & (table["loader"] == "dataloader") & (table["batch_size"] == 128)
                  & (table["num_workers"] == 2)]
    reference, faster = group.iloc[0], group.iloc[1]
    assert reference["reference"] and reference["gpu_setting"] == "pin+nb" and reference["gpu_samples_per_s"] == 12_600
    assert not faster["reference"] and (faster["gpu_setting"], faster["gpu_samples_per_s"]) == ("nopin+blk", 99_000)


def test_summary_table_renders_gpu_columns():
    console = Console(width=200, record=True)
    console.print(summary_table(gpu_run()))
    text = console.export_text()
    assert "dataloader (reference)" in text and "1,480,000" in text and "pin+nb" in text


def test_outcome_lines_group_skips_by_reason_and_list_failures():
    run = gpu_run()
    run["mnist_bench"]["skipped"] = [{"id": "train/a", "reason": "no GPU"}, {"id": "train/b", "reason": "no GPU"}]
    run["mnist_bench"]["failed"] = [{"id": "train/c", "reason": "OutOfMemoryError: CUDA out of memory"}]
    assert outcome_lines(run) == ["skipped 2: no GPU: train/a, train/b",
                                  "FAILED train/c: OutOfMemoryError: CUDA out of memory"]


def test_info_rows_with_a_gpu():
    machine = {"cpu_model": "AMD EPYC", "cpu_cores": 16, "cpu_cores_available": 16, "torch_threads": 16,
               "gpu_name": GPU_NAME, "gpu_count": 1, "gpu_memory_mib": 81_559.0, "gpu_driver": "580.65",
               "gpu_cuda_driver": "13.0", "cuda_version": "12.8", "torch_version": "2.11.0", "torchvision_version": "0.26.0"}
    location = DatasetLocation("mnist", "/data/MNIST/raw", "downloaded", True)
    data = MnistData(*[[0] * n for n in (60_000, 60_000, 10_000, 10_000)], location)
    rows = dict([*_machine_rows(machine), *_dataset_rows(data)])
    # The driver's CUDA beside the driver; torch's own CUDA build on the torch line.
    assert rows["GPU"] == f"{GPU_NAME} x1, 81559 MiB, driver 580.65 (CUDA 13.0)"
    assert rows["torch"] == "2.11.0 (CUDA build 12.8)"
    assert rows["source"] == "downloaded (downloaded now)"


def test_summary_of_the_committed_h100_run():
    """A real GPU run: its 64 MiB copies have no batch size, which once made the column print 128.0."""
    path = Path(__file__).resolve().parents[1] / "results/gpu-nvidia-h100-16core/run-20261126T163617Z-nvidia-h100-80gb-hbm3.json"
    console = Console(width=200, record=True)
    console.print(summary_table(json.loads(path.read_text())))
    text = console.export_text()
    reference = next(line for line in text.splitlines() if "(reference)" in line)
    assert "│   128 │       2 │" in reference and "21,421" in reference and "pin+nb" in reference
    assert ".0 │" not in text
