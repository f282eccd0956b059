"""BenchConfig: one frozen dataclass that describes a run, from pytest parameter to results row."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mnist_core.core.devices import cuda_available
from mnist_core.errors import ConfigError

DEVICES = ("cpu", "cuda")
DATASETS = ("mnist", "fashion-mnist", "synthetic")
MODELS = ("mlp", "cnn")
# dataloader: the tutorial's path; resident: whole split on the device as uint8;
# resident-graph: resident with the whole step captured in one CUDA graph.
LOADERS = ("dataloader", "resident", "resident-graph")
DEFAULT_LR = {"mlp": 0.5, "cnn": 0.05}

# The fields that cannot change anything on the CPU (no pinned pages, no async copy).
CPU_COLLAPSED_FIELDS = ("pin_memory", "non_blocking")


@dataclass(frozen=True)
class BenchConfig:
    device: str = "cpu"
    dataset: str = "mnist"
    model: str = "mlp"
    hidden_width: int = 32
    loader: str = "dataloader"
    batch_size: int = 128
    num_workers: int = 2
    pin_memory: bool = True
    non_blocking: bool = True
    samples_per_round: int = 10_240
    seed: int = 0
    torch_threads: int | None = None
    lr: float | None = None

    def __post_init__(self) -> None:
        _check_choice("device", self.device, DEVICES)
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("model", self.model, MODELS)
        _check_choice("loader", self.loader, LOADERS)
        _check_int("batch_size", self.batch_size, minimum=1)
        _check_int("num_workers", self.num_workers, minimum=0)
        _check_int("hidden_width", self.hidden_width, minimum=1)
        _check_int("samples_per_round", self.samples_per_round, minimum=1)
        _check_int("seed", self.seed, minimum=0)
        if self.torch_threads is not None:
            _check_int("torch_threads", self.torch_threads, minimum=1)
        if self.device == "cuda" and not cuda_available():
            raise ConfigError(
                "device='cuda' but no CUDA GPU is visible to torch; use the cpu device "
                "(--devices=cpu, --device cpu) or run on a machine with an NVIDIA GPU"
            )
        if self.loader == "resident-graph" and self.device != "cuda":
            raise ConfigError(
                "loader='resident-graph' needs device='cuda' (CUDA graphs); use loader='resident' on the CPU"
            )
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[self.model])
        elif not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr!r}")

    @property
    def reference(self) -> bool:
        """The tutorial's own setting: MLP, dataloader, batch 128, 2 workers, pinned, non_blocking."""
        return (
            self.model == "mlp"
            and self.hidden_width == 32
            and self.loader == "dataloader"
            and self.batch_size == 128
            and self.num_workers == 2
            and self.pin_memory == (self.device == "cuda")
            and self.non_blocking == (self.device == "cuda")
        )

    @property
    def steps_per_round(self) -> int:
        """Full batches in one timed round: its fixed amount of work."""
        return max(1, self.samples_per_round // self.batch_size)

    def collapsed(self) -> BenchConfig:
        """The config as it really runs: on the CPU pin_memory/non_blocking can't act, so they are off."""
        if self.device == "cpu" and (self.pin_memory or self.non_blocking):
            return dataclasses.replace(self, pin_memory=False, non_blocking=False)
        return self

    def replace(self, **changes) -> BenchConfig:
        return dataclasses.replace(self, **changes)

    def asdict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> tuple:
        """What identifies a configuration across runs (seed and round size excluded)."""
        return (
            self.device, self.model, self.hidden_width, self.loader,
            self.batch_size, self.num_workers, self.pin_memory, self.non_blocking,
        )

    def label(self) -> str:
        return label_for(self.asdict())


def label_for(spec: dict) -> str:
    """A short id for a configuration, e.g. cuda-mlp-dataloader-bs128-w2-pin-nb.

    Works on plain dicts too, so a configuration that cannot be built here (cuda on a
    CPU-only machine) still gets its id for the skip.
    """
    device, loader = spec.get("device", "cpu"), spec.get("loader", "dataloader")
    parts = [device, spec.get("model", "mlp"), loader, f"bs{spec.get('batch_size', 128)}"]
    if spec.get("hidden_width", 32) != 32:
        parts.insert(2, f"h{spec['hidden_width']}")
    if loader == "dataloader":
        parts.append(f"w{spec.get('num_workers', 2)}")
        if device == "cuda":
            parts.append("pin" if spec.get("pin_memory", True) else "nopin")
            parts.append("nb" if spec.get("non_blocking", True) else "blk")
    return "-".join(parts)


def _check_choice(field: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{field}={value!r} is not one of {', '.join(choices)}")


def _check_int(field: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{field} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{field} must be >= {minimum}, got {value}")
