"""What the GPU was doing during a timed region: NVML samples, torch peak memory, PCIe ceiling.

No pynvml here: every NVML reading comes through NvmlGpu, which answers None
when it cannot read. A key with no readings is None, never 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from statistics import fmean
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from .nvml import NvmlGpu

TELEMETRY_KEYS = (
    "torch_peak_allocated_mib",
    "torch_peak_reserved_mib",
    "gpu_util_mean_pct",
    "gpu_util_max_pct",
    "gpu_mem_used_max_mib",
    "gpu_power_mean_w",
    "gpu_sm_clock_mean_mhz",
    "pcie_rx_mean_mb_s",
    "pcie_tx_mean_mb_s",
    "pcie_link_gen",
    "pcie_link_width",
)

_BYTES_PER_MIB = 1024 * 1024

# Per-lane, per-direction payload rate in GB/s (10^9 bytes) after line encoding:
# gen1/gen2 use 8b/10b (2.5 and 5 GT/s lose 20%), gen3-gen5 128b/130b (8, 16,
# 32 GT/s lose ~1.5%), gen6 PAM4 FLIT mode carries 242 of 256 bytes (64 GT/s).
# Packet headers cost a further ~10-20%, so measured copies stay below this.
_PCIE_LANE_GB_S = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}

# Sampled series -> the NvmlGpu method that reads one value of it.
_SERIES = {
    "util_pct": "utilization_pct",
    "mem_used_mib": "memory_used_mib",
    "power_w": "power_w",
    "sm_clock_mhz": "sm_clock_mhz",
    "pcie_rx_mb_s": "pcie_rx_mb_s",
    "pcie_tx_mb_s": "pcie_tx_mb_s",
    # The link trains down at idle, so the current gen/width is sampled and the
    # highest seen is what the region's copies ran at.
    "link_gen": "pcie_link_gen_current",
    "link_width": "pcie_link_width_current",
}

# Summary key -> (series, aggregate).
_SUMMARY: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    "gpu_util_mean_pct": ("util_pct", fmean),
    "gpu_util_max_pct": ("util_pct", max),
    "gpu_mem_used_max_mib": ("mem_used_mib", max),
    "gpu_power_mean_w": ("power_w", fmean),
    "gpu_sm_clock_mean_mhz": ("sm_clock_mhz", fmean),
    "pcie_rx_mean_mb_s": ("pcie_rx_mb_s", fmean),
    "pcie_tx_mean_mb_s": ("pcie_tx_mb_s", fmean),
    "pcie_link_gen": ("link_gen", max),
    "pcie_link_width": ("link_width", max),
}


def null_telemetry() -> dict[str, Any]:
    """Every telemetry key present and None: the row for a CPU run or a GPU NVML cannot read."""
    return dict.fromkeys(TELEMETRY_KEYS)


class NvmlSampler:
    """Samples one GPU on a daemon thread between start() and stop().

    A sample is also taken at start and at stop, so a region shorter than
    `interval_s` still gets readings. Note NVML's PCIe counter itself blocks for
    ~20 ms per direction, which sets a floor on the real sampling period.
    """

    def __init__(self, gpu: NvmlGpu | None, interval_s: float = 0.05) -> None:
        self._gpu = gpu
        self.interval_s = interval_s
        self._readings: dict[str, list[float]] = {series: [] for series in _SERIES}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sample_count = 0

    @property
    def active(self) -> bool:
        """False without a GPU NVML can read: nothing is sampled and the summary is all None."""
        return self._gpu is not None and bool(getattr(self._gpu, "available", False))

    def start(self) -> NvmlSampler:
        if not self.active or self._thread is not None:
            return self
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="nvml-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._sample()

    def _run(self) -> None:
        # Event.wait returns True as soon as stop() sets it, so stop never waits a full interval.
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        values: dict[str, float] = {}
        for series, method in _SERIES.items():
            try:  # NvmlGpu never raises, but a thread that dies would silently stop sampling
                value = getattr(self._gpu, method)()
            except Exception:
                value = None
            if value is not None:
                values[series] = value
        with self._lock:
            for series, value in values.items():
                self._readings[series].append(value)
            self.sample_count += 1

    def summary(self) -> dict[str, Any]:
        """The gpu_*/pcie_* keys: means and maxes over the readings that were taken."""
        with self._lock:
            readings = {series: list(values) for series, values in self._readings.items()}
        result: dict[str, Any] = {}
        for key, (series, aggregate) in _SUMMARY.items():
            values = readings[series]
            result[key] = aggregate(values) if values else None
        return result

    def __enter__(self) -> NvmlSampler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _cuda_device(device: torch.device | str) -> torch.device | None:
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        return None
    return device if device.type == "cuda" else None


def torch_memory_mib(device: torch.device | str) -> dict[str, float | None]:
    """Peak memory torch's caching allocator handed out / held since the last reset (cuda only)."""
    result: dict[str, float | None] = {
        "torch_peak_allocated_mib": None,
        "torch_peak_reserved_mib": None,
    }
    cuda = _cuda_device(device)
    if cuda is None:
        return result
    try:
        result["torch_peak_allocated_mib"] = torch.cuda.max_memory_allocated(cuda) / _BYTES_PER_MIB
        result["torch_peak_reserved_mib"] = torch.cuda.max_memory_reserved(cuda) / _BYTES_PER_MIB
    except Exception:  # no CUDA after all: unknown, not zero
        pass
    return result


def reset_torch_peak(device: torch.device | str) -> None:
    """Start a fresh peak so the next torch_memory_mib covers only the region that follows."""
    cuda = _cuda_device(device)
    if cuda is None:
        return
    try:
        torch.cuda.reset_peak_memory_stats(cuda)
    except Exception:
        pass


def pcie_theoretical_gb_s(gen: int | None, width: int | None) -> float | None:
    """Per-direction link ceiling in GB/s (10^9 bytes), e.g. gen5 x16 ~ 63.0, gen3 x16 ~ 15.8."""
    if gen is None or width is None:
        return None
    per_lane = _PCIE_LANE_GB_S.get(gen)
    if per_lane is None or width <= 0:
        return None
    return per_lane * width
