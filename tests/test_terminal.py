"""The end of a session in the terminal: skips as counts, failures, and the answer, last, in at most 12 lines."""

from __future__ import annotations

import json
from pathlib import Path

from bench.summary import outcome_lines
from mnist_core.commands.info import _dataset_rows, _machine_rows
from mnist_core.core.data import DatasetLocation
from mnist_core.report.answer import answer_lines
from mnist_core.runs.runfile import typed_run
from mnist_core.runs.sections import Outcome

from report_data import GPU_NAME, gpu_run


def test_outcome_lines_count_skips_by_reason_and_list_failures():
    skipped = [Outcome("train/a", reason="no GPU"), Outcome("train/b", reason="no GPU"),
               Outcome("train/c", reason="needs CUDA graphs")]
    failed = [Outcome("train/d", reason="OutOfMemoryError: CUDA out of memory")]
    assert outcome_lines(skipped, failed) == ["skipped 2: no GPU", "skipped 1: needs CUDA graphs",
                                              "FAILED train/d: OutOfMemoryError: CUDA out of memory"]


def test_the_answer_of_a_gpu_run_fits_in_twelve_lines():
    lines = answer_lines(typed_run(Path("gpu.json"), json.loads(json.dumps(gpu_run()))))
    assert 4 <= len(lines) <= 12
    assert lines[0].startswith("GPU vs CPU at the tutorial's setting")


def test_info_rows_with_a_gpu():
    machine = {"cpu_model": "AMD EPYC", "cpu_cores": 16, "cpu_cores_available": 16, "torch_threads": 16,
               "gpu_name": GPU_NAME, "gpu_count": 1, "gpu_memory_mib": 81_559.0, "gpu_driver": "580.65",
               "gpu_cuda_driver": "13.0", "cuda_version": "12.8", "torch_version": "2.11.0", "torchvision_version": "0.26.0"}
    location = DatasetLocation("mnist", "/data/MNIST/raw", "downloaded", True)
    rows = dict([*_machine_rows(machine), *_dataset_rows(location, {"train": 60_000, "test": 10_000})])
    # The driver's CUDA beside the driver; torch's own CUDA build on the torch line.
    assert rows["GPU"] == f"{GPU_NAME} x1, 81559 MiB, driver 580.65 (CUDA 13.0)"
    assert rows["torch"] == "2.11.0 (CUDA build 12.8)"
    assert rows["source"] == "downloaded (downloaded now)"
