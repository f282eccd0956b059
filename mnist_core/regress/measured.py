"""The comparable benchmarks of a run: each one keyed by its configuration, with its per-round numbers.

Benchmarks are matched across runs by what was measured (kind + configuration), never by test
name or position, so a renamed test or a reordered matrix still lines up. Throughput rows
(train, loader, overhead, ...) are compared in samples/s, host-to-device copies in GB/s; both
are higher-is-better. Time-to-accuracy rows are one timed run each: with no rounds there is
no way to tell a change from noise, so they are listed as not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from mnist_core.core.config import label_for
from mnist_core.errors import RunFileError

# BenchConfig.key(): what identifies a configuration across runs (seed and round size excluded).
CONFIG_FIELDS = ("device", "model", "hidden_width", "loader", "batch_size", "num_workers", "pin_memory",
                 "non_blocking")
TRANSFER_FIELDS = ("device", "transfer", "pin_memory", "non_blocking")
UNITS = {"samples_per_s_rounds": "samples/s", "gb_s_rounds": "GB/s"}
TRANSFER_DEVICE = "cuda"  # bench_transfer.py copies host -> cuda only


@dataclass(frozen=True)
class Measured:
    """One benchmark of one run: what it measured and its per-round throughput (higher is better)."""

    key: tuple
    kind: str
    label: str
    unit: str
    rounds: tuple[float, ...]
    fields: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def median(self) -> float:
        return median(self.rounds)

    @property
    def name(self) -> str:
        return f"{self.kind} {self.label}"


@dataclass(frozen=True)
class RunBenchmarks:
    by_key: dict  # key -> Measured, in the run's order
    not_compared: dict  # kind -> count of rows without per-round throughput (e.g. accuracy)


def measured(extra_info: dict) -> Measured | None:
    """The comparable form of one benchmark's extra_info, or None (no per-round throughput)."""
    kind = extra_info.get("kind")
    if kind == "transfer" or "gb_s_rounds" in extra_info:
        rounds_key, fields = "gb_s_rounds", TRANSFER_FIELDS
    elif "samples_per_s_rounds" in extra_info:
        rounds_key, fields = "samples_per_s_rounds", CONFIG_FIELDS
    else:
        return None
    rounds = tuple(float(value) for value in extra_info.get(rounds_key) or () if value and value > 0)
    if not kind or not rounds:
        return None
    values = {name: extra_info.get(name) for name in fields}
    return Measured(key=(kind, *values.values()), kind=kind, label=_label(values, rounds_key), unit=UNITS[rounds_key],
                    rounds=rounds, fields=values)


def transfer_name(batch_size: int | None = None, block_mib: int | None = None) -> str:
    """A copy's `transfer` field as transfer.build_transfer names it: batch128, block64MiB."""
    return f"batch{batch_size}" if batch_size is not None else f"block{block_mib}MiB"


def outcome_key(kind: str, config: dict) -> tuple | None:
    """The key a skipped or failed benchmark would have had as a row, from the config its entry records.

    Throughput and accuracy entries record BenchConfig.asdict() (the row's own field names); a copy's
    entry records its transfer case ({"batch_size" or "block_mib", "pinned", "non_blocking"}), whose
    fields are named differently from the row's. None when the config says too little to tell.
    """
    if kind != "transfer":
        return (kind, *(config.get(name) for name in CONFIG_FIELDS))
    transfer = config.get("transfer")
    if transfer is None:
        if config.get("batch_size") is None and config.get("block_mib") is None:
            return None
        transfer = transfer_name(config.get("batch_size"), config.get("block_mib"))
    values = {"device": config.get("device", TRANSFER_DEVICE), "transfer": transfer,
              "pin_memory": config.get("pin_memory", config.get("pinned")), "non_blocking": config.get("non_blocking")}
    return (kind, *(values[name] for name in TRANSFER_FIELDS))


def _label(values: dict, rounds_key: str) -> str:
    if rounds_key == "gb_s_rounds":
        return (f"{values['device']}-h2d-{values['transfer']}-{'pinned' if values['pin_memory'] else 'pageable'}-"
                f"{'nb' if values['non_blocking'] else 'blk'}")
    return label_for({name: value for name, value in values.items() if value is not None})


def run_benchmarks(run: dict, source: str = "run") -> RunBenchmarks:
    """Every comparable benchmark of a loaded run, by configuration key."""
    by_key: dict[tuple, Measured] = {}
    not_compared: dict[str, int] = {}
    for bench in run["benchmarks"]:
        info = bench.get("extra_info") or {}
        row = measured(info)
        if row is None:
            kind = info.get("kind") or bench.get("group") or "unknown"
            not_compared[kind] = not_compared.get(kind, 0) + 1
            continue
        if row.key in by_key:
            raise RunFileError(f"{source}: two benchmarks measured {row.name}; give the run file of one session")
        by_key[row.key] = row
    return RunBenchmarks(by_key, not_compared)
