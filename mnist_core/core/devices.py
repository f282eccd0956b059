"""Device selection, moving data, and the one device sync every timed region ends with."""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import torch


def cuda_available() -> bool:
    return torch.cuda.is_available()


def get_default_device() -> torch.device:
    """The GPU when there is one, else the CPU (the tutorial's fallback)."""
    return torch.device("cuda" if cuda_available() else "cpu")


def to_device(data: Any, device: torch.device | str, non_blocking: bool = False) -> Any:
    """Move a tensor, or lists/tuples/dicts of tensors, to `device`."""
    if isinstance(data, torch.Tensor):
        return data.to(device, non_blocking=non_blocking)
    if isinstance(data, Mapping):
        return {key: to_device(value, device, non_blocking) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        moved = [to_device(item, device, non_blocking) for item in data]
        return type(data)(moved) if isinstance(data, list) else tuple(moved)
    return data


def cuda_context_seconds(device_index: int = 0) -> float | None:
    """Start CUDA (driver, runtime, context) now and return how long that took: paid once per process.

    None without a GPU, when CUDA fails to start (the CUDA rows then fail with their own reasons),
    or when something in this process already started it (the time is then unknown).
    """
    if torch.cuda.is_initialized():
        return None
    start = time.perf_counter()
    try:
        if not cuda_available():
            return None
        torch.cuda.init()
        torch.empty(1, device=f"cuda:{device_index}")
        torch.cuda.synchronize(device_index)
    except Exception:
        return None
    return time.perf_counter() - start


def _no_sync() -> None:
    return None


def sync_fn(device: torch.device | str):
    """The sync for `device`, chosen once: CUDA waits for queued kernels, CPU does nothing."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return lambda: torch.cuda.synchronize(index)
    return _no_sync


def sync(device: torch.device | str) -> None:
    sync_fn(device)()


@contextmanager
def release_on_failure(device: torch.device | str):
    """If the block fails, drop what its finished frames still hold and return cached device memory.

    A failing configuration's traceback (kept by the test runner for its report) would otherwise
    keep that configuration's tensors alive, so a CUDA out-of-memory error at one batch size
    would starve every configuration after it.
    """
    try:
        yield
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        if torch.device(device).type == "cuda" and torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise
