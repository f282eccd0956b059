"""Benchmark profiles and the configuration matrix each one runs.

quick:   CI-sized (the whole session <= 90 s on a 2-core CPU machine).
default: the questions users ask, <= 10 min on a 2-core CPU or a T4-class GPU machine.
full:    the whole matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.core.config import BenchConfig
from mnist_core.errors import ConfigError
from mnist_core.measure.hardware import cores_available

ENV_VAR = "MNIST_BENCH_PROFILE"
DEFAULT_PROFILE = "default"
# Validation accuracy each dataset reaches in a few epochs; the synthetic set is not a learning task to time.
ACCURACY_TARGETS = {"mnist": 0.95, "fashion-mnist": 0.84, "synthetic": None}


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int
    warmup_rounds: int
    samples_per_round: int
    batch_sizes: tuple[int, ...]
    workers: tuple[int, ...]
    loader_workers: tuple[int, ...]
    cnn_batch_sizes: tuple[int, ...]
    transfer_batch_sizes: tuple[int, ...]
    transfer_block_mib: int
    accuracy_loaders: tuple[str, ...]
    accuracy_max_epochs: int
    overhead_rounds: int


PROFILES = {
    "quick": Profile("quick", rounds=3, warmup_rounds=1, samples_per_round=2_560, batch_sizes=(128,),
                     workers=(2,), loader_workers=(0, 2), cnn_batch_sizes=(128,),
                     transfer_batch_sizes=(128, 4096), transfer_block_mib=64,
                     accuracy_loaders=("resident",), accuracy_max_epochs=10, overhead_rounds=5),
    "default": Profile("default", rounds=5, warmup_rounds=1, samples_per_round=10_240,
                       batch_sizes=(32, 128, 512, 2048), workers=(0, 2), loader_workers=(0, 2, 4),
                       cnn_batch_sizes=(128, 512), transfer_batch_sizes=(32, 128, 512, 1024, 2048, 4096),
                       transfer_block_mib=64, accuracy_loaders=("dataloader", "resident"),
                       accuracy_max_epochs=10, overhead_rounds=7),
    "full": Profile("full", rounds=10, warmup_rounds=2, samples_per_round=25_600,
                    batch_sizes=(32, 64, 128, 256, 512, 1024, 2048, 4096), workers=(0, 2, 4, 8),
                    loader_workers=(0, 2, 4, 8), cnn_batch_sizes=(32, 128, 512, 2048),
                    transfer_batch_sizes=(32, 64, 128, 256, 512, 1024, 2048, 4096), transfer_block_mib=64,
                    accuracy_loaders=("dataloader", "resident", "resident-graph"), accuracy_max_epochs=20,
                    overhead_rounds=11),
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


def _pin_non_blocking_variants(device: str):
    """DataLoader (pin_memory, non_blocking) pairs that can differ on `device`: all four on CUDA, one on the CPU."""
    if device == "cuda":
        return [(True, True), (True, False), (False, True), (False, False)]
    return [(False, False)]


def reference_spec(device: str, dataset: str) -> dict:
    """The tutorial's own setting: MLP, dataloader, batch 128, 2 workers, pin_memory and non_blocking on."""
    return dict(device=device, dataset=dataset, model="mlp", loader="dataloader", batch_size=128,
                num_workers=2, pin_memory=True, non_blocking=True)


def train_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    specs = []
    for device in devices:
        specs.append(reference_spec(device, dataset))
        for batch_size in profile.batch_sizes:
            for workers in capped_workers(profile.workers):
                for pin, non_blocking in _pin_non_blocking_variants(device):
                    specs.append(dict(device=device, dataset=dataset, model="mlp", loader="dataloader",
                                      batch_size=batch_size, num_workers=workers, pin_memory=pin,
                                      non_blocking=non_blocking))
            specs.append(dict(device=device, dataset=dataset, model="mlp", loader="resident", batch_size=batch_size))
            if device == "cuda" or batch_size == 128:  # on the CPU: one visible skip with the reason
                specs.append(dict(device=device, dataset=dataset, model="mlp", loader="resident-graph",
                                  batch_size=batch_size))
        if 128 not in profile.batch_sizes:
            specs.append(dict(device=device, dataset=dataset, model="mlp", loader="resident", batch_size=128))
        for batch_size in profile.cnn_batch_sizes:
            specs.append(dict(device=device, dataset=dataset, model="cnn", loader="resident", batch_size=batch_size))
    return _finish(specs, profile)


def loader_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    specs = []
    for device in devices:
        for workers in capped_workers(profile.loader_workers):
            for pin in sorted({pin for pin, _ in _pin_non_blocking_variants(device)}, reverse=True):
                specs.append(dict(device=device, dataset=dataset, loader="dataloader", batch_size=128,
                                  num_workers=workers, pin_memory=pin, non_blocking=device == "cuda"))
        specs.append(dict(device=device, dataset=dataset, loader="resident", batch_size=128))
    return _finish(specs, profile)


def accuracy_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    specs = []
    for device in devices:
        for loader in profile.accuracy_loaders:
            spec = reference_spec(device, dataset) if loader == "dataloader" else dict(
                device=device, dataset=dataset, loader=loader, batch_size=128)
            specs.append(spec)
    return _finish(specs, profile)


def overhead_specs(profile: Profile, devices: tuple[str, ...], dataset: str) -> list[dict]:
    specs = []
    for device in devices:
        specs.append(reference_spec(device, dataset))
        specs.append(dict(device=device, dataset=dataset, loader="resident", batch_size=128))
    return _finish(specs, profile)


def _finish(specs: list[dict], profile: Profile) -> list[dict]:
    """Fill in the round size and drop specs that collapse to one already listed."""
    unique: dict[tuple, dict] = {}
    for spec in specs:
        spec = {**spec, "samples_per_round": profile.samples_per_round}
        key = _collapsed_key(spec)
        unique.setdefault(key, spec)
    return list(unique.values())


def _collapsed_key(spec: dict) -> tuple:
    """What really runs: on the CPU pin_memory/non_blocking can't act; resident pipelines have no workers."""
    spec = dict(spec)
    if spec.get("device") == "cpu":
        spec["pin_memory"] = spec["non_blocking"] = False
    if spec.get("loader", "dataloader") != "dataloader":
        for field in ("num_workers", "pin_memory", "non_blocking"):
            spec.pop(field, None)
    return tuple(sorted(spec.items()))


def build_config(spec: dict) -> BenchConfig:
    """A BenchConfig as it really runs (collapsed); raises ConfigError (e.g. cuda without a GPU)."""
    if spec.get("loader", "dataloader") != "dataloader":
        spec = {**spec, "num_workers": 0, "pin_memory": False, "non_blocking": False}
    return BenchConfig(**spec).collapsed()


def transfer_cases(profile: Profile) -> list[dict]:
    """Host->device copies: each batch size and one large block, pinned/pageable x non_blocking/blocking."""
    sizes = [{"batch_size": b} for b in profile.transfer_batch_sizes] + [{"block_mib": profile.transfer_block_mib}]
    return [{**size, "pinned": pinned, "non_blocking": non_blocking}
            for size in sizes for pinned in (True, False) for non_blocking in (True, False)]


def transfer_label(case: dict) -> str:
    size = f"bs{case['batch_size']}" if "batch_size" in case else f"{case['block_mib']}MiB"
    return f"cuda-h2d-{size}-{'pinned' if case['pinned'] else 'pageable'}-{'nb' if case['non_blocking'] else 'blk'}"
