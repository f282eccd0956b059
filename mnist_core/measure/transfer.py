"""Host-to-device copies: pageable vs pinned source, blocking vs non_blocking, in GB/s."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from mnist_core.core.devices import sync_fn
from mnist_core.measure.copy_sizes import block_bytes, transfer_name
from mnist_core.units import BYTES_PER_MIB

BYTES_PER_SAMPLE = 1 * 28 * 28 * 4  # one float32 MNIST image, as ToTensor makes it
MIN_BYTES_PER_ROUND = 256 * BYTES_PER_MIB  # enough copies that a round is not just launch latency


@dataclass
class TransferWorkload:
    label: str
    nbytes: int
    pinned: bool
    non_blocking: bool
    copies_per_round: int
    source: torch.Tensor
    device: torch.device

    def run_round(self) -> None:
        for _ in range(self.copies_per_round):
            self.source.to(self.device, non_blocking=self.non_blocking)
        self._sync()

    def timed_round(self) -> float:
        """One round's seconds, from its first copy to the sync after its last."""
        self._sync()
        start = time.perf_counter()
        self.run_round()
        return time.perf_counter() - start

    def __post_init__(self):
        self._sync = sync_fn(self.device)

    @property
    def bytes_per_round(self) -> int:
        return self.nbytes * self.copies_per_round


def batch_shape(batch_size: int) -> tuple[int, ...]:
    return (batch_size, 1, 28, 28)


def build_transfer(device: str, *, pinned: bool, non_blocking: bool, batch_size: int | None = None,
                   block_mib: int | None = None) -> TransferWorkload:
    """One batch of `batch_size` images, or a block of `block_mib` MiB, copied host -> `device`."""
    if (batch_size is None) == (block_mib is None):
        raise ValueError("give exactly one of batch_size or block_mib")
    device = torch.device(device)
    label = transfer_name(batch_size, block_mib)
    shape = batch_shape(batch_size) if batch_size is not None else (block_bytes(block_mib) // 4,)
    source = torch.rand(shape)
    if pinned:
        source = source.pin_memory()
    nbytes = source.numel() * source.element_size()
    copies = max(1, math.ceil(MIN_BYTES_PER_ROUND / nbytes))
    return TransferWorkload(label, nbytes, pinned, non_blocking, copies, source, device)
