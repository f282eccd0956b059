"""The two input pipelines over the same train/validation split, and the pipelines a config names.

dataloader: the tutorial's path: a Dataset converting each sample with ToTensor, random_split,
            DataLoader, and a DeviceDataLoader moving every batch to the device.
resident:   the split held once on the device as uint8, normalised there, batches drawn
            from a device-side permutation; no DataLoader and no host sync per step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Subset, random_split
from torchvision.transforms import ToTensor

from mnist_core.core.config import VALIDATION_SIZE, BenchConfig, validation_size
from mnist_core.core.data import MnistData
from mnist_core.core.devices import to_device



def normalise_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28] in [0, 1], exactly what ToTensor computes."""
    return images.unsqueeze(1).float().div_(255)


class MnistImages(Dataset):
    """Per-sample access like torchvision's MNIST: PIL image -> ToTensor, label as int."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images = images
        self.labels = labels
        self.to_tensor = ToTensor()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = Image.fromarray(self.images[index].numpy())  # 2-D uint8 -> mode "L"
        return self.to_tensor(image), int(self.labels[index])


@dataclass(frozen=True)
class Split:
    train_indices: torch.Tensor  # int64 indices into the training files
    val_indices: torch.Tensor


def split_indices(num_samples: int, seed: int, val_size: int = VALIDATION_SIZE) -> Split:
    """The tutorial's random_split, seeded, as index tensors shared by both pipelines."""
    val_size = validation_size(num_samples, val_size)
    generator = torch.Generator().manual_seed(seed)
    train, val = random_split(range(num_samples), [num_samples - val_size, val_size], generator=generator)
    return Split(torch.tensor(train.indices, dtype=torch.int64), torch.tensor(val.indices, dtype=torch.int64))


class DeviceDataLoader:
    """Wraps a DataLoader and moves each batch to `device` (the tutorial's helper)."""

    def __init__(self, loader: DataLoader, device: torch.device, non_blocking: bool):
        self.loader = loader
        self.device = device
        self.non_blocking = non_blocking

    def __iter__(self) -> Iterator:
        for batch in self.loader:
            yield to_device(batch, self.device, self.non_blocking)

    def __len__(self) -> int:
        return len(self.loader)


def make_dataloader(
    images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor, *, device: torch.device,
    batch_size: int, shuffle: bool, num_workers: int, pin_memory: bool, non_blocking: bool,
    seed: int, persistent_workers: bool = False, drop_last: bool = False,
) -> DeviceDataLoader:
    """The tutorial's DataLoader: the one place its keyword arguments are built."""
    loader = DataLoader(
        Subset(MnistImages(images, labels), indices.tolist()), batch_size=batch_size, shuffle=shuffle,
        num_workers=num_workers, pin_memory=pin_memory and device.type == "cuda",
        persistent_workers=persistent_workers and num_workers > 0, drop_last=drop_last,
        generator=torch.Generator().manual_seed(seed),
    )
    return DeviceDataLoader(loader, device, non_blocking)


class DeviceOrder:
    """The sample order of each epoch, drawn on the device: a new permutation per epoch, or the identity."""

    def __init__(self, size: int, device: torch.device, *, shuffle: bool, seed: int):
        self.size = size
        self.device = torch.device(device)
        self.shuffle = shuffle
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def epoch(self) -> torch.Tensor:
        if self.shuffle:
            return torch.randperm(self.size, device=self.device, generator=self.generator)
        return torch.arange(self.size, device=self.device)


class ResidentLoader:
    """Batches gathered on the device from a uint8 copy of the split; a new permutation each epoch."""

    def __init__(self, images_u8: torch.Tensor, labels: torch.Tensor, *, batch_size: int, shuffle: bool, seed: int,
                 drop_last: bool = False):
        self.images_u8 = images_u8
        self.labels = labels
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.order = DeviceOrder(len(labels), images_u8.device, shuffle=shuffle, seed=seed)

    @classmethod
    def from_host(cls, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor, *, device: torch.device,
                  batch_size: int, shuffle: bool, seed: int, drop_last: bool = False) -> ResidentLoader:
        images_u8 = images[indices].contiguous().to(device)
        return cls(images_u8, labels[indices].to(device), batch_size=batch_size, shuffle=shuffle, seed=seed,
                   drop_last=drop_last)

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.labels) // self.batch_size
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order.epoch()
        for step in range(len(self)):  # host-side arithmetic: no sync
            index = order[step * self.batch_size:(step + 1) * self.batch_size]
            yield normalise_uint8(self.images_u8[index]), self.labels[index]

    @property
    def dataset_bytes(self) -> int:
        return self.images_u8.numel() * self.images_u8.element_size()


def close_loader(loader) -> None:
    """Stop a DataLoader's persistent workers now rather than whenever it is garbage-collected."""
    inner = getattr(loader, "loader", loader)
    iterator = getattr(inner, "_iterator", None)
    if iterator is not None and hasattr(iterator, "_shutdown_workers"):
        iterator._shutdown_workers()
        inner._iterator = None


@dataclass(frozen=True)
class WorkerQueue:
    """A DataLoader's persistent workers at one moment: the batches they finished that the main process has not
    taken, and the batches they were asked for (at most prefetch_factor x workers; fewer near an epoch's end)."""

    finished: int
    asked: int


def worker_queue(loader) -> WorkerQueue | None:
    """The queue of `loader`'s persistent workers; None when there is none (no workers, no iterator yet) or
    this torch keeps it where it cannot be read."""
    inner = getattr(loader, "loader", loader)
    iterator = getattr(inner, "_iterator", None)
    # torch's _task_info: a (worker,) entry per batch asked for and not yet yielded, (worker, data) once its data
    # arrived out of order and is held back; the others' data waits in _data_queue when finished
    queue, tasks = getattr(iterator, "_data_queue", None), getattr(iterator, "_task_info", None)
    if queue is None or not isinstance(tasks, dict):
        return None
    try:
        waiting = queue.qsize()
    except NotImplementedError:  # multiprocessing queues on macOS
        return None
    held = sum(1 for info in tasks.values() if len(info) == 2)
    return WorkerQueue(waiting + held, len(tasks))


# the pipelines a config names ---------------------------------------------------------------------
def prepare_torch(config: BenchConfig) -> None:
    """Seed and thread count, set before anything random is built."""
    torch.manual_seed(config.seed)
    if config.torch_threads is not None:
        torch.set_num_threads(config.torch_threads)


def train_split(config: BenchConfig, data: MnistData) -> Split:
    return split_indices(len(data.train_labels), config.seed)


def train_loader(config: BenchConfig, data: MnistData, split: Split, *, endless: bool = False):
    """The training batches for `config.loader` (the eager pipelines).

    endless=True is the benchmark form: persistent workers and full batches only, so that
    every round is the same amount of work.
    """
    return _loader(config, data, split.train_indices, config.batch_size, shuffle=True, persistent=endless,
                   drop_last=endless)


def val_loader(config: BenchConfig, data: MnistData, split: Split):
    """Validation batches (twice the training batch, as in the tutorial), in fixed order."""
    return _loader(config, data, split.val_indices, config.batch_size * 2, shuffle=False)


def _loader(config: BenchConfig, data: MnistData, indices: torch.Tensor, batch_size: int, *, shuffle: bool,
            persistent: bool = False, drop_last: bool = False):
    device = torch.device(config.device)
    if config.pipeline.dataloader:
        return make_dataloader(data.train_images, data.train_labels, indices, device=device, batch_size=batch_size,
                               shuffle=shuffle, num_workers=config.num_workers, pin_memory=config.pin_memory,
                               non_blocking=config.non_blocking, seed=config.seed, persistent_workers=persistent,
                               drop_last=drop_last)
    return ResidentLoader.from_host(data.train_images, data.train_labels, indices, device=device,
                                    batch_size=batch_size, shuffle=shuffle, seed=config.seed, drop_last=drop_last)


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
