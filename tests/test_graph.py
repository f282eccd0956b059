"""resident-graph: argument checks on the CPU; accuracy agreement and no host sync on CUDA."""

import pytest
import torch

from mnist_core.config import BenchConfig
from mnist_core.errors import ConfigError
from mnist_core.graph import CudaGraphTrainer
from mnist_core.loaders import ResidentLoader
from mnist_core.models import build_model
from mnist_core.pipeline import holdout_loader, prepare_torch, train_loader, train_split
from mnist_core.train import evaluate, make_optimizer, train_epoch
from mnist_core.workload import build_workload



def make_trainer(images, labels, batch_size=128, device="cpu"):
    model = build_model("mlp").to(device)
    return CudaGraphTrainer(model, make_optimizer(model, 0.5, torch.device(device)), images, labels,
                            batch_size=batch_size, seed=0)


def test_refuses_cpu_tensors(mnist_t10k):
    images, labels = mnist_t10k
    with pytest.raises(ConfigError, match="needs the split on a CUDA device, got cpu"):
        make_trainer(images[:1000], labels[:1000])


def test_config_refuses_graph_on_cpu():
    with pytest.raises(ConfigError, match="resident-graph.*needs device='cuda'"):
        BenchConfig(device="cpu", loader="resident-graph")


class FakeCudaTensor:
    """Just enough of a tensor to reach the checks after the device check."""

    def __init__(self, length, dtype=torch.uint8):
        self.length, self.dtype, self.device = length, dtype, torch.device("cuda")

    def __len__(self):
        return self.length


@pytest.mark.parametrize("images, labels, batch_size, message", [
    (FakeCudaTensor(100, torch.float32), FakeCudaTensor(100), 10, "holds images as uint8, got torch.float32"),
    (FakeCudaTensor(100), FakeCudaTensor(99), 10, r"images \(100\) and labels \(99\) differ"),
    (FakeCudaTensor(100), FakeCudaTensor(100), 101, "batch_size must be between 1 and the split size 100"),
    (FakeCudaTensor(100), FakeCudaTensor(100), 0, "batch_size must be between 1"),
])
def test_argument_validation(images, labels, batch_size, message):
    with pytest.raises(ConfigError, match=message):
        CudaGraphTrainer(None, None, images, labels, batch_size=batch_size, seed=0)


def one_epoch_test_accuracy(config, data):
    device = torch.device(config.device)
    prepare_torch(config)
    split = train_split(config, data)
    model = build_model(config.model).to(device)
    optimizer = make_optimizer(model, config.lr, device)
    if config.loader == "resident-graph":
        resident = ResidentLoader.from_host(data.train_images, data.train_labels, split.train_indices,
                                            device=device, batch_size=config.batch_size, shuffle=True, seed=config.seed)
        trainer = CudaGraphTrainer(model, optimizer, resident.images_u8, resident.labels,
                                            batch_size=config.batch_size, seed=config.seed)
        trainer.train_epoch()
    else:
        train_epoch(model, optimizer, train_loader(config, data, split), device)
    return evaluate(model, holdout_loader(config, data), device).accuracy




def cuda_config(loader):
    return BenchConfig(device="cuda", dataset="fashion-mnist", loader=loader, num_workers=0, pin_memory=False,
                       non_blocking=False)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: CUDA graphs run only there")
def test_graph_and_eager_agree_after_one_epoch(fashion):
    eager = one_epoch_test_accuracy(cuda_config("resident"), fashion)
    graph = one_epoch_test_accuracy(cuda_config("resident-graph"), fashion)
    assert abs(graph - eager) <= 0.005, (graph, eager)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: CUDA graphs run only there")
@pytest.mark.parametrize("loader", ["resident", "resident-graph"])
def test_no_host_sync_inside_an_epoch(fashion, loader):
    config = cuda_config(loader).replace(samples_per_round=60_000)  # crosses an epoch boundary
    with build_workload("train", config, fashion) as workload:
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(workload.steps_per_round):
                workload.step()
        finally:
            torch.cuda.set_sync_debug_mode(0)
        torch.cuda.synchronize()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: resident pipelines on the device")
def test_resident_holds_uint8_on_the_gpu(fashion):
    config = cuda_config("resident")
    split = train_split(config, fashion)
    loader = train_loader(config, fashion, split)
    assert loader.images_u8.dtype == torch.uint8 and loader.images_u8.is_cuda
    assert loader.dataset_bytes == 50_000 * 28 * 28
