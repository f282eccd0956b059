"""Time-to-accuracy: how long each device/pipeline takes to reach a validation accuracy."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.graph import CudaGraphTrainer, graph_train_epoch
from mnist_core.core.loaders import ResidentLoader, normalise_uint8
from mnist_core.core.models import build_model
from mnist_core.core.pipeline import prepare_torch, train_loader, train_split, val_loader
from mnist_core.core.train import TimeToAccuracy, evaluate, make_optimizer, time_to_accuracy, train_epoch, train_step


def prepare_time_to_accuracy(config: BenchConfig, data: MnistData, target: float,
                             max_epochs: int) -> Callable[[], TimeToAccuracy]:
    """Build model and pipelines now; the returned call is only the training (the timed part)."""
    device = torch.device(config.device)
    prepare_torch(config)
    split = train_split(config, data)
    model = build_model(config.model, config.hidden_width).to(device)
    optimizer = make_optimizer(model, config.lr, device)
    validation = val_loader(config, data, split)
    warm_up_device(model, config, data, split.train_indices)
    if config.loader == "resident-graph":
        resident = ResidentLoader.from_host(data.train_images, data.train_labels, split.train_indices, device=device,
                                            batch_size=config.batch_size, shuffle=True, seed=config.seed)
        # The trainer stands where the batches would: graph_train_epoch replays it for each epoch.
        train_source = CudaGraphTrainer(model, optimizer, resident.images_u8, resident.labels,
                                        batch_size=config.batch_size, seed=config.seed)
        epoch_fn = graph_train_epoch
    else:
        train_source = train_loader(config, data, split)  # the tutorial's per-epoch DataLoader, workers and all
        epoch_fn = train_epoch

    def run() -> TimeToAccuracy:
        return time_to_accuracy(target, max_epochs, model, optimizer, train_source, validation, device,
                                train_epoch_fn=epoch_fn)

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


def accuracy_row(config: BenchConfig, result: TimeToAccuracy) -> dict:
    return {
        "kind": "accuracy",
        **config.asdict(),
        "reference": False,  # the reference row is the training benchmark's
        "tutorial_setting": config.reference,
        "target_accuracy": result.target,
        "reached": result.reached,
        "epochs": result.epochs,
        "seconds_to_target": result.seconds if result.reached else None,
        "seconds": result.seconds,
        "train_seconds": result.train_seconds,
        "val_accuracy": result.val_accuracy,
        "val_accuracy_by_epoch": [record.val.accuracy for record in result.history],
        "train_samples": result.train_samples,
        "samples_per_s": result.train_samples / result.train_seconds if result.train_seconds > 0 else None,
        "rounds": 1,
    }
