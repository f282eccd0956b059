"""From a BenchConfig and the loaded data to the train/validation pipelines it names."""

from __future__ import annotations

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.loaders import ResidentLoader, Split, make_dataloader, split_indices


def prepare_torch(config: BenchConfig) -> None:
    """Seed and thread count, set before anything random is built."""
    torch.manual_seed(config.seed)
    if config.torch_threads is not None:
        torch.set_num_threads(config.torch_threads)


def train_split(config: BenchConfig, data: MnistData) -> Split:
    return split_indices(len(data.train_labels), config.seed)


def train_loader(config: BenchConfig, data: MnistData, split: Split, *, endless: bool = False,
                 wrap_dataset=None):
    """The training batches for `config.loader` (eager pipelines only).

    endless=True is the benchmark form: persistent workers and full batches only, so that
    every round is the same amount of work.
    """
    device = torch.device(config.device)
    if config.loader == "dataloader":
        return make_dataloader(
            data.train_images, data.train_labels, split.train_indices, device=device,
            batch_size=config.batch_size, shuffle=True, num_workers=config.num_workers,
            pin_memory=config.pin_memory, non_blocking=config.non_blocking, seed=config.seed,
            persistent_workers=endless, drop_last=endless, wrap_dataset=wrap_dataset,
        )
    return ResidentLoader.from_host(
        data.train_images, data.train_labels, split.train_indices, device=device,
        batch_size=config.batch_size, shuffle=True, seed=config.seed, drop_last=endless,
    )


def val_loader(config: BenchConfig, data: MnistData, split: Split):
    """Validation batches (twice the training batch, as in the tutorial), in fixed order."""
    device = torch.device(config.device)
    batch_size = config.batch_size * 2
    if config.loader == "dataloader":
        return make_dataloader(
            data.train_images, data.train_labels, split.val_indices, device=device, batch_size=batch_size,
            shuffle=False, num_workers=config.num_workers, pin_memory=config.pin_memory,
            non_blocking=config.non_blocking, seed=config.seed,
        )
    return ResidentLoader.from_host(
        data.train_images, data.train_labels, split.val_indices, device=device,
        batch_size=batch_size, shuffle=False, seed=config.seed,
    )


def holdout_loader(config: BenchConfig, data: MnistData):
    """The held-out test split, resident (evaluation is not what is being benchmarked)."""
    indices = torch.arange(len(data.test_labels))
    return ResidentLoader.from_host(
        data.test_images, data.test_labels, indices, device=torch.device(config.device),
        batch_size=max(config.batch_size, 1024), shuffle=False, seed=config.seed,
    )


def endless(loader):
    """Epoch after epoch of `loader`, as one stream of batches."""
    while True:
        yield from loader
