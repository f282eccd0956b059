"""BenchConfig: one frozen dataclass that describes a run, from pytest parameter to results row.

It normalises itself when built, so a config always says what really runs: on the CPU pin_memory and
non_blocking cannot act (no pinned pages, no asynchronous copy) and are off; the resident pipelines have
no DataLoader, so no workers and no pinning (what acts on which pipeline: core/pipelines.py). Two specs that
run the same work are equal configs.
`tutorial(device)` is the tutorial's own setting, the one reference everything is compared with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from math import isfinite

from mnist_core.core.pipelines import DATALOADER, DATALOADER_SETTINGS, PIPELINES, REPLAY_SETTING, Pipeline
from mnist_core.errors import ConfigError

DEVICES = ("cpu", "cuda")
DATASETS = ("mnist", "fashion-mnist", "synthetic")
MODELS = ("mlp", "cnn")
LOADERS = tuple(PIPELINES)
# The settings a pipeline may or may not have, in the order ids and `inert_fields` name them; off CUDA there
# are no pinned pages, no asynchronous copies and no CUDA graphs.
SETTINGS = DATALOADER_SETTINGS + (REPLAY_SETTING,)
CUDA_ONLY_SETTINGS = ("pin_memory", "non_blocking", REPLAY_SETTING)
DEFAULT_LR = {"mlp": 0.5, "cnn": 0.05}
VALIDATION_SIZE = 10_000  # the tutorial's random_split(dataset, [50000, 10000])
LARGEST_SPLIT = 60_000  # the most training images any dataset here has: no batch can be larger
# What the suite can run at all; a run file with values outside these is not a real measurement.
LIMITS = {"batch_size": (1, LARGEST_SPLIT), "num_workers": (0, 1024), "hidden_width": (1, 1 << 16),
          "samples_per_round": (1, 1 << 30), "seed": (0, (1 << 63) - 1), "torch_threads": (1, 1 << 16),
          "steps_per_replay": (1, 1024)}

# The tutorial's own setting: its MLP, a DataLoader with batch 128 and 2 workers, pinned memory and
# non_blocking copies (the last two only act on CUDA).
TUTORIAL_SETTING = dict(model="mlp", hidden_width=32, loader=DATALOADER.name, batch_size=128, num_workers=2,
                        pin_memory=True, non_blocking=True)


def validation_size(num_samples: int, val_size: int = VALIDATION_SIZE) -> int:
    """The tutorial's 10,000 validation images, or a sixth of a smaller set."""
    return val_size if 0 < val_size < num_samples else max(1, num_samples // 6)


@dataclass(frozen=True)
class BenchConfig:
    # metadata "key": the field identifies a configuration across runs (regression matching, ids)
    device: str = field(default="cpu", metadata={"key": True})
    dataset: str = "mnist"
    model: str = field(default="mlp", metadata={"key": True})
    hidden_width: int = field(default=32, metadata={"key": True})
    loader: str = field(default=DATALOADER.name, metadata={"key": True})  # a pipeline in core/pipelines.py
    batch_size: int = field(default=128, metadata={"key": True})
    num_workers: int = field(default=2, metadata={"key": True})
    pin_memory: bool = field(default=True, metadata={"key": True})
    non_blocking: bool = field(default=True, metadata={"key": True})
    steps_per_replay: int = field(default=1, metadata={"key": True})  # resident-compiled on CUDA: steps per graph
    samples_per_round: int = 10_240
    seed: int = 0
    torch_threads: int | None = None
    lr: float | None = None

    def __post_init__(self) -> None:
        _check_choice("device", self.device, DEVICES)
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("model", self.model, MODELS)
        _check_choice("loader", self.loader, LOADERS)
        for name, (low, high) in LIMITS.items():
            if name != "torch_threads" or self.torch_threads is not None:
                _check_int(name, getattr(self, name), low, high)
        for name in ("pin_memory", "non_blocking"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.pipeline.needs_cuda_for and self.device != "cuda":
            raise ConfigError(f"loader={self.loader!r} needs device='cuda' ({self.pipeline.needs_cuda_for}); "
                              f"use loader={self.pipeline.cpu_stand_in!r} on the CPU")
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[self.model])
        elif isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not isfinite(self.lr) or self.lr <= 0:
            raise ConfigError(f"lr must be > 0, got {self.lr!r}")
        for name in self.inert_fields:  # what cannot act here is off: the config says what runs
            object.__setattr__(self, name, {"num_workers": 0, "steps_per_replay": 1}.get(name, False))

    @property
    def pipeline(self) -> Pipeline:
        return PIPELINES[self.loader]

    @property
    def inert_fields(self) -> tuple[str, ...]:
        """Settings that cannot act in this configuration, so they are fixed off."""
        return inert_fields(self.loader, self.device)

    @property
    def reference(self) -> bool:
        """The tutorial's own setting on this device (see `tutorial`)."""
        return self.key() == tutorial(self.device).key()

    @property
    def steps_per_round(self) -> int:
        """Full batches in one timed round (whole graph replays for resident-compiled): its fixed amount of work."""
        steps = max(1, self.samples_per_round // self.batch_size)
        return -(-steps // self.steps_per_replay) * self.steps_per_replay

    def check_runnable(self, cuda_available: Callable[[], bool] | None = None) -> BenchConfig:
        """This config, or ConfigError when this machine cannot run it (CUDA without a GPU). `cuda_available`
        answers whether torch can use a GPU; by default torch itself, so torch is imported."""
        if cuda_available is None:
            from mnist_core.core.devices import cuda_available  # torch: only when a config is about to run

        if self.device == "cuda" and not cuda_available():
            raise ConfigError(
                "device='cuda' but no CUDA GPU is visible to torch; use the cpu device "
                "(--devices=cpu, --device cpu) or run on a machine with an NVIDIA GPU"
            )
        return self

    def replace(self, **changes) -> BenchConfig:
        return dataclasses.replace(self, **changes)

    def asdict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> tuple:
        """What identifies a configuration across runs: the fields marked as key (not seed or round size)."""
        return tuple(getattr(self, name) for name in KEY_FIELDS)

    def label(self) -> str:
        return label_for(self.asdict())


KEY_FIELDS = tuple(item.name for item in dataclasses.fields(BenchConfig) if item.metadata.get("key"))


def tutorial(device: str = "cpu", dataset: str = "mnist", **changes) -> BenchConfig:
    """The tutorial's own setting on `device`, as it runs there."""
    return BenchConfig(device=device, dataset=dataset, **{**TUTORIAL_SETTING, **changes})


def inert_fields(loader: str, device: str) -> tuple[str, ...]:
    """The SETTINGS that cannot act on `loader` on `device`: its pipeline's, and off CUDA the CUDA-only ones. An
    unknown pipeline (an unusable row's id) has none that act."""
    pipeline = PIPELINES.get(loader) if isinstance(loader, str) else None
    inert = set(pipeline.inert_fields if pipeline else SETTINGS) | set(CUDA_ONLY_SETTINGS if device != "cuda" else ())
    return tuple(name for name in SETTINGS if name in inert)


DEFAULTS = {item.name: item.default for item in dataclasses.fields(BenchConfig)}
ID_PARTS = {"num_workers": lambda value: f"w{value}", "pin_memory": lambda value: "pin" if value else "nopin",
            "non_blocking": lambda value: "nb" if value else "blk", "steps_per_replay": lambda value: f"k{value}"}


def label_for(spec: dict) -> str:
    """A short id for a configuration, e.g. cuda-mlp-dataloader-bs128-w2-pin-nb: its settings that can act.

    Works on plain dicts too, so a configuration that cannot be built here (cuda on a
    CPU-only machine) still gets its id for the skip.
    """
    spec = {**DEFAULTS, **spec}
    parts = [spec["device"], spec["model"], spec["loader"], f"bs{spec['batch_size']}"]
    if spec["hidden_width"] != DEFAULTS["hidden_width"]:
        parts.insert(2, f"h{spec['hidden_width']}")
    inert = inert_fields(spec["loader"], spec["device"])
    return "-".join(parts + [ID_PARTS[name](spec[name]) for name in SETTINGS if name not in inert])


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _check_int(name: str, value, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    if value > maximum:
        raise ConfigError(f"{name} must be <= {maximum:,}, got {value:,}")
