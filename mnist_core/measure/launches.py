"""How close a CUDA step is to the launch floor: kernels per step, and what a kernel costs when replayed.

At batch 128 the MLP's step is nanoseconds of GPU arithmetic; its time is set by how many kernels run and
how fast they can be dispatched. `kernels_per_step` counts the CUDA kernels torch's profiler sees over a
few steps of a workload; `replayed_kernel_us` times a CUDA graph of trivial kernels, the cost of one
kernel when nothing else limits it. Their product is the floor a graph-replayed step can approach.
Both run outside the timed rounds; either is None when it cannot be measured (no GPU, profiler error).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

PROFILED_CALLS = 4
FLOOR_KERNELS = 256
FLOOR_REPLAYS = 20


def kernels_per_step(step: Callable[[], object], steps_per_call: int, sync: Callable[[], None]) -> float | None:
    """CUDA kernels per training step of `step` (which runs `steps_per_call` steps), from torch's profiler."""
    try:
        from torch.profiler import ProfilerActivity, profile

        sync()
        with profile(activities=[ProfilerActivity.CUDA]) as profiled:
            for _ in range(PROFILED_CALLS):
                step()
            sync()
        kernels = sum(1 for event in profiled.events() if getattr(event, "device_type", None) is not None
                      and str(event.device_type).endswith("CUDA"))
    except (RuntimeError, AssertionError):  # a profiler that cannot attach to this GPU or driver
        return None
    return kernels / (PROFILED_CALLS * steps_per_call) if kernels else None


def replayed_kernel_us(device: torch.device) -> float | None:
    """Microseconds per kernel of a replayed CUDA graph of FLOOR_KERNELS trivial kernels."""
    if torch.device(device).type != "cuda":
        return None
    try:
        value = torch.zeros(1, device=device)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            value.add_(1)
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            for _ in range(FLOOR_KERNELS):
                value.add_(1)
        graph.replay()
        torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(FLOOR_REPLAYS):
            graph.replay()
        torch.cuda.synchronize(device)
        return (time.perf_counter() - start) / (FLOOR_REPLAYS * FLOOR_KERNELS) * 1e6
    except RuntimeError:
        return None
