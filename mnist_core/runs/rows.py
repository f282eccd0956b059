"""Typed result rows: what each benchmark stores in its extra_info, and the one check of their numbers.

Each row is a dataclass; its fields (and the BenchConfig, Measurement and Telemetry it holds) are the
extra_info keys, in field order: they drive the run file's row dict, results.csv's column order, the
run-file check and how `compare` matches rows across runs (`key`). Nothing keeps a list of keys by hand.

`from_info` rebuilds a row from a run file and rejects a number that cannot be real with RowProblem:
non-finite, zero or negative round throughputs, throughputs beyond what any machine can do (PHYSICAL_MAX),
a stored median that is not its rounds' median, empty rounds, and configuration values outside what the
suite can run. Such a row is unusable: listed, never reported as a result nor given a verdict.

Values a row derives (DERIVED_KEYS, and the measurement's own: measure/measurement.py) are written for readers
of the JSON (pytest-benchmark, jq, notebooks) and never used when read back: `from_info` recomputes them from
what they derive from, so a copy edited by hand cannot disagree with its rounds. Two are read only to be checked:
the stored median against its rounds, and an accuracy row's samples_per_s against PHYSICAL_MAX.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from math import isclose, isfinite
from statistics import median
from typing import ClassVar

from mnist_core.core.config import KEY_FIELDS, BenchConfig, label_for
from mnist_core.errors import ConfigError
from mnist_core.measure.effect import Verdict, compare
from mnist_core.measure.measurement import METRICS, Measurement
from mnist_core.measure.telemetry import TELEMETRY_KEYS, Telemetry
from mnist_core.runs.row_ids import parameter_of, row_id

THROUGHPUT_KINDS = ("train", "loader", "overhead")
OVERHEAD_LIMIT_PCT = 3.0  # the suite may cost at most this much of the bare loop's samples/s
CONFIG_FIELDS = tuple(item.name for item in dataclasses.fields(BenchConfig))
# The most any machine can do, with a wide margin: a rate above it is not a measurement of this work.
# samples/s: each step reads every sample's 784 bytes of pixels, and no memory reads faster than about
#   10 TB/s (HBM3e: 8 TB/s; even a dataset held in a GPU's on-chip L2, about 30 TB/s, gives 3.8e10 samples/s).
#   The fastest row measured here: 14.4M samples/s (H100, CUDA graph), 7,000x below the bound.
# GB/s: a host-to-device copy crosses a link of at most 900 GB/s (NVLink-C2C; PCIe 6.0 x16: 128 GB/s) into
#   device memory no GPU writes faster than about 10 TB/s. The fastest copy measured here: 55 GB/s.
PHYSICAL_MAX = {"samples_per_s": 1e11, "gb_s": 10_000.0}


class RowProblem(ValueError):
    """A row whose numbers cannot be real; the message says which and why."""


@dataclass(frozen=True)
class Unusable:
    """A benchmark row of a run that cannot be used, and why: listed, never compared or reported as a result."""

    name: str
    id: str
    reason: str


def _finite(value, what: str, *, minimum: float | None = None, above: float | None = None,
            nullable: bool = True, metric: str | None = None) -> float | None:
    """`value` when it is a finite number in range (and, for a rate of `metric`, within PHYSICAL_MAX)."""
    if value is None:
        if nullable:
            return None
        raise RowProblem(f"{what} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowProblem(f"{what} is {value!r}, not a number")
    if not isfinite(value):
        raise RowProblem(f"{what} is {value!r}, not a finite number")
    if above is not None and not value > above:
        raise RowProblem(f"{what} is {value!r}; it must be above {above:g}")
    if minimum is not None and value < minimum:
        raise RowProblem(f"{what} is {value!r}; it must be at least {minimum:g}")
    if metric is not None and value > PHYSICAL_MAX[metric]:
        raise RowProblem(f"{what} is {value:g} {METRICS[metric]}, beyond what any machine can do (at most "
                         f"{PHYSICAL_MAX[metric]:g}: the PHYSICAL_MAX bound in mnist_core/runs/rows.py)")
    return value


def _rates(values, what: str, metric: str | None = None) -> tuple[float, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise RowProblem(f"{what} is empty: no rounds to measure from")
    return tuple(_finite(value, f"a value in {what}", above=0, nullable=False, metric=metric) for value in values)


def check_round_times(stats: dict | None) -> None:
    """pytest-benchmark's own round times, when the row has them (seconds per sample since bench/replay.py;
    seconds per round in older runs): positive and finite, as every time is."""
    if isinstance(stats, dict) and "data" in stats:
        _rates(stats["data"], "stats.data (the round times)")


def measurement_from(info: dict, subject: str) -> Measurement:
    metric = "gb_s" if "gb_s_rounds" in info else "samples_per_s"
    rates = _rates(info.get(f"{metric}_rounds"), f"{metric}_rounds", metric)
    yardstick = info.get("yardstick_rounds") or ()
    if yardstick:
        _rates(yardstick, "yardstick_rounds", metric)
        if len(yardstick) != len(rates):
            raise RowProblem(f"yardstick_rounds has {len(yardstick)} rounds for {len(rates)} rounds of the row")
    states = info.get("state_probe_rounds") or ()
    if states:
        _rates(states, "state_probe_rounds")
        if len(states) != len(rates):
            raise RowProblem(f"state_probe_rounds has {len(states)} readings for {len(rates)} rounds of the row")
    stored = _finite(info.get(metric), metric, above=0, metric=metric)  # the stored median: a real throughput too
    for item in info.get("excluded_rounds") or ():
        _finite(item.get("rate") if isinstance(item, dict) else item, "an excluded round", above=0, nullable=False,
                metric=metric)
    measurement = Measurement.from_info(info, subject)
    # written from the same rounds: as the median of the time per unit, or (files written before it was) of the rates
    medians = (measurement.median, median(measurement.rates))
    if stored is not None and not any(isclose(stored, value, rel_tol=1e-9) for value in medians):
        raise RowProblem(f"{metric} is {stored:g} but the median of its {measurement.rounds} rounds is "
                         f"{measurement.median:g}: one of them was edited or damaged")
    return measurement


def config_from(info: dict) -> BenchConfig:
    try:
        return BenchConfig(**{name: info[name] for name in CONFIG_FIELDS if name in info})
    except ConfigError as exc:
        raise RowProblem(f"{exc}: not a configuration the suite can run") from None
    except TypeError as exc:
        raise RowProblem(str(exc)) from None


def telemetry_from(info: dict) -> Telemetry:
    for key in TELEMETRY_KEYS:
        if key != "telemetry_errors":
            _finite(info.get(key), key, minimum=0)
    return Telemetry.from_readings(info)


@dataclass(frozen=True)
class Row:
    """What every row has: its kind and where it came from in the run file."""

    KINDS: ClassVar[tuple[str, ...]] = ()
    name: str  # pytest-benchmark's name, e.g. test_train[cpu-mlp-resident-bs128]

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @property
    def label(self) -> str:
        raise NotImplementedError

    @property
    def id(self) -> str:
        """kind/parameter (runs/row_ids.py), as the run file's skipped and failed lists name benchmarks."""
        return row_id(self.kind, parameter_of(self.name) or self.label)

    @property
    def key(self) -> tuple:
        """What matches this row across runs (never the test name or its position)."""
        raise NotImplementedError


@dataclass(frozen=True)
class ConfigRow(Row):
    """A row of one BenchConfig: identified across runs by the config's key fields."""

    config: BenchConfig = field(default_factory=BenchConfig)

    @property
    def label(self) -> str:
        return self.config.label()

    @property
    def key(self) -> tuple:
        return (self.kind, *self.config.key())


@dataclass(frozen=True)
class ThroughputRow(ConfigRow):
    """train, loader and overhead rows: samples/s of a configuration over timed rounds."""

    KINDS: ClassVar[tuple[str, ...]] = THROUGHPUT_KINDS
    row_kind: str = "train"
    measurement: Measurement | None = None
    first_batch_s: float | None = None  # building the pipeline to its first batch on the device
    # a fresh epoch's start-up (workers forked, first batch) charged to the rounds pro rata; None: not charged
    epoch_start_s: float | None = None
    dataset_on_device_mib: float | None = None
    torch_threads_used: int | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)
    kernels_per_step: float | None = None  # CUDA kernels per step (torch's profiler), for the captured pipelines
    replayed_kernel_us: float | None = None  # what one kernel of a replayed CUDA graph costs on this GPU

    @property
    def kind(self) -> str:
        return self.row_kind

    @property
    def us_per_step(self) -> float:
        return self.config.batch_size / self.measurement.median * 1e6

    @property
    def launch_floor_us(self) -> float | None:
        """Kernels per step x the cost of a replayed kernel: the time per step launches alone would take."""
        if self.kernels_per_step is None or self.replayed_kernel_us is None:
            return None
        return self.kernels_per_step * self.replayed_kernel_us

    @property
    def reference(self) -> bool:
        """The tutorial's setting as a training benchmark: one such row per device."""
        return self.kind == "train" and self.config.reference

    def overhead(self) -> Verdict | None:
        """For an overhead row: the suite's samples/s against the bare loop's, judged at OVERHEAD_LIMIT_PCT."""
        effect = self.measurement.vs_yardstick() if self.kind == "overhead" else None
        return compare(effect, OVERHEAD_LIMIT_PCT) if effect is not None else None

    def to_info(self) -> dict:
        overhead = self.overhead()
        info = {
            "kind": self.kind,
            **self.config.asdict(),
            **self.measurement.to_info(),
            "reference": self.reference,
            "collapsed": list(self.config.inert_fields),  # settings that cannot act here, so are off
            "first_batch_s": self.first_batch_s,
            "epoch_start_s": self.epoch_start_s,
            "dataset_on_device_mib": self.dataset_on_device_mib,
            "torch_threads_used": self.torch_threads_used,
            "us_per_step": self.us_per_step,
            "kernels_per_step": self.kernels_per_step,
            "replayed_kernel_us": self.replayed_kernel_us,
            "launch_floor_us": self.launch_floor_us,
            **dataclasses.asdict(self.telemetry),
        }
        if overhead is not None:
            info.update(overhead_pct=-overhead.effect.pct, overhead_limit_pct=OVERHEAD_LIMIT_PCT,
                        overhead_verdict=overhead.label, bare_samples_per_s=self.measurement.yardstick_median)
        return info

    @classmethod
    def from_info(cls, info: dict, name: str) -> ThroughputRow:
        config = config_from(info)
        info = _with_bare_loop(info)
        return cls(name=name, row_kind=info["kind"], config=config,
                   measurement=measurement_from(info, row_id(info["kind"], parameter_of(name) or config.label())),
                   first_batch_s=_finite(info.get("first_batch_s"), "first_batch_s", minimum=0),
                   epoch_start_s=_finite(info.get("epoch_start_s"), "epoch_start_s", minimum=0),
                   dataset_on_device_mib=_finite(info.get("dataset_on_device_mib"), "dataset_on_device_mib", minimum=0),
                   torch_threads_used=info.get("torch_threads_used"), telemetry=telemetry_from(info),
                   kernels_per_step=_finite(info.get("kernels_per_step"), "kernels_per_step", above=0),
                   replayed_kernel_us=_finite(info.get("replayed_kernel_us"), "replayed_kernel_us", above=0))


def _with_bare_loop(info: dict) -> dict:
    """Overhead rows of format 1 kept the bare loop's rounds as bare_samples_per_s_rounds, taken in the
    same alternation: they are the rows' yardstick rounds (the bare loop)."""
    if info.get("kind") == "overhead" and not info.get("yardstick_rounds") and info.get("bare_samples_per_s_rounds"):
        rounds = info["bare_samples_per_s_rounds"]
        if len(rounds) == len(info.get("samples_per_s_rounds") or ()):
            return {**info, "yardstick": "bare loop", "yardstick_rounds": rounds}
    return info


@dataclass(frozen=True)
class TransferRow(Row):
    """Host-to-device copies of one size: GB/s over timed rounds, against the PCIe link's theoretical maximum."""

    KINDS: ClassVar[tuple[str, ...]] = ("transfer",)
    device: str = "cuda"
    transfer: str = ""  # batch128 or block64MiB
    bytes: int = 0
    pin_memory: bool = False
    non_blocking: bool = False
    copies_per_round: int = 1
    batch_size: int | None = None
    measurement: Measurement | None = None
    pcie_theoretical_gb_s: float | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("device", "transfer", "pin_memory", "non_blocking")

    @property
    def kind(self) -> str:
        return "transfer"

    @property
    def label(self) -> str:
        return (f"{self.device}-h2d-{self.transfer}-{'pinned' if self.pin_memory else 'pageable'}-"
                f"{'nb' if self.non_blocking else 'blk'}")

    @property
    def key(self) -> tuple:
        return (self.kind, *(getattr(self, name) for name in self.KEY_FIELDS))

    @property
    def us_per_copy(self) -> float:
        return self.bytes / (self.measurement.median * 1e9) * 1e6

    @property
    def pcie_fraction(self) -> float | None:
        return self.measurement.median / self.pcie_theoretical_gb_s if self.pcie_theoretical_gb_s else None

    def to_info(self) -> dict:
        return {
            "kind": self.kind, "device": self.device, "transfer": self.transfer, "bytes": self.bytes,
            "pin_memory": self.pin_memory, "non_blocking": self.non_blocking, "copies_per_round": self.copies_per_round,
            "batch_size": self.batch_size, **self.measurement.to_info(), "us_per_copy": self.us_per_copy,
            "pcie_theoretical_gb_s": self.pcie_theoretical_gb_s, "pcie_fraction": self.pcie_fraction,
            **dataclasses.asdict(self.telemetry),
        }

    @classmethod
    def from_info(cls, info: dict, name: str) -> TransferRow:
        size = _finite(info.get("bytes"), "bytes", above=0, nullable=False)
        batch = info.get("batch_size")
        if batch is not None:
            _finite(batch, "batch_size", minimum=1)
        row = cls(name=name, device=info["device"], transfer=info["transfer"], bytes=int(size),
                  pin_memory=info["pin_memory"], non_blocking=info["non_blocking"],
                  copies_per_round=int(_finite(info.get("copies_per_round", 1), "copies_per_round", minimum=1)),
                  batch_size=batch, measurement=None,
                  pcie_theoretical_gb_s=_finite(info.get("pcie_theoretical_gb_s"), "pcie_theoretical_gb_s", above=0),
                  telemetry=telemetry_from(info))
        return dataclasses.replace(row, measurement=measurement_from(info, row.id))


@dataclass(frozen=True)
class AccuracyRow(ConfigRow):
    """Time to a validation accuracy: one timed run of training epochs (no rounds, so never compared)."""

    KINDS: ClassVar[tuple[str, ...]] = ("accuracy",)
    target_accuracy: float = 0.0
    reached: bool = False
    epochs: int = 0
    seconds: float = 0.0  # training and validation, all epochs
    seconds_to_target: float | None = None
    train_seconds: float = 0.0
    val_accuracy: float = 0.0
    val_accuracy_by_epoch: tuple[float, ...] = ()
    train_samples: int = 0
    telemetry: Telemetry = field(default_factory=Telemetry)

    @property
    def kind(self) -> str:
        return "accuracy"

    @property
    def samples_per_s(self) -> float | None:
        return self.train_samples / self.train_seconds if self.train_seconds > 0 else None

    def to_info(self) -> dict:
        return {
            "kind": self.kind, **self.config.asdict(), "reference": False,  # the reference row is train's
            "tutorial_setting": self.config.reference, "target_accuracy": self.target_accuracy,
            "reached": self.reached, "epochs": self.epochs, "seconds_to_target": self.seconds_to_target,
            "seconds": self.seconds, "train_seconds": self.train_seconds, "val_accuracy": self.val_accuracy,
            "val_accuracy_by_epoch": list(self.val_accuracy_by_epoch), "train_samples": self.train_samples,
            "samples_per_s": self.samples_per_s, "rounds": 1, **dataclasses.asdict(self.telemetry),
        }

    @classmethod
    def from_info(cls, info: dict, name: str) -> AccuracyRow:
        reached = info["reached"]
        seconds_to_target = _finite(info.get("seconds_to_target"), "seconds_to_target", minimum=0,
                                    nullable=not reached)
        _finite(info.get("samples_per_s"), "samples_per_s", above=0, metric="samples_per_s")
        row = cls(
            name=name, config=config_from(info),
            target_accuracy=_finite(info["target_accuracy"], "target_accuracy", above=0, nullable=False),
            reached=reached, epochs=int(_finite(info["epochs"], "epochs", minimum=1, nullable=False)),
            seconds=_finite(info["seconds"], "seconds", above=0, nullable=False),
            seconds_to_target=seconds_to_target,
            train_seconds=_finite(info.get("train_seconds", info["seconds"]), "train_seconds", above=0, nullable=False),
            val_accuracy=_finite(info.get("val_accuracy"), "val_accuracy", minimum=0, nullable=reached) or 0.0,
            val_accuracy_by_epoch=tuple(info.get("val_accuracy_by_epoch") or ()),
            train_samples=int(_finite(info.get("train_samples", 0), "train_samples", minimum=0)),
            telemetry=telemetry_from(info))
        _finite(row.samples_per_s, "train_samples / train_seconds", metric="samples_per_s")
        return row


_THROUGHPUT_DERIVED = ("reference", "collapsed", "us_per_step", "launch_floor_us")
# Per kind, the keys to_info writes and from_info never uses (see the module's docstring).
DERIVED_KEYS: dict[str, tuple[str, ...]] = {
    "train": _THROUGHPUT_DERIVED, "loader": _THROUGHPUT_DERIVED,
    "overhead": (*_THROUGHPUT_DERIVED, "overhead_pct", "overhead_limit_pct", "overhead_verdict", "bare_samples_per_s"),
    "transfer": ("us_per_copy", "pcie_fraction"),
    "accuracy": ("reference", "tutorial_setting", "samples_per_s", "rounds"),
}
ROW_TYPES: dict[str, type[Row]] = {kind: row_type for row_type in (ThroughputRow, TransferRow, AccuracyRow)
                                   for kind in row_type.KINDS}
SINCE_FORMAT_2 = ("steps_per_replay",)  # key fields a format-1 row lacks: their default holds for it
_JSON = {"str": str, "int": int, "bool": bool}
# The configuration keys every row of a config must have, with their JSON types (from BenchConfig's own fields).
CONFIG_KEYS = {item.name: _JSON[item.type] for item in dataclasses.fields(BenchConfig)
               if item.name in KEY_FIELDS and item.name not in SINCE_FORMAT_2}
# What each kind must have in extra_info, with the JSON type: the keys `compare` matches rows by, and the rounds.
REQUIRED_KEYS: dict[str, dict[str, type]] = {
    **{kind: {**CONFIG_KEYS, "samples_per_s_rounds": list} for kind in THROUGHPUT_KINDS},
    "transfer": {**{name: _JSON[item.type] for item in dataclasses.fields(TransferRow)
                    if (name := item.name) in TransferRow.KEY_FIELDS}, "bytes": int, "gb_s_rounds": list},
    "accuracy": {**CONFIG_KEYS, "target_accuracy": float, "reached": bool, "epochs": int, "seconds": float},
}
# Numbers a row may hold (null allowed), checked for their JSON type; their values are checked by from_info.
NUMBER_KEYS = ("first_batch_s", "epoch_start_s", "dataset_on_device_mib", "copies_per_round", "pcie_theoretical_gb_s",
               "kernels_per_step", "replayed_kernel_us",
               "seconds_to_target", "val_accuracy", "train_seconds", "train_samples", "iqr_pct", "us_per_copy",
               "pcie_fraction", "overhead_pct", *METRICS,
               *(key for key in TELEMETRY_KEYS if key != "telemetry_errors"))
ROUNDS_KEYS = (*(f"{metric}_rounds" for metric in METRICS), "yardstick_rounds", "bare_samples_per_s_rounds")


def row_from_info(info: dict, name: str) -> Row:
    """The typed row of a benchmark's extra_info; RowProblem when its numbers cannot be real."""
    row_type = ROW_TYPES.get(info.get("kind"))
    if row_type is None:
        raise RowProblem(f"kind {info.get('kind')!r} is not one this version knows")
    return row_type.from_info(info, name)


def unusable_row_id(name: str | None, info: dict) -> str:
    """A row's id from its extra_info even when the row itself is unusable."""
    return row_id(info.get("kind") or "unknown", parameter_of(name) or label_for(info))
