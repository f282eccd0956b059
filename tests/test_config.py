import dataclasses

import pytest

from mnist_core.core.config import BenchConfig, tutorial
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
    ({"lr": float("nan")}, "lr must be > 0"),
    ({"batch_size": 10**12}, "batch_size must be <= 60,000"),
    ({"num_workers": 100_000}, "num_workers must be <= 1,024"),
    ({"pin_memory": "yes"}, "pin_memory must be true or false"),
])
def test_invalid_fields_are_named(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BenchConfig(**changes)


def test_cuda_without_gpu(monkeypatch):
    monkeypatch.setattr("mnist_core.core.devices.cuda_available", lambda: False)
    config = BenchConfig(device="cuda")  # a value: a GPU run's rows are read on machines without one
    with pytest.raises(ConfigError, match="device='cuda' but no CUDA GPU"):
        config.check_runnable()


def test_resident_graph_needs_cuda():
    with pytest.raises(ConfigError, match="resident-graph.*needs device='cuda'"):
        BenchConfig(loader="resident-graph")


def test_frozen_and_defaults_are_the_tutorial():
    config = BenchConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.batch_size = 1
    assert (config.model, config.hidden_width, config.batch_size, config.num_workers) == ("mlp", 32, 128, 2)
    assert config.lr == 0.5 and config.reference and config == tutorial("cpu")
    gpu = BenchConfig(device="cuda")
    assert gpu.pin_memory and gpu.non_blocking and gpu.reference and gpu == tutorial("cuda")


def test_a_config_says_what_really_runs():
    """Normalised once, when built: settings that cannot act are off, so equal work is an equal config."""
    cpu = BenchConfig(device="cpu")
    assert (cpu.pin_memory, cpu.non_blocking) == (False, False)  # no pinned pages, no async copy on the CPU
    assert cpu.inert_fields == ("pin_memory", "non_blocking", "steps_per_replay")
    assert BenchConfig(device="cpu", pin_memory=False, non_blocking=True) == cpu
    resident = BenchConfig(device="cuda", loader="resident", num_workers=4)
    assert (resident.num_workers, resident.pin_memory, resident.non_blocking) == (0, False, False)
    assert resident == BenchConfig(device="cuda", loader="resident") and not resident.reference
    assert len({BenchConfig(device="cpu", pin_memory=pin, non_blocking=nb) for pin in (True, False)
                for nb in (True, False)}) == 1
