"""What a host→device copy case is called in the run file, and how many bytes a block copy moves.

Shared by the copy timing (measure/transfer.py) and the tests that build rows; no torch here.
"""

from __future__ import annotations

from mnist_core.units import BYTES_PER_MIB


def transfer_name(batch_size: int | None = None, block_mib: int | None = None) -> str:
    """A copy's `transfer` field: batch128, block64MiB."""
    return f"batch{batch_size}" if batch_size is not None else f"block{block_mib}MiB"


def block_bytes(block_mib: int) -> int:
    return block_mib * BYTES_PER_MIB
