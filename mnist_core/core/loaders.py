"""The two input pipelines over the same train/validation split.

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

from mnist_core.core.devices import to_device

VALIDATION_SIZE = 10_000  # the tutorial's random_split(dataset, [50000, 10000])


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
    if not 0 < val_size < num_samples:
        val_size = max(1, num_samples // 6)
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
    seed: int, persistent_workers: bool = False, drop_last: bool = False, wrap_dataset=None,
) -> DeviceDataLoader:
    subset = Subset(MnistImages(images, labels), indices.tolist())
    if wrap_dataset is not None:
        subset = wrap_dataset(subset)
    loader = DataLoader(
        subset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
        pin_memory=pin_memory and device.type == "cuda",
        persistent_workers=persistent_workers and num_workers > 0, drop_last=drop_last,
        generator=torch.Generator().manual_seed(seed),
    )
    return DeviceDataLoader(loader, device, non_blocking)


class ResidentLoader:
    """Batches gathered on the device from a uint8 copy of the split; a new permutation each epoch."""

    def __init__(self, images_u8: torch.Tensor, labels: torch.Tensor, *, batch_size: int, shuffle: bool, seed: int,
                 drop_last: bool = False):
        self.images_u8 = images_u8
        self.drop_last = drop_last
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = images_u8.device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

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

    def order(self) -> torch.Tensor:
        n = len(self.labels)
        if self.shuffle:
            return torch.randperm(n, device=self.device, generator=self.generator)
        return torch.arange(n, device=self.device)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order()
        for step in range(len(self)):  # host-side arithmetic: no sync
            start = step * self.batch_size
            index = order[start:start + self.batch_size]
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
