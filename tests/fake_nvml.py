"""A stand-in for the pynvml module: same attribute names, scripted values, no GPU needed."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

# Same values as the real pynvml, so code that passes them through behaves alike.
NVML_CLOCK_SM = 1
NVML_PCIE_UTIL_TX_BYTES = 0
NVML_PCIE_UTIL_RX_BYTES = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_LIBRARY_NOT_FOUND = 12

MIB = 1024 * 1024


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 12: "NVML Shared Library Not Found"}.get(self.value, "Unknown")


class FakeNvml:
    """Module-like: pass as `lib=`. Each reading cycles through its scripted values.

    `failing` names nvml functions that raise NVMLError(NOT_SUPPORTED);
    `init_fails` makes nvmlInit raise LIBRARY_NOT_FOUND as on a CPU-only machine.
    """

    NVMLError = NVMLError
    NVML_CLOCK_SM = NVML_CLOCK_SM
    NVML_PCIE_UTIL_TX_BYTES = NVML_PCIE_UTIL_TX_BYTES
    NVML_PCIE_UTIL_RX_BYTES = NVML_PCIE_UTIL_RX_BYTES

    def __init__(
        self,
        *,
        util_pct: Iterable[int] = (10, 30),
        mem_used_bytes: Iterable[int] = (512 * MIB, 1024 * MIB),
        power_mw: Iterable[int] = (100_000, 200_000),
        sm_clock_mhz: Iterable[int] = (1500, 1700),
        rx_kb_s: Iterable[int] = (2000, 4000),
        tx_kb_s: Iterable[int] = (1000, 3000),
        uuids: tuple[str, ...] = ("GPU-11111111-2222-3333-4444-555555555555",),
        failing: Iterable[str] = (),
        init_fails: bool = False,
        bytes_strings: bool = False,
        event_reasons: int = 0,
    ) -> None:
        self.event_reasons = event_reasons
        self._series = {
            "util": list(util_pct),
            "mem": list(mem_used_bytes),
            "power": list(power_mw),
            "sm": list(sm_clock_mhz),
            "rx": list(rx_kb_s),
            "tx": list(tx_kb_s),
        }
        self.uuids = uuids
        self.failing = set(failing)
        self.init_fails = init_fails
        self.bytes_strings = bytes_strings
        self.calls: dict[str, int] = {}
        self.init_count = 0
        self.shutdown_count = 0
        self._lock = threading.Lock()
        # Set once the sampler has read utilization this many times.
        self.util_reads_target = 0
        self.util_reads_reached = threading.Event()

    # -- plumbing -------------------------------------------------------------

    def _enter(self, fn_name: str, counter: str | None = None) -> int:
        """Count the call (per `counter`, default the function) and fail it if scripted to."""
        key = counter or fn_name
        with self._lock:
            count = self.calls.get(key, 0)
            self.calls[key] = count + 1
        if fn_name in self.failing:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return count

    def _next(self, fn_name: str, series: str) -> int:
        """The series' values in order, cycling; rx and tx count separately."""
        values = self._series[series]
        return values[self._enter(fn_name, counter=f"{fn_name}:{series}") % len(values)]

    def _str(self, text: str) -> str | bytes:
        return text.encode() if self.bytes_strings else text

    def _check_handle(self, handle: Any) -> None:
        if not isinstance(handle, SimpleNamespace):
            raise NVMLError(2)

    # -- pynvml API -----------------------------------------------------------

    def nvmlInit(self) -> None:
        self.init_count += 1
        if self.init_fails:
            raise NVMLError(NVML_ERROR_LIBRARY_NOT_FOUND)

    def nvmlShutdown(self) -> None:
        self.shutdown_count += 1

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        self._enter("nvmlSystemGetDriverVersion")
        return self._str("550.54.15")

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion")
        return 12040

    def nvmlDeviceGetCount(self) -> int:
        return len(self.uuids)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> SimpleNamespace:
        self._enter("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.uuids):
            raise NVMLError(2)
        return SimpleNamespace(index=index)

    def nvmlDeviceGetHandleByUUID(self, uuid: str | bytes) -> SimpleNamespace:
        self._enter("nvmlDeviceGetHandleByUUID")
        text = uuid.decode() if isinstance(uuid, bytes) else uuid
        if text not in self.uuids:
            raise NVMLError(6)  # NOT_FOUND
        return SimpleNamespace(index=self.uuids.index(text))

    def nvmlDeviceGetUUID(self, handle: SimpleNamespace) -> str | bytes:
        self._check_handle(handle)
        return self._str(self.uuids[handle.index])

    def nvmlDeviceGetName(self, handle: SimpleNamespace) -> str | bytes:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetName")
        return self._str(f"Fake GPU {handle.index}")

    def nvmlDeviceGetMemoryInfo(self, handle: SimpleNamespace) -> SimpleNamespace:
        self._check_handle(handle)
        used = self._next("nvmlDeviceGetMemoryInfo", "mem")
        total = 80 * 1024 * MIB
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetUtilizationRates(self, handle: SimpleNamespace) -> SimpleNamespace:
        self._check_handle(handle)
        gpu = self._next("nvmlDeviceGetUtilizationRates", "util")
        reads = self.calls["nvmlDeviceGetUtilizationRates:util"]
        if self.util_reads_target and reads >= self.util_reads_target:
            self.util_reads_reached.set()
        return SimpleNamespace(gpu=gpu, memory=0)

    def nvmlDeviceGetPowerUsage(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        return self._next("nvmlDeviceGetPowerUsage", "power")

    def nvmlDeviceGetClockInfo(self, handle: SimpleNamespace, clock_type: int) -> int:
        self._check_handle(handle)
        if clock_type != NVML_CLOCK_SM:
            raise NVMLError(2)
        return self._next("nvmlDeviceGetClockInfo", "sm")

    def nvmlDeviceGetPcieThroughput(self, handle: SimpleNamespace, counter: int) -> int:
        self._check_handle(handle)
        if counter == NVML_PCIE_UTIL_RX_BYTES:
            return self._next("nvmlDeviceGetPcieThroughput", "rx")
        if counter == NVML_PCIE_UTIL_TX_BYTES:
            return self._next("nvmlDeviceGetPcieThroughput", "tx")
        raise NVMLError(2)

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetCurrentClocksEventReasons")
        return self.event_reasons

    def nvmlDeviceGetMaxPcieLinkGeneration(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetMaxPcieLinkGeneration")
        return 5

    def nvmlDeviceGetMaxPcieLinkWidth(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetMaxPcieLinkWidth")
        return 16

    def nvmlDeviceGetCurrPcieLinkGeneration(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetCurrPcieLinkGeneration")
        return 4

    def nvmlDeviceGetCurrPcieLinkWidth(self, handle: SimpleNamespace) -> int:
        self._check_handle(handle)
        self._enter("nvmlDeviceGetCurrPcieLinkWidth")
        return 16
