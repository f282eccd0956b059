"""Benchmark profiles and the configuration matrix each one runs.

quick:   CI-sized (the whole session <= 90 s on a 2-core CPU machine).
default: the questions users ask, <= 10 min on a 2-core CPU or a T4-class GPU machine.
full:    the whole matrix.
Each profile's throughput rows share a time budget: a row's time cap is its share of what is left, so a
machine with more rows (a GPU adds the CUDA matrix) gets shorter rows, not a longer session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mnist_core.core.config import TUTORIAL_SETTING, BenchConfig, label_for
from mnist_core.core.pipelines import PIPELINES, RESIDENT, RESIDENT_COMPILED
from mnist_core.errors import ConfigError
from mnist_core.measure.hardware import cores_available
from mnist_core.measure.rounds import RoundPolicy

ENV_VAR = "MNIST_BENCH_PROFILE"
DEFAULT_PROFILE = "default"
# Validation accuracy each dataset reaches in a few epochs; the synthetic set is not a learning task to time.
ACCURACY_TARGETS = {"mnist": 0.95, "fashion-mnist": 0.84, "synthetic": None}
TUTORIAL_BATCH = TUTORIAL_SETTING["batch_size"]


@dataclass(frozen=True)
class Profile:
    name: str
    warmup_rounds: int
    samples_per_round: int
    rounds: RoundPolicy  # how each throughput row takes its rounds (the time cap is set per row, see row_cap_s)
    round_s: tuple[float, float]  # a round's steps are scaled to last within these (see Workload.fit_rounds)
    budget_s: float  # the time the throughput rows may take in all, on any machine
    row_cap_s: tuple[float, float]  # each row's time cap stays within these
    batch_sizes: tuple[int, ...]
    workers: tuple[int, ...]
    loader_workers: tuple[int, ...]
    cnn_batch_sizes: tuple[int, ...]
    transfer_batch_sizes: tuple[int, ...]
    transfer_block_mib: int
    accuracy_loaders: tuple[str, ...]
    accuracy_max_epochs: int
    # resident-compiled: (batch size, steps per CUDA graph replay) pairs on CUDA; on the CPU, batch sizes only, where
    # it measured faster than the eager step on the 2-core machine (2048: +29%; 128: no gain; README)
    compiled: tuple[tuple[int, int], ...] = ()
    compiled_on_cpu: tuple[int, ...] = ()

    def row_policy(self, remaining_s: float, rows_left: int) -> RoundPolicy:
        """The round policy of the next row: an equal share of the budget that is left, within row_cap_s."""
        low, high = self.row_cap_s
        share = remaining_s / max(rows_left, 1)
        return replace(self.rounds, max_seconds=min(high, max(low, share)))


def _policy(min_rounds: int, max_rounds: int, target_pct: float) -> RoundPolicy:
    return RoundPolicy(min_rounds=min_rounds, max_rounds=max_rounds, target_pct=target_pct, max_seconds=0.0)


PROFILES = {
    "quick": Profile("quick", warmup_rounds=1, samples_per_round=2_560, rounds=_policy(6, 12, 5.0), round_s=(0.1, 0.5),
                     budget_s=40, row_cap_s=(2.0, 6.0), batch_sizes=(128,), workers=(2,), loader_workers=(0, 2),
                     cnn_batch_sizes=(128,), transfer_batch_sizes=(128, 4096), transfer_block_mib=64,
                     accuracy_loaders=("resident",), accuracy_max_epochs=10, compiled=((128, 8),)),
    "default": Profile("default", warmup_rounds=1, samples_per_round=10_240, rounds=_policy(6, 30, 2.0),
                       round_s=(0.2, 1.5),
                       budget_s=390, row_cap_s=(3.0, 20.0), batch_sizes=(32, 128, 512, 2048), workers=(0, 2),
                       loader_workers=(0, 2, 4), cnn_batch_sizes=(128, 512),
                       transfer_batch_sizes=(32, 128, 512, 1024, 2048, 4096), transfer_block_mib=64,
                       accuracy_loaders=("dataloader", "resident"), accuracy_max_epochs=10,
                       compiled=((128, 1), (128, 8), (128, 32), (2048, 8)), compiled_on_cpu=(2048,)),
    "full": Profile("full", warmup_rounds=2, samples_per_round=25_600, rounds=_policy(10, 60, 1.0), round_s=(0.4, 3.0),
                    budget_s=1800, row_cap_s=(5.0, 40.0), batch_sizes=(32, 64, 128, 256, 512, 1024, 2048, 4096),
                    workers=(0, 2, 4, 8), loader_workers=(0, 2, 4, 8), cnn_batch_sizes=(32, 128, 512, 2048),
                    transfer_batch_sizes=(32, 64, 128, 256, 512, 1024, 2048, 4096), transfer_block_mib=64,
                    accuracy_loaders=("dataloader", "resident", "resident-graph", "resident-compiled"),
                    accuracy_max_epochs=20, compiled=((128, 1), (128, 8), (128, 32), (128, 128), (2048, 8)),
                    compiled_on_cpu=(128, 2048)),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}") from None


def capped_workers(workers: tuple[int, ...], cores: int | None = None) -> tuple[int, ...]:
    """Worker counts above the cores this process may use measure contention, not loading: cap them."""
    cores = cores_available() if cores is None else cores
    return tuple(sorted({min(w, cores) for w in workers}))


TRANSFER_SETTINGS = ((True, True), (True, False), (False, True), (False, False))  # (pin_memory, non_blocking)


def train_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    """The tutorial's setting first, then every DataLoader setting per batch size, the resident pipelines
    and the CNN. Settings that cannot act on a device (pinning on the CPU) collapse into one config."""
    specs = []
    for device in devices:
        specs.append(dict(device=device, dataset=dataset))  # the tutorial's setting (BenchConfig's defaults)
        for batch_size in profile.batch_sizes:
            for workers in capped_workers(profile.workers):
                specs += [dict(device=device, dataset=dataset, batch_size=batch_size, num_workers=workers,
                               pin_memory=pin, non_blocking=non_blocking) for pin, non_blocking in TRANSFER_SETTINGS]
            # a pipeline that needs CUDA, on the CPU: one visible skip with the reason
            specs += [dict(device=device, dataset=dataset, loader=pipeline.name, batch_size=batch_size)
                      for pipeline in PIPELINES.values() if pipeline.swept
                      and (device == "cuda" or not pipeline.needs_cuda_for or batch_size == TUTORIAL_BATCH)]
        specs.append(dict(device=device, dataset=dataset, loader=RESIDENT.name, batch_size=TUTORIAL_BATCH))
        if device == "cuda":
            specs += [dict(device=device, dataset=dataset, loader=RESIDENT_COMPILED.name, batch_size=batch_size,
                           steps_per_replay=steps) for batch_size, steps in profile.compiled]
        else:
            specs += [dict(device=device, dataset=dataset, loader=RESIDENT_COMPILED.name, batch_size=batch_size)
                      for batch_size in profile.compiled_on_cpu]
        specs += [dict(device=device, dataset=dataset, model="cnn", loader=RESIDENT.name, batch_size=batch_size)
                  for batch_size in profile.cnn_batch_sizes]
    return specs


def loader_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    specs = []
    for device in devices:
        for workers in capped_workers(profile.loader_workers):
            specs += [dict(device=device, dataset=dataset, num_workers=workers, pin_memory=pin) for pin in (True, False)]
        specs.append(dict(device=device, dataset=dataset, loader=RESIDENT.name))
    return specs


def accuracy_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    return [dict(device=device, dataset=dataset, loader=loader) for device in devices for loader in profile.accuracy_loaders]


def overhead_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    """The tutorial's setting on each pipeline the bare loop is written for (its other settings as the tutorial's)."""
    return [dict(device=device, dataset=dataset, loader=pipeline.name) for device in devices
            for pipeline in PIPELINES.values() if pipeline.bare_loop]


@dataclass(frozen=True)
class Param:
    """One benchmark parameter: the config to run, or why it cannot run here."""

    id: str
    config: BenchConfig | None
    skip: str | None = None


def params(specs: list[dict], profile: Profile, **fixed) -> list[Param]:
    """The configs `specs` name (with the profile's round size and `fixed` fields), each once: specs that
    normalise to the same config run once. One that is invalid or cannot run here is a skip with the reason."""
    out: dict = {}
    for spec in specs:
        spec = {**spec, "samples_per_round": profile.samples_per_round, **fixed}
        try:
            config = BenchConfig(**spec)
        except ConfigError as exc:  # e.g. resident-graph on the CPU
            out.setdefault(label_for(spec), Param(label_for(spec), None, str(exc)))
            continue
        try:
            config.check_runnable()
        except ConfigError as exc:  # e.g. cuda on a machine without a GPU
            out.setdefault(config, Param(config.label(), None, str(exc)))
            continue
        out.setdefault(config, Param(config.label(), config))
    return list(out.values())


def transfer_cases(profile: Profile) -> list[dict]:
    """Host->device copies: each batch size and one large block, pinned/pageable x non_blocking/blocking."""
    sizes = [{"batch_size": b} for b in profile.transfer_batch_sizes] + [{"block_mib": profile.transfer_block_mib}]
    return [{**size, "pinned": pinned, "non_blocking": non_blocking}
            for size in sizes for pinned in (True, False) for non_blocking in (True, False)]


def transfer_label(case: dict) -> str:
    size = f"bs{case['batch_size']}" if "batch_size" in case else f"{case['block_mib']}MiB"
    return f"cuda-h2d-{size}-{'pinned' if case['pinned'] else 'pageable'}-{'nb' if case['non_blocking'] else 'blk'}"
