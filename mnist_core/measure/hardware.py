"""The machine a result came from: every number in a run depends on these fields."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Any, TypeVar

from mnist_core.measure.installed import installed_version, torch_cuda_build
from mnist_core.measure.nvml import NvmlGpu
from mnist_core.measure.telemetry import pcie_theoretical_gb_s
from mnist_core.units import BYTES_PER_MIB

T = TypeVar("T")

GPU_FIELDS = (
    "gpu_name",
    "gpu_memory_mib",
    "gpu_driver",
    "gpu_cuda_driver",
    "pcie_link_gen",
    "pcie_link_width",
    "pcie_theoretical_gb_s",
)


def _safe(fn: Callable[[], T], default: T | None = None) -> T | None:
    """A field that cannot be read is recorded as unknown rather than failing the run."""
    try:
        return fn()
    except Exception:
        return default


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:  # not Linux
        pass
    return _safe(platform.processor) or "unknown"


def cores_available() -> int:
    """Cores this process may run on: a container or taskset can allow fewer than cpu_count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def _torchvision_version() -> str | None:
    import torchvision

    return torchvision.__version__


def _nvml_fields(gpu: NvmlGpu) -> dict[str, Any]:
    """The driver and the PCIe slot, which only NVML reports."""
    fields = {
        "gpu_driver": gpu.driver_version(),
        "gpu_cuda_driver": gpu.cuda_driver_version(),
        # The slot's capability, not the current link: that trains down at idle.
        "pcie_link_gen": gpu.pcie_link_gen(),
        "pcie_link_width": gpu.pcie_link_width(),
    }
    fields["pcie_theoretical_gb_s"] = pcie_theoretical_gb_s(fields["pcie_link_gen"], fields["pcie_link_width"])
    return fields


def _gpu_fields(device_index: int) -> dict[str, Any]:
    import torch

    fields: dict[str, Any] = dict.fromkeys(GPU_FIELDS)
    fields["gpu_name"] = _safe(lambda: torch.cuda.get_device_name(device_index))
    fields["gpu_memory_mib"] = _safe(
        lambda: torch.cuda.get_device_properties(device_index).total_memory / BYTES_PER_MIB
    )
    with NvmlGpu(device_index) as gpu:
        fields.update(_nvml_fields(gpu))
    return fields


def _cpu_fields() -> dict[str, Any]:
    return {
        "cpu_model": _safe(cpu_model, "unknown"),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_available": _safe(cores_available),
    }


def machine_summary(device_index: int = 0) -> dict[str, Any]:
    """A flat dict describing CPU, software and GPU; GPU fields are None without a CUDA GPU."""
    import torch  # here, not at the top: the option parsers and profiles read cores_available

    cuda_available = bool(_safe(torch.cuda.is_available, False))
    summary: dict[str, Any] = {
        **_cpu_fields(),
        "torch_threads": _safe(torch.get_num_threads),
        "torch_version": torch.__version__,
        "torchvision_version": _safe(_torchvision_version),
        "python_version": platform.python_version(),
        "platform": _safe(platform.platform),
        "cuda_available": cuda_available,
        "cuda_version": _safe(lambda: torch.version.cuda),
        "gpu_count": _safe(torch.cuda.device_count, 0) if cuda_available else 0,
    }
    gpu = _safe(lambda: _gpu_fields(device_index)) if cuda_available else None
    summary.update(gpu or dict.fromkeys(GPU_FIELDS))
    return summary


def _nvml_gpu_fields(device_index: int) -> dict[str, Any] | None:
    """GPU `device_index` and the count as NVML sees them; None when NVML sees no GPU (no driver)."""
    with NvmlGpu(device_index, ask_torch=False) as gpu:
        if not gpu.available:
            return None
        return {"gpu_count": gpu.device_count(), "gpu_name": gpu.name(), "gpu_memory_mib": gpu.memory_total_mib(),
                **_nvml_fields(gpu)}


def _cuda_hides_every_gpu() -> bool:
    """CUDA reads CUDA_VISIBLE_DEVICES up to its first entry that names no GPU, so "", "-1" and the like hide
    them all from torch, though NVML still sees them."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return False
    first = visible.split(",")[0].strip()
    return not (first.isdigit() or first.upper().startswith(("GPU-", "MIG-")))


def _omp_threads() -> int | None:
    """The thread count OMP_NUM_THREADS sets for torch, when it is set to one."""
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def summary_without_torch(device_index: int = 0) -> dict[str, Any]:
    """machine_summary's fields as far as they can be known without importing torch (seconds), for `info`:
    versions from the installed files, the GPU from NVML. torch_threads is OMP_NUM_THREADS's or None (torch's
    own default, not read); cuda_available says whether torch would find a GPU: a CUDA build (or one that
    cannot be told) and an NVIDIA driver that sees a GPU CUDA_VISIBLE_DEVICES does not hide."""
    cuda_version = torch_cuda_build()
    gpu = None if _cuda_hides_every_gpu() else _safe(lambda: _nvml_gpu_fields(device_index))
    summary: dict[str, Any] = {
        **_cpu_fields(),
        "torch_threads": _omp_threads(),
        "torch_version": installed_version("torch"),
        "torchvision_version": installed_version("torchvision"),
        "python_version": platform.python_version(),
        "platform": _safe(platform.platform),
        "cuda_available": gpu is not None and cuda_version is not None,
        "cuda_version": cuda_version,
        "gpu_count": 0,
        **dict.fromkeys(GPU_FIELDS),
    }
    summary.update(gpu or {})
    return summary


def _fmt(value: Any, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def format_summary_lines(summary: dict[str, Any]) -> list[str]:
    """Human lines for a console header, in the order a reader checks them."""
    get = summary.get
    lines = [
        f"CPU: {get('cpu_model') or 'unknown'} "
        f"({_fmt(get('cpu_cores_available'))} of {_fmt(get('cpu_cores'))} cores available, "
        f"torch threads {_fmt(get('torch_threads'))})",
        f"Software: Python {_fmt(get('python_version'))}, torch {_fmt(get('torch_version'))} "
        f"(CUDA {get('cuda_version') or 'none'}), torchvision {_fmt(get('torchvision_version'))}",
        f"Platform: {_fmt(get('platform'))}",
    ]
    if not get("cuda_available") or get("gpu_name") is None:
        lines.append("GPU: no CUDA GPU")
        return lines
    count = get("gpu_count")
    lines.append(
        f"GPU: {get('gpu_name')}, {_fmt(get('gpu_memory_mib'), ' MiB')}"
        + (f" ({count} GPUs visible)" if isinstance(count, int) and count > 1 else "")
        + f", driver {_fmt(get('gpu_driver'))} (CUDA {_fmt(get('gpu_cuda_driver'))})"
    )
    gen, width = get("pcie_link_gen"), get("pcie_link_width")
    if gen is None or width is None:
        lines.append("PCIe: unknown")
    else:
        lines.append(
            f"PCIe: gen{gen} x{width}, "
            f"{_fmt(get('pcie_theoretical_gb_s'), ' GB/s', 1)} per direction theoretical"
        )
    return lines
