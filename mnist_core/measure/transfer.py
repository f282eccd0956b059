"""Host-to-device copies: pageable vs pinned source, blocking vs non_blocking, in GB/s."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mnist_core.core.devices import sync_fn
from mnist_core.measure.units import BYTES_PER_MIB

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
    if batch_size is not None:
        shape, label = batch_shape(batch_size), f"batch{batch_size}"
    else:
        shape, label = (block_mib * BYTES_PER_MIB // 4,), f"block{block_mib}MiB"
    source = torch.rand(shape)
    if pinned:
        source = source.pin_memory()
    nbytes = source.numel() * source.element_size()
    copies = max(1, math.ceil(MIN_BYTES_PER_ROUND / nbytes))
    return TransferWorkload(label, nbytes, pinned, non_blocking, copies, source, device)


def transfer_row(workload: TransferWorkload, round_seconds: list[float], pcie_gb_s: float | None) -> dict:
    from statistics import median

    rounds = [workload.bytes_per_round / s / 1e9 for s in round_seconds if s > 0]
    gb_s = median(rounds) if rounds else None
    return {
        "kind": "transfer",
        "device": str(workload.device.type),
        "transfer": workload.label,
        "bytes": workload.nbytes,
        "pin_memory": workload.pinned,
        "non_blocking": workload.non_blocking,
        "copies_per_round": workload.copies_per_round,
        "gb_s": gb_s,
        "gb_s_rounds": rounds,
        "us_per_copy": (workload.nbytes / (gb_s * 1e9) * 1e6) if gb_s else None,
        "pcie_theoretical_gb_s": pcie_gb_s,
        "pcie_fraction": (gb_s / pcie_gb_s) if gb_s and pcie_gb_s else None,
        "rounds": len(rounds),
    }
