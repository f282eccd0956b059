"""NvmlGpu: read-only NVML queries for one GPU; the only module that imports pynvml.

Modelled on gpustat's nvml.py: a failed import or nvmlInit is stored, not raised,
and every reading goes through `_read`, so a reading that cannot be taken is None
(never 0, which would look like an idle GPU). Each failed query is recorded in `failures`
(query -> the error), so a null reading always says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mnist_core.units import BYTES_PER_MIB

try:
    import pynvml as _pynvml

    _IMPORT_ERROR: str | None = None
except ImportError as exc:  # nvidia-ml-py missing: telemetry goes quiet, runs still work
    _pynvml = None
    _IMPORT_ERROR = f"pynvml not importable: {exc}"

_UUID_PREFIXES = ("gpu-", "mig-")
# Clock event (throttle) reasons that slow the GPU down below what it would run at (NVML's
# nvmlClocksEventReasonHwSlowdown, ...SwThermalSlowdown, ...HwThermalSlowdown, ...HwPowerBrakeSlowdown);
# the others (idle, application clocks, the software power cap of a GPU at its power limit) are normal.
SLOWDOWN_REASONS = {0x8: "hardware slowdown", 0x20: "software thermal slowdown", 0x40: "hardware thermal slowdown",
                    0x80: "hardware power brake"}


def _describe(exc: BaseException, lib: Any = None) -> str:
    """An NVML error as NVML words it; anything else with its type, as it is a bug in the binding."""
    nvml_error = getattr(lib if lib is not None else _pynvml, "NVMLError", None)
    text = _text(exc) if str(exc) else ""
    if nvml_error is not None and isinstance(exc, nvml_error):
        return text or "NVML error"
    return f"unexpected {type(exc).__name__}" + (f": {text}" if text else "")


def _text(value: Any) -> str:
    """Older bindings return bytes where newer ones return str."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _normalized_uuid(uuid: Any) -> str:
    """torch prints a bare 8-4-4-4-12 hex UUID, NVML prefixes "GPU-" (or "MIG-")."""
    text = _text(uuid).strip().strip("\0").lower()
    for prefix in _UUID_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _torch_uuid(torch_index: int) -> str | None:
    """The UUID torch sees at `torch_index`; None without a CUDA GPU or an old torch."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        uuid = getattr(torch.cuda.get_device_properties(torch_index), "uuid", None)
        return _normalized_uuid(uuid) if uuid is not None else None
    except Exception:
        return None


class NvmlGpu:
    """One GPU as NVML sees it, addressed by the index torch uses for it.

    `lib` is a pynvml-like module (tests inject a fake); by default the real pynvml.
    `ask_torch=False` takes the index as NVML's own (the same unless CUDA_VISIBLE_DEVICES hides GPUs) instead of
    importing torch to match its UUID: for the commands that never load torch.
    """

    def __init__(self, torch_index: int = 0, lib: Any = None, *, ask_torch: bool = True) -> None:
        self.torch_index = torch_index
        self._lib = lib if lib is not None else _pynvml
        self._ask_torch = ask_torch
        self._initialized = False
        self._handle: Any = None
        self.init_error: str | None = None
        self.failures: dict[str, str] = {}  # query -> why it failed (the first time)
        if self._lib is None:
            self.init_error = _IMPORT_ERROR or "pynvml not available"
            return
        try:
            self._lib.nvmlInit()
        except Exception as exc:  # NVMLError (no driver, no libnvidia-ml.so) or a broken binding: no GPU readings
            self.init_error = f"nvmlInit failed: {_describe(exc)}"
            return
        self._initialized = True
        self._handle = self._find_handle(torch_index)
        if self._handle is None:
            self.init_error = f"no NVML device for torch index {torch_index}"

    def _find_handle(self, torch_index: int) -> Any:
        # CUDA_VISIBLE_DEVICES renumbers torch's devices but not NVML's, so the UUID
        # is the reliable link; the index is right only when nothing is hidden.
        uuid = _torch_uuid(torch_index) if self._ask_torch else None
        by_uuid = getattr(self._lib, "nvmlDeviceGetHandleByUUID", None)
        if uuid and by_uuid is not None:
            for prefix in ("GPU-", "MIG-"):
                handle = self._read(by_uuid, prefix + uuid)
                if handle is not None:
                    return handle
        by_index = getattr(self._lib, "nvmlDeviceGetHandleByIndex", None)
        return self._read(by_index, torch_index) if by_index is not None else None

    @property
    def available(self) -> bool:
        return self._initialized and self._handle is not None

    def _read(self, fn: Callable[..., Any], *args: Any, query: str | None = None) -> Any:
        """The one safe call: a failing query (NVMLError: not supported, no permission, ...; or a binding that
        breaks) is None; a reading's failure is recorded in `failures` under `query`."""
        try:
            return fn(*args)
        except Exception as exc:
            if query is not None:
                self.failures.setdefault(query, _describe(exc, self._lib))
            return None

    def _device(self, fn_name: str, *args: Any) -> Any:
        if not self.available:
            return None
        fn = getattr(self._lib, fn_name, None)  # missing from old bindings -> None
        if fn is None:
            return None
        return self._read(fn, self._handle, *args, query=fn_name)

    def _converted(self, fn_name: str, convert: Callable[[Any], Any], *args: Any) -> Any:
        """A device reading put into our units; a value that will not convert is None too."""
        value = self._device(fn_name, *args)
        return None if value is None else self._read(convert, value, query=fn_name)

    def _system(self, fn_name: str) -> Any:
        if not self._initialized:
            return None
        fn = getattr(self._lib, fn_name, None)
        if fn is None:
            return None
        return self._read(fn, query=fn_name)

    def _constant(self, name: str) -> Any:
        return getattr(self._lib, name, None) if self._lib is not None else None

    # -- identity -----------------------------------------------------------

    def name(self) -> str | None:
        return self._converted("nvmlDeviceGetName", _text)

    def device_count(self) -> int | None:
        """Every GPU NVML sees, CUDA_VISIBLE_DEVICES or not."""
        return self._system("nvmlDeviceGetCount")

    def driver_version(self) -> str | None:
        value = self._system("nvmlSystemGetDriverVersion")
        return None if value is None else _text(value)

    def cuda_driver_version(self) -> str | None:
        """The CUDA version the driver supports, e.g. 12040 -> "12.4"."""
        value = self._system("nvmlSystemGetCudaDriverVersion")
        if not isinstance(value, int) or value <= 0:
            return None
        return f"{value // 1000}.{(value % 1000) // 10}"

    # -- memory, load, power, clocks ---------------------------------------

    def memory_total_mib(self) -> float | None:
        return self._converted("nvmlDeviceGetMemoryInfo", lambda info: info.total / BYTES_PER_MIB)

    def memory_used_mib(self) -> float | None:
        return self._converted("nvmlDeviceGetMemoryInfo", lambda info: info.used / BYTES_PER_MIB)

    def utilization_pct(self) -> float | None:
        """Share of the last sample period in which a kernel ran (not SM occupancy)."""
        return self._converted("nvmlDeviceGetUtilizationRates", lambda rates: float(rates.gpu))

    def power_w(self) -> float | None:
        return self._converted("nvmlDeviceGetPowerUsage", lambda milliwatts: milliwatts / 1000.0)

    def sm_clock_mhz(self) -> float | None:
        clock = self._constant("NVML_CLOCK_SM")
        if clock is None:
            return None
        return self._converted("nvmlDeviceGetClockInfo", float, clock)

    def slowdown(self) -> str | None:
        """Why the GPU runs slower than it would right now ("" when nothing slows it), from NVML's clock
        event reasons; None when they cannot be read."""
        name = ("nvmlDeviceGetCurrentClocksEventReasons" if hasattr(self._lib, "nvmlDeviceGetCurrentClocksEventReasons")
                else "nvmlDeviceGetCurrentClocksThrottleReasons")
        reasons = self._converted(name, int)
        if reasons is None:
            return None
        return ", ".join(text for bit, text in SLOWDOWN_REASONS.items() if reasons & bit)

    # -- PCIe -----------------------------------------------------------------

    def _pcie_mb_s(self, counter_name: str) -> float | None:
        # NVML counts bytes over a 20 ms window and reports KB/s; we take KB as
        # 10^3 bytes so MB/s lines up with the 10^9-byte GB/s of the link ceiling.
        counter = self._constant(counter_name)
        if counter is None:
            return None
        return self._converted("nvmlDeviceGetPcieThroughput", lambda kb_s: kb_s / 1000.0, counter)

    def pcie_rx_mb_s(self) -> float | None:
        """Host -> GPU traffic, as seen by the GPU."""
        return self._pcie_mb_s("NVML_PCIE_UTIL_RX_BYTES")

    def pcie_tx_mb_s(self) -> float | None:
        """GPU -> host traffic."""
        return self._pcie_mb_s("NVML_PCIE_UTIL_TX_BYTES")

    def _int(self, fn_name: str) -> int | None:
        value = self._converted(fn_name, int)
        return value if value is not None and value > 0 else None

    def pcie_link_gen(self) -> int | None:
        """The highest generation the GPU and slot can train to."""
        return self._int("nvmlDeviceGetMaxPcieLinkGeneration")

    def pcie_link_width(self) -> int | None:
        return self._int("nvmlDeviceGetMaxPcieLinkWidth")

    def pcie_link_gen_current(self) -> int | None:
        """Drops at idle to save power, so read it while the GPU is busy."""
        return self._int("nvmlDeviceGetCurrPcieLinkGeneration")

    def pcie_link_width_current(self) -> int | None:
        return self._int("nvmlDeviceGetCurrPcieLinkWidth")

    # -- lifetime -------------------------------------------------------------

    def close(self) -> None:
        """nvmlInit is reference counted, so each successful init gets one shutdown."""
        if self._initialized:
            self._initialized = False
            self._handle = None
            self._read(getattr(self._lib, "nvmlShutdown", lambda: None))

    def __enter__(self) -> NvmlGpu:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
