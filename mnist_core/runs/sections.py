"""A run file's two header sections, typed: `mnist_bench` (how the session ran and ended) and pytest-benchmark's
`machine_info` (the machine). Built once, when a run is read (runs/runfile.typed_run), and read as attributes.

The session writes its section through SessionRecord.to_json, so its keys are named here (and, for the types
the commands rely on, in runfile.load_run's shape check). Reading is no stricter than that check: values are
kept as the file holds them, and a key an older format lacks reads as its default (format 1: no drift, wall_s,
budget_s or devices_note; files that predate `complete` were complete). machine_info is written by
pytest-benchmark and the suite's machine_summary (measure/hardware.py); only the keys the commands read are typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from mnist_core.runs.status import RunStatus

SECTION = "mnist_bench"
MACHINE_SECTION = "machine_info"  # pytest-benchmark's own


@dataclass(frozen=True)
class Dataset:
    """Which dataset ran, where from and why (core/data.DatasetLocation's fields), and its split sizes."""

    name: str | None = None
    path: str | None = None
    source: str | None = None
    downloaded: bool | None = None
    requested: str | None = None
    reason: str | None = None
    train_size: int | None = None
    test_size: int | None = None

    @classmethod
    def from_json(cls, data: dict | None) -> Dataset:
        return cls(**{item.name: (data or {}).get(item.name) for item in fields(cls)})

    def to_json(self) -> dict:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class Outcome:
    """A benchmark skipped or failed, with its row id and one-line reason (`when`: the failed phase)."""

    id: str | None
    nodeid: str | None = None
    kind: str | None = None
    config: dict | None = None
    when: str | None = None  # failures only
    reason: str | None = None

    @classmethod
    def from_json(cls, data: dict) -> Outcome:
        return cls(**{item.name: data.get(item.name) for item in fields(cls)})

    def to_json(self) -> dict:
        return {item.name: getattr(self, item.name) for item in fields(self)
                if item.name != "when" or self.when is not None}


@dataclass(frozen=True)
class YardstickRecord:
    """One device's yardstick over the session: every round as (seconds into the session, rate), or why it could
    not be built. Kept for readers of the file; the drift the commands use is Run.drift, from the rows (files
    written before it also hold a `spread_pct` here, which is not read)."""

    yardstick: str | None
    rounds: int
    series: tuple[tuple[float, float], ...] = ()
    error: str | None = None

    @classmethod
    def from_json(cls, data: dict) -> YardstickRecord:
        series = tuple(tuple(point) for point in data.get("series") or () if isinstance(point, list))
        return cls(data.get("yardstick"), data.get("rounds", 0), series, data.get("error"))

    def to_json(self) -> dict:
        out = {"yardstick": self.yardstick, "rounds": self.rounds, "series": [list(point) for point in self.series]}
        return out if self.error is None else {**out, "error": self.error}


@dataclass(frozen=True)
class SessionRecord:
    """The `mnist_bench` section, its keys in the order the file has them."""

    format_version: int
    profile: str | None = None
    devices: tuple[str, ...] = ()
    devices_note: str | None = None
    dataset: Dataset = field(default_factory=Dataset)
    accuracy_target: float | None = None
    started_at: str | None = None  # ISO 8601
    wall_s: float | None = None
    budget_s: float | None = None
    cuda_init_s: float | None = None  # CUDA context creation, once per session; None without a GPU
    drift: dict[str, YardstickRecord] = field(default_factory=dict)  # by device
    complete: bool = True
    interrupted: bool = False
    skipped: tuple[Outcome, ...] = ()
    failed: tuple[Outcome, ...] = ()
    command: str | None = None
    child_processes_alive: int | None = None  # DataLoader workers (or any child) left besides the yardsticks'

    @property
    def status(self) -> RunStatus:
        return RunStatus.of(self.complete, self.interrupted)

    @classmethod
    def from_json(cls, section: dict) -> SessionRecord:
        """From a checked section (runfile.check_run_data), of any format it reads."""
        return cls(
            format_version=section["format_version"], profile=section.get("profile"),
            devices=tuple(section.get("devices") or ()), devices_note=section.get("devices_note"),
            dataset=Dataset.from_json(section.get("dataset")), accuracy_target=section.get("accuracy_target"),
            started_at=section.get("started_at"), wall_s=section.get("wall_s"), budget_s=section.get("budget_s"),
            cuda_init_s=section.get("cuda_init_s"),
            drift=_yardstick_records(section.get("drift")),
            complete=bool(section.get("complete", True)), interrupted=bool(section.get("interrupted")),
            skipped=tuple(Outcome.from_json(entry) for entry in section.get("skipped") or ()),
            failed=tuple(Outcome.from_json(entry) for entry in section.get("failed") or ()),
            command=section.get("command"), child_processes_alive=section.get("child_processes_alive"))

    def to_json(self) -> dict:
        return {
            "format_version": self.format_version, "profile": self.profile, "devices": list(self.devices),
            "devices_note": self.devices_note, "dataset": self.dataset.to_json(), "accuracy_target": self.accuracy_target,
            "started_at": self.started_at, "wall_s": self.wall_s, "budget_s": self.budget_s,
            "cuda_init_s": self.cuda_init_s,
            "drift": {device: record.to_json() for device, record in self.drift.items()},
            "complete": self.complete, "interrupted": self.interrupted,
            "skipped": [entry.to_json() for entry in self.skipped], "failed": [entry.to_json() for entry in self.failed],
            "command": self.command, "child_processes_alive": self.child_processes_alive,
        }


def _yardstick_records(drift) -> dict[str, YardstickRecord]:
    """The drift record by device; not part of the shape check (no command reads it), so what is not one is left out."""
    if not isinstance(drift, dict):
        return {}
    return {device: YardstickRecord.from_json(record) for device, record in drift.items() if isinstance(record, dict)}


@dataclass(frozen=True)
class MachineInfo:
    """What the commands read of `machine_info`: None where the file has no such key (no GPU, an older file)."""

    cpu_model: str | None = None
    cpu_cores: int | None = None
    cpu_cores_available: int | None = None
    torch_threads: int | None = None
    torch_version: str | None = None
    torchvision_version: str | None = None
    python_version: str | None = None
    platform: str | None = None
    cuda_version: str | None = None  # torch's build
    gpu_count: int | None = None
    gpu_name: str | None = None
    gpu_memory_mib: float | None = None
    gpu_driver: str | None = None
    gpu_cuda_driver: str | None = None  # the newest CUDA the driver supports
    pcie_link_gen: int | None = None
    pcie_link_width: int | None = None
    pcie_theoretical_gb_s: float | None = None

    @classmethod
    def from_json(cls, data: dict | None) -> MachineInfo:
        return cls(**{item.name: (data or {}).get(item.name) for item in fields(cls)})

    @property
    def label(self) -> str:
        """How the machine is named in side-by-side tables: the GPU if it had one, and the CPU."""
        cpu = self.cpu_model or "CPU"
        return f"{self.gpu_name} + {cpu}" if self.gpu_name else cpu
