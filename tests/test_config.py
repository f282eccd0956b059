import dataclasses

import pytest

from mnist_core.core.config import BenchConfig
from mnist_core.errors import ConfigError


@pytest.mark.parametrize("changes, message", [
    ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
    ({"num_workers": -1}, "num_workers must be >= 0, got -1"),
    ({"device": "tpu"}, "device='tpu' is not one of cpu, cuda"),
    ({"model": "resnet"}, "model='resnet' is not one of mlp, cnn"),
    ({"loader": "ffcv"}, "loader='ffcv' is not one of dataloader, resident, resident-graph"),
    ({"dataset": "cifar10"}, "dataset='cifar10' is not one of mnist, fashion-mnist"),
    ({"batch_size": 12.5}, "batch_size must be an integer"),
    ({"hidden_width": 0}, "hidden_width must be >= 1"),
    ({"lr": -1.0}, "lr must be > 0"),
])
def test_invalid_fields_are_named(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BenchConfig(**changes)


def test_cuda_without_gpu(monkeypatch):
    monkeypatch.setattr("mnist_core.core.config.cuda_available", lambda: False)
    with pytest.raises(ConfigError, match="device='cuda' but no CUDA GPU"):
        BenchConfig(device="cuda")


def test_resident_graph_needs_cuda():
    with pytest.raises(ConfigError, match="resident-graph.*needs device='cuda'"):
        BenchConfig(loader="resident-graph")


def test_frozen_and_defaults_are_the_tutorial():
    config = BenchConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.batch_size = 1
    assert (config.model, config.hidden_width, config.batch_size, config.num_workers) == ("mlp", 32, 128, 2)
    assert config.pin_memory and config.non_blocking and config.lr == 0.5


def test_cpu_collapses_transfer_settings_and_keeps_reference():
    config = BenchConfig(device="cpu")
    assert not config.reference  # pin_memory/non_blocking can't act on the CPU ...
    collapsed = config.collapsed()
    assert (collapsed.pin_memory, collapsed.non_blocking) == (False, False)
    assert collapsed.reference  # ... so the tutorial's setting runs collapsed there
    assert collapsed.collapsed() is collapsed
    assert BenchConfig(device="cpu", pin_memory=False, non_blocking=False).collapsed() == collapsed
