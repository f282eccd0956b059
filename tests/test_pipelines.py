"""The pipeline records (core/pipelines.py): what adding one must get right, and what each decides."""

import importlib

import pytest

from mnist_core.core.config import BenchConfig, label_for
from mnist_core.core.pipelines import PIPELINES
from mnist_core.errors import ConfigError


@pytest.mark.parametrize("name", PIPELINES)
def test_each_record_holds_together(name):
    pipeline = PIPELINES[name]
    if pipeline.trainer:  # its module builds its trainer
        assert callable(importlib.import_module(pipeline.trainer).trainer_for)
    if pipeline.needs_cuda_for:  # what stands in for it on the CPU runs there
        assert pipeline.cpu_stand_in in PIPELINES and not PIPELINES[pipeline.cpu_stand_in].needs_cuda_for
    others = [other for other in PIPELINES.values() if other is not pipeline]
    assert all((other.family, other.colour, other.marker) != (pipeline.family, pipeline.colour, pipeline.marker)
               for other in others)  # its own series in every chart


@pytest.mark.parametrize("spec, label", [
    (dict(device="cuda"), "cuda-mlp-dataloader-bs128-w2-pin-nb"),
    (dict(device="cpu", num_workers=0), "cpu-mlp-dataloader-bs128-w0"),
    (dict(device="cuda", loader="resident", num_workers=4), "cuda-mlp-resident-bs128"),
    (dict(device="cuda", loader="resident-compiled", steps_per_replay=8), "cuda-mlp-resident-compiled-bs128-k8"),
    (dict(device="cpu", loader="resident-compiled", steps_per_replay=8), "cpu-mlp-resident-compiled-bs128"),
])
def test_an_id_names_the_settings_that_act(spec, label):
    assert BenchConfig(**spec).label() == label_for(spec) == label


def test_a_cuda_only_pipeline_on_the_cpu_names_its_stand_in():
    assert label_for(dict(loader="resident-graph")) == "cpu-mlp-resident-graph-bs128"  # the skip's id
    with pytest.raises(ConfigError, match=r"needs device='cuda' \(CUDA graphs\); use loader='resident' on the CPU"):
        BenchConfig(loader="resident-graph")
