"""Pure pieces of the report: wording thresholds, crossover sentences, formatting."""

from __future__ import annotations

import pandas as pd
import pytest

from mnist_core.report.findings import crossover_sentence, effect_phrase
from mnist_core.report.formatting import format_cell, size, when
from mnist_core.report.render import github_anchor
from mnist_core.report.tables import winner


def cells(*pairs):
    return pd.DataFrame([{"batch_size": batch, "gpu_speedup": speedup} for batch, speedup in pairs])


@pytest.mark.parametrize("pairs, expected", [
    ([(128, 1.02)], "at batch 128 the GPU is no faster than the CPU (1.02x)"),
    ([(128, 0.5)], "at batch 128 the GPU is slower than the CPU (0.50x)"),
    ([(128, 3.0)], "the GPU wins at batch 128 (3.00x), the only size measured"),
    ([(32, 0.7), (128, 1.0), (512, 1.6)], "the GPU starts to win at batch 512 (1.60x)"),
    ([(32, 1.3), (512, 20.0)], "the GPU wins at every batch size measured, from 1.30x at batch 32 to 20.0x"),
    ([(32, 0.5), (512, 0.9)], "the GPU does not win at any batch size measured (at best 0.90x at batch 512"),
    ([(32, 1.5), (128, 0.9), (512, 0.8)], "the GPU wins only at batch 32"),
])
def test_crossover_sentence(pairs, expected):
    text, _ = crossover_sentence("mlp", "dataloader", cells(*pairs))
    assert text.startswith("The tutorial MLP with the dataloader pipeline: ") and expected in text


def test_effect_and_winner_thresholds():
    assert effect_phrase(38.2) == "raised samples/s by 38%"
    assert effect_phrase(-27.0) == "lowered samples/s by 27%"
    assert effect_phrase(2.0).startswith("made no clear difference")
    assert winner(1.10) == "GPU" and winner(1.05) == "neither (within 10%)" and winner(0.9) == "CPU"


def test_formatting():
    assert format_cell("samples_per_s", 12345.6) == "12,346"
    assert format_cell("pin_memory", None) == "n/a" and format_cell("gpu_util_mean_pct", float("nan")) == "-"
    assert format_cell("gpu_speedup", 46.25) == "46.2x" and format_cell("gpu_speedup", 1.014) == "1.01x"
    assert size(128 * 28 * 28 * 4) == "392 KiB" and size(64 * 1024 * 1024) == "64 MiB"
    assert when("2026-11-26T13:57:43.546348+00:00") == "2026-11-26 13:57 UTC"
    assert github_anchor("Host→device bandwidth") == "hostdevice-bandwidth"
