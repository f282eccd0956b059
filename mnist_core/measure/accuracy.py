"""Time-to-accuracy: how long each device/pipeline takes to reach a validation accuracy."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.loaders import ResidentLoader, normalise_uint8, prepare_torch, train_loader, train_split, val_loader
from mnist_core.core.models import build_training, make_optimizer
from mnist_core.core.train import TimeToAccuracy, evaluate, time_to_accuracy, train_step


def prepare_time_to_accuracy(config: BenchConfig, data: MnistData, target: float,
                             max_epochs: int) -> Callable[[], TimeToAccuracy]:
    """Build model and pipelines now; the returned call is only the training (the timed part)."""
    config.check_runnable()
    device = torch.device(config.device)
    prepare_torch(config)
    split = train_split(config, data)
    model, optimizer = build_training(config, device)
    validation = val_loader(config, data, split)
    warm_up_device(model, config, data, split.train_indices)
    run_epoch, train_batches = None, None
    if config.pipeline.trainer:
        resident = ResidentLoader.from_host(data.train_images, data.train_labels, split.train_indices, device=device,
                                            batch_size=config.batch_size, shuffle=True, seed=config.seed)
        trainer = config.pipeline.build_trainer(config, model, optimizer, resident.images_u8, resident.labels)
        run_epoch = trainer.train_epoch
    else:
        train_batches = train_loader(config, data, split)  # the tutorial's per-epoch DataLoader, workers and all

    def run() -> TimeToAccuracy:
        return time_to_accuracy(target, max_epochs, model, optimizer, train_batches, validation, device,
                                run_epoch=run_epoch)

    return run


def warm_up_device(model: torch.nn.Module, config: BenchConfig, data: MnistData, indices: torch.Tensor) -> None:
    """One training step and one evaluation on a throwaway copy of `model`, so one-time costs (CUDA's
    cuBLAS handles, kernel loading, allocator growth; oneDNN set-up on the CPU) stay out of the single
    timed run. The model itself and the random state are left as they were."""
    device = torch.device(config.device)
    batch = indices[:config.batch_size]
    images = normalise_uint8(data.train_images[batch]).to(device)
    labels = data.train_labels[batch].to(device)
    scratch = copy.deepcopy(model)
    train_step(scratch, make_optimizer(scratch, config.lr, device), images, labels)
    evaluate(scratch, [(images, labels)], device)
