"""The synthetic set: 60,000 + 10,000 MNIST-shaped images (28x28 uint8, labels 0-9), made here.

For machines with no dataset at all (offline, nothing installed): throughput depends on the shape of
the data, not on what the pixels show, so its training and loading rows measure the same work as
MNIST's. It is not handwriting: each image is its class's blurred template plus per-pixel noise.

Deterministic on every machine and library version: the pixels come from splitmix64, a fixed integer
hash computed with numpy's wrapping uint64 arithmetic, not from a random-number library whose streams
may change between releases (`synthetic_digest` pins the result in the tests).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

TRAIN_SIZE, TEST_SIZE, SIDE, CLASSES = 60_000, 10_000, 28, 10
CHUNK = 5_000
TEST_OFFSET = 1 << 32  # test images hash other indices than training images
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijective, well-mixed hash of each uint64."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _templates() -> np.ndarray:
    """One smooth 28x28 pattern per class in [0, 1]: hashed coarse 7x7 grids, upsampled by 4."""
    coarse = _splitmix64(np.arange(CLASSES * 49, dtype=np.uint64) + np.uint64(7)) >> np.uint64(56)
    coarse = coarse.reshape(CLASSES, 7, 7).astype(np.float32) / 255.0
    return np.kron(coarse, np.ones((4, 4), dtype=np.float32))


def _split(first_index: int, count: int, templates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(first_index, first_index + count, dtype=np.uint64)
    labels = (_splitmix64(index) % np.uint64(CLASSES)).astype(np.int64)
    images = np.empty((count, SIDE, SIDE), dtype=np.uint8)
    pixels = np.arange(SIDE * SIDE, dtype=np.uint64)[None, :]
    for start in range(0, count, CHUNK):  # in chunks: the uint64 keys of all pixels at once would be ~400 MB
        keys = (index[start:start + CHUNK, None] << np.uint64(10)) + pixels
        noise = (_splitmix64(keys) >> np.uint64(56)).astype(np.float32).reshape(-1, SIDE, SIDE)
        images[start:start + CHUNK] = 0.7 * 255.0 * templates[labels[start:start + CHUNK]] + 0.3 * noise
    return images, labels


def synthetic_splits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels), as the IDX reader returns them."""
    import torch  # here, not at the top: `info` reads the sizes above and must not load torch

    templates = _templates()
    train_images, train_labels = _split(0, TRAIN_SIZE, templates)
    test_images, test_labels = _split(TEST_OFFSET, TEST_SIZE, templates)
    return (torch.from_numpy(train_images), torch.from_numpy(train_labels), torch.from_numpy(test_images),
            torch.from_numpy(test_labels))


def synthetic_digest() -> str:
    """sha256 of every byte of the set: equal on every machine that generates it."""
    digest = hashlib.sha256()
    for tensor in synthetic_splits():
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()
