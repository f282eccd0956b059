"""resident-compiled: the compiled step does the eager step's work on the same batches (CPU here; CUDA, with
K steps per graph replay, on the GPU machine), and the config and matrix carry its K."""

from __future__ import annotations

import pytest
import torch

from mnist_core.core.compiled import CompiledTrainer
from mnist_core.core.config import BenchConfig
from mnist_core.core.loaders import DeviceOrder, ResidentLoader, normalise_uint8
from mnist_core.core.models import build_model, make_optimizer
from mnist_core.core.train import evaluate, train_step
from mnist_core.errors import ConfigError
from mnist_core.measure import profiles


def eager_and_compiled(images, labels, device, steps_per_replay=1, epochs=1):
    """The same initial weights trained on the same batches in the same order, eagerly and compiled."""
    torch.manual_seed(0)
    eager, compiled = build_model("mlp").to(device), build_model("mlp").to(device)
    compiled.load_state_dict(eager.state_dict())
    trainer = CompiledTrainer(compiled, make_optimizer(compiled, 0.5, device), images, labels, batch_size=128, seed=5,
                              steps_per_replay=steps_per_replay)
    optimizer = make_optimizer(eager, 0.5, device)
    order = DeviceOrder(len(labels), torch.device(device), shuffle=True, seed=5)
    for _ in range(epochs):
        trainer.train_epoch()
        permutation = order.epoch()
        for step in range(trainer.steps_per_epoch):
            index = permutation[step * 128:(step + 1) * 128]
            train_step(eager, optimizer, normalise_uint8(images[index]), labels[index])
    return eager, compiled


def test_compiled_step_matches_the_eager_step_on_the_cpu(mnist_t10k):
    """Compiled kernels may sum in another order: one epoch of 62 steps stays within 1e-4 of the eager weights
    (measured: 2.7e-7 on the 2-core machine)."""
    images, labels = mnist_t10k
    resident = ResidentLoader(images[:8000], labels[:8000], batch_size=128, shuffle=True, seed=0)
    eager, compiled = eager_and_compiled(resident.images_u8, resident.labels, "cpu")
    for name, weight in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[name], weight, rtol=0, atol=1e-4, msg=name)
    held_out = [(normalise_uint8(images[8000:]), labels[8000:])]
    assert evaluate(compiled, held_out, "cpu").accuracy > 0.5  # it learned: not a no-op step


def test_its_k_lives_only_where_a_cuda_graph_replays_it():
    cpu = BenchConfig(loader="resident-compiled", steps_per_replay=8)
    assert cpu.steps_per_replay == 1 and cpu.label() == "cpu-mlp-resident-compiled-bs128"
    cuda = BenchConfig(device="cuda", loader="resident-compiled", steps_per_replay=8, samples_per_round=10_240)
    assert cuda.label() == "cuda-mlp-resident-compiled-bs128-k8"
    assert cuda.steps_per_round == 80 and BenchConfig(device="cuda", loader="resident-compiled", steps_per_replay=32,
                                                      samples_per_round=10_240).steps_per_round == 96  # whole replays
    assert BenchConfig(device="cuda", steps_per_replay=8).steps_per_replay == 1  # a DataLoader has no graph


def test_the_matrix_chooses_k_on_the_gpu_and_keeps_the_cpu_where_compiling_paid():
    """K is chosen by measurement on the GPU; on the CPU the compiled step runs at batch 2048 by default (where it
    measured faster than the eager step on the 2-core machine) and at 128 too in the full profile."""
    default = profiles.get_profile("default")
    ids = [param.id for param in profiles.params(profiles.train_specs(default, ("cpu", "cuda"), "mnist"), default)]
    assert [item for item in ids if "compiled" in item] == [
        "cpu-mlp-resident-compiled-bs2048",
        "cuda-mlp-resident-compiled-bs128-k1", "cuda-mlp-resident-compiled-bs128-k8",
        "cuda-mlp-resident-compiled-bs128-k32", "cuda-mlp-resident-compiled-bs2048-k8"]
    full = profiles.get_profile("full")
    assert [item for item in (param.id for param in profiles.params(profiles.train_specs(full, ("cpu",), "mnist"), full))
            if "compiled" in item] == ["cpu-mlp-resident-compiled-bs128", "cpu-mlp-resident-compiled-bs2048"]
    quick = profiles.get_profile("quick")
    assert not [param for param in profiles.params(profiles.train_specs(quick, ("cpu",), "mnist"), quick)
                if "compiled" in param.id]


def test_refuses_what_it_cannot_restore():
    images, labels = torch.zeros(1000, 28, 28, dtype=torch.uint8), torch.zeros(1000, dtype=torch.int64)
    model = build_model("mlp")
    with pytest.raises(ConfigError, match="plain SGD"):
        CompiledTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), images, labels,
                        batch_size=128, seed=0)
    with pytest.raises(ConfigError, match="must fit in the split"):
        CompiledTrainer(model, make_optimizer(model, 0.1, "cpu"), images, labels, batch_size=600, seed=0,
                        steps_per_replay=2)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: K steps per CUDA graph replay")
@pytest.mark.parametrize("steps_per_replay", [1, 8])
def test_compiled_graph_matches_the_eager_step_on_the_gpu(fashion, steps_per_replay):
    """The same batches through the eager step and through K compiled steps per graph replay: weights within
    1e-3 after one epoch (float reordering on the GPU; a step that failed to run would differ by far more)."""
    device = torch.device("cuda")
    resident = ResidentLoader.from_host(fashion.train_images, fashion.train_labels, torch.arange(50_000),
                                        device=device, batch_size=128, shuffle=True, seed=0)
    eager, compiled = eager_and_compiled(resident.images_u8, resident.labels, device, steps_per_replay)
    gap = max((compiled.state_dict()[name] - weight).abs().max().item() for name, weight in eager.state_dict().items())
    assert gap <= 1e-3, gap
    holdout = ResidentLoader.from_host(fashion.test_images, fashion.test_labels, torch.arange(10_000), device=device,
                                       batch_size=1024, shuffle=False, seed=0)
    assert evaluate(compiled, holdout, device).accuracy > 0.6
