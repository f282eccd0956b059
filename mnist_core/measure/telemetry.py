"""What the GPU was doing during a timed region: NVML samples, torch peak memory, PCIe ceiling.

No pynvml here: every NVML reading comes through NvmlGpu, which answers None
when it cannot read. A key with no readings is None, never 0.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from statistics import fmean
from typing import TYPE_CHECKING, Any

from mnist_core.units import BYTES_PER_MIB

if TYPE_CHECKING:
    import torch

    from mnist_core.measure.nvml import NvmlGpu

@dataclass(frozen=True)
class Telemetry:
    """What the device did during a row's timed rounds; every field None where it could not be read."""

    torch_peak_allocated_mib: float | None = None
    torch_peak_reserved_mib: float | None = None
    gpu_util_mean_pct: float | None = None
    gpu_util_max_pct: float | None = None
    gpu_mem_used_max_mib: float | None = None
    gpu_power_mean_w: float | None = None
    gpu_sm_clock_mean_mhz: float | None = None
    pcie_rx_mean_mb_s: float | None = None
    pcie_tx_mean_mb_s: float | None = None
    pcie_link_gen: int | None = None  # the link's maximum (what the GPU and slot can train to), as in machine_info
    pcie_link_width: int | None = None
    pcie_link_gen_seen_max: int | None = None  # the highest current link sampled: it trains down at idle
    pcie_link_width_seen_max: int | None = None
    telemetry_samples: int | None = None
    telemetry_window_s: float | None = None
    telemetry_untimed_rounds: int | None = None  # rounds added after the timed ones to fill MIN_TELEMETRY_WINDOW_S
    telemetry_errors: dict | None = None  # NVML query -> why it failed, for every reading null because of it

    @classmethod
    def from_readings(cls, readings: dict) -> Telemetry:
        return cls(**{key: readings.get(key) for key in TELEMETRY_KEYS})


TELEMETRY_KEYS = tuple(item.name for item in fields(Telemetry))

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
    "pcie_link_gen_seen_max": ("link_gen", max),
    "pcie_link_width_seen_max": ("link_width", max),
}

# NVML's utilisation counter is the busy fraction over its own window (1/6 s to 1 s depending
# on the GPU): a sampled region shorter than this reads mostly what came before it.
MIN_TELEMETRY_WINDOW_S = 1.0


def null_telemetry() -> dict[str, Any]:
    """Every telemetry key present and None: the row for a CPU run or a GPU NVML cannot read."""
    return dict.fromkeys(TELEMETRY_KEYS)


class NvmlSampler:
    """Samples one GPU on a daemon thread between start() and stop(), every `interval_s`.

    No sample is taken at start (it would read the idle time before the region); one is
    taken at stop, since NVML's counters then cover the region's end. A sample that takes
    long (NVML's PCIe counters block ~20 ms each) shortens the wait before the next.
    Inside paused() nothing is sampled and the thread only waits.
    """

    def __init__(self, gpu: NvmlGpu | None, interval_s: float = 0.05) -> None:
        self._gpu = gpu
        self.interval_s = interval_s
        self._readings: dict[str, list[float]] = {series: [] for series in _SERIES}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed = threading.Event()
        self._resumed.set()
        self._sampling = threading.Lock()  # held for a whole sample, so paused() can wait out one in flight
        self._started_at: float | None = None
        self._paused_s = 0.0
        self._link_max: dict[str, Any] = {"pcie_link_gen": None, "pcie_link_width": None}
        self.window_s: float | None = None
        self.sample_count = 0
        self.failures: dict[str, str] = {}  # reading -> why the wrapper itself failed (a bug, recorded)

    @property
    def active(self) -> bool:
        """False without a GPU NVML can read: nothing is sampled and the summary is all None."""
        return self._gpu is not None and bool(getattr(self._gpu, "available", False))

    def elapsed_s(self) -> float:
        """Seconds sampled since start(), paused time excluded; 0 when not sampling."""
        if self._started_at is None:
            return 0.0
        return time.perf_counter() - self._started_at - self._paused_s

    def start(self) -> NvmlSampler:
        if not self.active or self._thread is not None:
            return self
        self._stop.clear()
        self._link_max = {key: self._read(key) for key in self._link_max}  # fixed: read once, not sampled
        self._paused_s = 0.0
        self._started_at = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="nvml-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.sample()
        self.window_s = self.elapsed_s()
        self._started_at = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No samples inside the block (a sample in flight finishes first); its time is not sampled time."""
        start = time.perf_counter()
        try:
            self._resumed.clear()
            with self._sampling:
                pass
            yield
        finally:
            self._resumed.set()
            self._paused_s += time.perf_counter() - start

    def _run(self) -> None:
        next_at = time.perf_counter() + self.interval_s
        # Event.wait returns True as soon as stop() sets it, so stop never waits a full interval.
        while not self._stop.wait(max(0.0, next_at - time.perf_counter())):
            with self._sampling:
                if self._resumed.is_set():
                    self._take_sample()
            next_at = max(next_at + self.interval_s, time.perf_counter())

    def sample(self) -> None:
        """Take one reading of every series now; a reading that fails is left out."""
        with self._sampling:
            self._take_sample()

    def _take_sample(self) -> None:
        values: dict[str, float] = {}
        for series, method in _SERIES.items():
            value = self._read(method)
            if value is not None:
                values[series] = value
        with self._lock:
            for series, value in values.items():
                self._readings[series].append(value)
            self.sample_count += 1

    def summary(self) -> dict[str, Any]:
        """The gpu_*/pcie_* keys: means and maxes over the readings taken, and how many there were."""
        with self._lock:
            readings = {series: list(values) for series, values in self._readings.items()}
        result: dict[str, Any] = {}
        for key, (series, aggregate) in _SUMMARY.items():
            values = readings[series]
            result[key] = aggregate(values) if values else None
        result.update(self._link_max)
        result["telemetry_samples"] = self.sample_count if self.sample_count else None
        result["telemetry_window_s"] = self.window_s if self.sample_count else None
        recorded = getattr(self._gpu, "failures", None)  # NvmlGpu's failed queries (a stand-in may have none)
        errors = {**(recorded if isinstance(recorded, dict) else {}), **self.failures}
        result["telemetry_errors"] = errors or None
        return result

    def _read(self, method: str) -> Any:
        """One NvmlGpu reading, None if it fails. NvmlGpu records its own failed queries; a wrapper that
        raises anyway is a bug, recorded here rather than left to kill the sampler thread."""
        try:
            return getattr(self._gpu, method)()
        except Exception as exc:
            self.failures.setdefault(method, f"unexpected {type(exc).__name__}: {exc}")
            return None

    def __enter__(self) -> NvmlSampler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# torch is imported only by the functions that read its memory: the run files' rows (runs/rows.py) hold a
# Telemetry, and reading a run file must not load torch.
def _cuda_device(device: torch.device | str) -> torch.device | None:
    import torch

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
    import torch

    try:
        result["torch_peak_allocated_mib"] = torch.cuda.max_memory_allocated(cuda) / BYTES_PER_MIB
        result["torch_peak_reserved_mib"] = torch.cuda.max_memory_reserved(cuda) / BYTES_PER_MIB
    except Exception:  # no CUDA after all: unknown, not zero
        pass
    return result


def reset_torch_peak(device: torch.device | str) -> None:
    """Start a fresh peak so the next torch_memory_mib covers only the region that follows.

    The reserved peak restarts at what the cache holds now, so first free what earlier
    configurations left unreferenced and return the cached blocks to the driver.
    """
    cuda = _cuda_device(device)
    if cuda is None:
        return
    import torch

    gc.collect()
    try:
        torch.cuda.synchronize(cuda)
        torch.cuda.empty_cache()
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
