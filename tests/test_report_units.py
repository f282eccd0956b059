"""Pure pieces of the report: formatting, plain labels, pivot cells."""

from __future__ import annotations

from mnist_core.core.config import BenchConfig
from mnist_core.report.analysis import setting_label
from mnist_core.report.formatting import duration, format_cell, rate, size, times, when
from mnist_core.report.render import github_anchor


def test_formatting():
    assert rate(12_345.6) == "12.3k" and rate(6012) == "6,012" and rate(1_320_000) == "1.32M" and rate(169_400) == "169k"
    assert duration(8.314) == "8.31 s" and duration(0.00348) == "3.48 ms" and duration(4.1e-5) == "41.0 µs"
    assert duration(123.4) == "123 s"  # three significant digits, never "0.00" for a fast epoch
    assert times(46.25) == "46.2×" and times(1.014) == "1.01×" and times(670.3) == "670×"
    assert format_cell("pin_memory", None) == "n/a" and format_cell("gpu_util_mean_pct", float("nan")) == "-"
    assert size(128 * 28 * 28 * 4) == "392 KiB" and size(64 * 1024 * 1024) == "64 MiB"
    assert when("2026-11-26T13:57:43.546348+00:00") == "2026-11-26 13:57 UTC"
    assert github_anchor("Host→device copies") == "hostdevice-copies"


def test_cells_that_claim_a_difference_carry_their_interval_and_verdict():
    row = {"gpu_vs_cpu": 3.5, "gpu_vs_cpu_low": 2.35, "gpu_vs_cpu_high": 4.4, "gpu_vs_cpu_verdict": "faster"}
    assert format_cell("gpu_vs_cpu", 3.5, row) == "3.50× [2.35×–4.40×] ▲ faster"
    delta = {"delta_pct": -27.4, "delta_pct_low": -29.0, "delta_pct_high": -25.1, "delta_pct_verdict": "slower"}
    assert format_cell("delta_pct", -27.4, delta) == "-27.4% [-29.0, -25.1] ▼ slower"
    assert format_cell("delta_pct", 2.0, {"delta_pct_verdict": "inconclusive"}) == "+2.0% ? inconclusive"


def test_settings_in_plain_words():
    assert setting_label(BenchConfig()) == "DataLoader, 2 workers"  # the CPU: pinning cannot act
    assert setting_label(BenchConfig(device="cuda", pin_memory=False, num_workers=0)) == \
        "DataLoader, 0 workers, not pinned, non_blocking"
    assert setting_label(BenchConfig(device="cuda", loader="resident-graph", batch_size=2048), with_batch=True) == \
        "data resident on the GPU, step in a CUDA graph, batch 2048"
    assert setting_label(BenchConfig(model="cnn", loader="resident")) == "CNN, data resident on the CPU"
