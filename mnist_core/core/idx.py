"""Reader for the IDX files MNIST and Fashion-MNIST ship in (raw or .gz), with validation."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from mnist_core.errors import DatasetError

IMAGES_MAGIC = 2051  # unsigned byte, 3 dimensions
LABELS_MAGIC = 2049  # unsigned byte, 1 dimension
IMAGE_SIDE = 28
NUM_CLASSES = 10


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(
            f"{path}: cannot read ({exc}); the file is damaged: delete it and download or reinstall the dataset"
        ) from None


def _header(data: bytes, path: Path, expected_magic: int, dims: int) -> list[int]:
    header_len = 4 + 4 * dims
    if len(data) < header_len:
        raise DatasetError(f"{path}: truncated IDX header ({len(data)} bytes); re-download the dataset")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DatasetError(
            f"{path}: wrong magic number {magic} (expected {expected_magic}); "
            "this is not an MNIST-format IDX file of that kind: check the path"
        )
    return [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]


def read_idx_images(path: str | Path) -> torch.Tensor:
    """Images as a uint8 tensor [N, 28, 28]."""
    path = Path(path)
    data = _read_bytes(path)
    count, rows, cols = _header(data, path, IMAGES_MAGIC, 3)
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
        raise DatasetError(f"{path}: images are {rows}x{cols}, expected 28x28; check the path")
    body = memoryview(data)[16:]
    expected = count * rows * cols
    if len(body) != expected:
        raise DatasetError(
            f"{path}: truncated or padded: {len(body)} bytes of pixels for {count} images "
            f"(expected {expected}); re-download the dataset"
        )
    array = np.frombuffer(body, dtype=np.uint8).reshape(count, rows, cols)
    return torch.from_numpy(array.copy())


def read_idx_labels(path: str | Path) -> torch.Tensor:
    """Labels as an int64 tensor [N], each in 0..9."""
    path = Path(path)
    data = _read_bytes(path)
    (count,) = _header(data, path, LABELS_MAGIC, 1)
    body = memoryview(data)[8:]
    if len(body) != count:
        raise DatasetError(
            f"{path}: truncated or padded: {len(body)} labels for a header of {count}; re-download the dataset"
        )
    labels = np.frombuffer(body, dtype=np.uint8)
    if count and int(labels.max()) >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise DatasetError(
            f"{path}: label {int(labels[bad])} at index {bad} is out of range 0-9; the file is corrupt: re-download it"
        )
    return torch.from_numpy(labels.astype(np.int64))


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels; "
            "the files come from different splits or datasets: re-download the dataset"
        )
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
