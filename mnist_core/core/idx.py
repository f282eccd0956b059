"""Tensors from and to the IDX files MNIST and Fashion-MNIST ship in (raw or .gz), checked by `idx_format`."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from mnist_core.core.idx_format import (IMAGE_SIDE, IMAGES_HEADER, IMAGES_MAGIC, LABELS_MAGIC, check_same_count,
                                        image_count, read_bytes, read_labels)


def read_idx_images(path: str | Path) -> torch.Tensor:
    """Images as a uint8 tensor [N, 28, 28]."""
    path = Path(path)
    data = read_bytes(path)
    count = image_count(path, data, len(data))
    array = np.frombuffer(memoryview(data)[IMAGES_HEADER:], dtype=np.uint8).reshape(count, IMAGE_SIDE, IMAGE_SIDE)
    return torch.from_numpy(array.copy())


def read_idx_labels(path: str | Path) -> torch.Tensor:
    """Labels as an int64 tensor [N], each in 0..9."""
    return torch.from_numpy(read_labels(path).astype(np.int64))


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    check_same_count(images_path, len(images), labels_path, len(labels))
    return images, labels


def write_idx_images(path: str | Path, images: torch.Tensor) -> None:
    """Write uint8 images [N, 28, 28] in IDX format (raw, or gzip when the name ends in .gz)."""
    array = images.to(torch.uint8).numpy()
    header = b"".join(v.to_bytes(4, "big") for v in (IMAGES_MAGIC, *array.shape))
    _write(Path(path), header + array.tobytes())


def write_idx_labels(path: str | Path, labels: torch.Tensor) -> None:
    array = labels.to(torch.uint8).numpy()
    header = LABELS_MAGIC.to_bytes(4, "big") + len(array).to_bytes(4, "big")
    _write(Path(path), header + array.tobytes())


def _write(path: Path, payload: bytes) -> None:
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
