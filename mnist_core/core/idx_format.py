"""The IDX format MNIST and Fashion-MNIST ship in (raw or .gz) and its checks, without torch: `info` validates a
dataset with these, and the tensor reader (`idx.py`) builds on them."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mnist_core.errors import DatasetError

IMAGES_MAGIC = 2051  # unsigned byte, 3 dimensions
LABELS_MAGIC = 2049  # unsigned byte, 1 dimension
IMAGES_HEADER = 16
LABELS_HEADER = 8
IMAGE_SIDE = 28
NUM_CLASSES = 10
CHUNK = 1 << 20


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed if .gz; a file that cannot be read is a DatasetError."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
            yield handle
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(
            f"{path}: cannot read ({exc}); the file is damaged: delete it and download or reinstall the dataset"
        ) from None


def read_bytes(path: Path) -> bytes:
    with _opened(path) as handle:
        return handle.read()


def _head_and_size(path: Path, head_len: int) -> tuple[bytes, int]:
    """The first `head_len` bytes and the length of the whole, without holding the whole (a .gz is read
    through, which also checks its CRC)."""
    with _opened(path) as handle:
        head = handle.read(head_len)
        if path.suffix != ".gz":
            return head, path.stat().st_size
        size = len(head)
        while chunk := handle.read(CHUNK):
            size += len(chunk)
        return head, size


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


def image_count(path: Path, head: bytes, size: int) -> int:
    """The images an IDX file of `size` bytes starting with `head` holds; DatasetError unless they are all
    there and 28x28."""
    count, rows, cols = _header(head, path, IMAGES_MAGIC, 3)
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
        raise DatasetError(f"{path}: images are {rows}x{cols}, expected 28x28; check the path")
    pixels, expected = size - IMAGES_HEADER, count * rows * cols
    if pixels != expected:
        raise DatasetError(
            f"{path}: truncated or padded: {pixels} bytes of pixels for {count} images "
            f"(expected {expected}); re-download the dataset"
        )
    return count


def checked_image_count(path: str | Path) -> int:
    """image_count of a file, read through but not held."""
    path = Path(path)
    return image_count(path, *_head_and_size(path, IMAGES_HEADER))


def read_labels(path: str | Path) -> np.ndarray:
    """Labels as uint8 [N], each checked to be in 0..9."""
    path = Path(path)
    data = read_bytes(path)
    (count,) = _header(data, path, LABELS_MAGIC, 1)
    body = memoryview(data)[LABELS_HEADER:]
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
    return labels


def check_same_count(images_path: str | Path, images: int, labels_path: str | Path, labels: int) -> None:
    if images != labels:
        raise DatasetError(
            f"{images_path} has {images} images but {labels_path} has {labels} labels; "
            "the files come from different splits or datasets: re-download the dataset"
        )


def checked_pair_size(images_path: str | Path, labels_path: str | Path) -> int:
    """How many examples an images file and its labels file hold, both checked as the reader checks them, but
    the images are not kept."""
    images = checked_image_count(images_path)
    labels = len(read_labels(labels_path))
    check_same_count(images_path, images, labels_path, labels)
    return images
