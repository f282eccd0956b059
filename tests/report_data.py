"""A hand-made CPU+GPU run for the report's GPU code paths (this CI machine has no GPU).

The numbers follow the committed H100 run's in shape (docs/evidence/gpu-nvidia-h100-16core/): the tutorial's DataLoader path is barely faster
on the GPU at batch 128, resident data and CUDA graphs are far faster, pinned copies beat pageable. Rows are
built with the suite's own row types, so the file is exactly what a session writes (format 2): each row's
eight rounds paired with its device's yardstick, the same drift pattern hitting both, fixed small noise.
"""

from __future__ import annotations

import copy

from mnist_core.core.config import BenchConfig, tutorial
from mnist_core.measure.copy_sizes import transfer_name
from mnist_core.measure.measurement import Measurement
from mnist_core.measure.profiles import transfer_label
from mnist_core.measure.telemetry import Telemetry
from mnist_core.runs.rows import ThroughputRow, TransferRow
from mnist_core.runs.runfile import FORMAT_VERSION, SECTION

GPU_NAME = "NVIDIA H100 80GB HBM3"
PCIE_GB_S = 3.938 * 16  # gen5 x16
BATCH_BYTES = 28 * 28 * 4
DRIFT = (1.0, 0.9, 1.1, 0.95, 1.05, 0.85, 1.15, 1.0)  # the machine's speed over a row's rounds
NOISE = (1.0, 0.99, 1.01, 0.995, 1.005, 1.0, 0.985, 1.015)  # each round's own noise

# (device, batch) -> DataLoader samples/s with pin+non_blocking, 2 workers
DATALOADER = {("cpu", 32): 9_000, ("cpu", 128): 12_500, ("cpu", 512): 14_000, ("cpu", 2048): 15_000,
              ("cuda", 32): 7_200, ("cuda", 128): 13_600, ("cuda", 512): 21_000, ("cuda", 2048): 30_000}
RESIDENT = {("cpu", 32): 90_000, ("cpu", 128): 170_000, ("cpu", 512): 240_000, ("cpu", 2048): 260_000,
            ("cuda", 32): 60_000, ("cuda", 128): 210_000, ("cuda", 512): 800_000, ("cuda", 2048): 3_000_000}
GRAPH = {32: 400_000, 128: 1_480_000, 512: 5_000_000, 2048: 12_000_000}
PIN_GAIN = 1.38  # pin_memory on vs off at 2 workers, non_blocking on
NON_BLOCKING_GAIN = 1.02
WORKERS_GAIN = {0: 0.6, 2: 1.0}
YARDSTICK = {"cpu": DATALOADER[("cpu", 128)], "cuda": DATALOADER[("cuda", 128)]}


def _telemetry(device: str, util: float | None) -> Telemetry:
    if device == "cpu":
        return Telemetry()
    return Telemetry(torch_peak_allocated_mib=12.5, torch_peak_reserved_mib=22.0, gpu_util_mean_pct=util,
                     gpu_util_max_pct=min(100.0, util * 1.5), gpu_mem_used_max_mib=1400.0, gpu_power_mean_w=90.0 + util,
                     gpu_sm_clock_mean_mhz=1980.0, pcie_rx_mean_mb_s=120.0, pcie_tx_mean_mb_s=900.0, pcie_link_gen=5,
                     pcie_link_width=16, telemetry_samples=20, telemetry_window_s=1.0, telemetry_untimed_rounds=0)


def _rounds(value: float, spread: float = 1.0) -> tuple[float, ...]:
    return tuple(value * drift * (1 + (noise - 1) * spread) for drift, noise in zip(DRIFT, NOISE))


def throughput_bench(kind: str, device: str, loader: str, batch: int, samples_per_s: float, *, model: str = "mlp",
                     workers: int = 2, pin: bool = True, non_blocking: bool = True, util: float = 30.0,
                     spread: float = 1.0) -> dict:
    config = BenchConfig(device=device, dataset="fashion-mnist", model=model, loader=loader, batch_size=batch,
                         num_workers=workers, pin_memory=pin, non_blocking=non_blocking)
    reference = kind == "train" and config == tutorial(device, "fashion-mnist")
    yardstick_device = "cpu" if reference and device == "cuda" else (None if reference else device)
    yardstick = f"train/{tutorial(yardstick_device).label()}" if yardstick_device else None
    measurement = Measurement("samples_per_s", _rounds(samples_per_s, spread), yardstick,
                              _rounds(YARDSTICK[yardstick_device], 0.5) if yardstick_device else (),
                              stop_reason="converged: ±1.0% after 8 rounds")
    test = {"train": "test_train", "loader": "test_loader"}[kind]
    name = f"{test}[{config.label()}]"
    row = ThroughputRow(name=name, row_kind=kind, config=config, measurement=measurement, first_batch_s=0.01,
                        telemetry=_telemetry(device, util))
    return {"name": name, "group": kind, "extra_info": row.to_info(),
            "stats": {"median": 1 / samples_per_s, "rounds": measurement.rounds,  # seconds per sample (bench/replay.py)
                      "data": [1 / rate for rate in measurement.rates]}}


def transfer_bench(pinned: bool, non_blocking: bool, gb_s: float, batch: int | None = None,
                   block_mib: int | None = None) -> dict:
    nbytes = batch * BATCH_BYTES if batch else block_mib * 1024 * 1024
    case = {"batch_size": batch} if batch else {"block_mib": block_mib}
    label = transfer_label({**case, "pinned": pinned, "non_blocking": non_blocking})
    row = TransferRow(name=f"test_h2d_copy[{label}]", transfer=transfer_name(batch, block_mib), bytes=nbytes,
                      pin_memory=pinned, non_blocking=non_blocking, copies_per_round=100, batch_size=batch,
                      measurement=Measurement("gb_s", tuple(gb_s * noise for noise in NOISE)),
                      pcie_theoretical_gb_s=PCIE_GB_S, telemetry=_telemetry("cuda", 95.0))
    return {"name": row.name, "group": "transfer", "extra_info": row.to_info(), "stats": {"rounds": 8}}


def benchmarks() -> list[dict]:
    out = []
    for device in ("cpu", "cuda"):
        for batch in (32, 128, 512, 2048):
            base = DATALOADER[(device, batch)]
            for workers in (0, 2):
                variants = [(True, True)] if device == "cpu" else [(True, True), (True, False), (False, True),
                                                                   (False, False)]
                for pin, non_blocking in variants:
                    value = base * WORKERS_GAIN[workers]
                    if device == "cuda":
                        value /= 1 if pin else PIN_GAIN
                        value /= 1 if non_blocking else NON_BLOCKING_GAIN
                    out.append(throughput_bench("train", device, "dataloader", batch, value, workers=workers, pin=pin,
                                                non_blocking=non_blocking, util=4.0))
            out.append(throughput_bench("train", device, "resident", batch, RESIDENT[(device, batch)], util=35.0))
            if device == "cuda":
                out.append(throughput_bench("train", device, "resident-graph", batch, GRAPH[batch], util=90.0,
                                            spread=20.0 if batch == 32 else 1.0))
        for batch, value in ((128, 4_900 if device == "cpu" else 68_000), (512, 5_200 if device == "cpu" else 150_000)):
            out.append(throughput_bench("train", device, "resident", batch, value, model="cnn", util=95.0))
        for workers in (0, 2):
            out.append(throughput_bench("loader", device, "dataloader", 128, 20_000 * (1 + workers), workers=workers))
        out.append(throughput_bench("loader", device, "resident", 128, 2_000_000))
    for batch, pinned_gb_s, pageable_gb_s in ((128, 40.0, 9.8), (4096, 47.0, 18.0)):
        for pinned, gb_s in ((True, pinned_gb_s), (False, pageable_gb_s)):
            for non_blocking in (True, False):
                out.append(transfer_bench(pinned, non_blocking, gb_s * (1.0 if non_blocking else 0.97), batch=batch))
    for pinned, gb_s in ((True, 49.0), (False, 20.0)):
        for non_blocking in (True, False):
            out.append(transfer_bench(pinned, non_blocking, gb_s, block_mib=64))
    return out


def gpu_run(complete: bool = True) -> dict:
    """A whole run file (dict) from an H100 machine, CPU and GPU rows."""
    return {
        "machine_info": {"cpu_model": "Intel Xeon Platinum 8480+", "cpu_cores": 16, "cpu_cores_available": 16,
                         "torch_threads": 16, "torch_version": "2.11.0+cu128", "torchvision_version": "0.26.0",
                         "python_version": "3.12.3", "platform": "Linux", "cuda_available": True,
                         "cuda_version": "12.8", "gpu_count": 1, "gpu_name": GPU_NAME, "gpu_memory_mib": 81_559.0,
                         "gpu_driver": "570.124.06", "gpu_cuda_driver": "12.8", "pcie_link_gen": 5,
                         "pcie_link_width": 16, "pcie_theoretical_gb_s": PCIE_GB_S, "node": "h100"},
        "benchmarks": benchmarks(),
        "datetime": "2026-11-20T10:00:00+00:00",
        "version": "5.1.0",
        SECTION: {"format_version": FORMAT_VERSION, "profile": "default", "devices": ["cpu", "cuda"],
                  "dataset": {"name": "fashion-mnist", "path": "/data/fashion-mnist", "source": "given",
                              "downloaded": False, "train_size": 60_000, "test_size": 10_000},
                  "accuracy_target": 0.84, "started_at": "2026-11-20T10:00:00+00:00", "complete": complete,
                  "interrupted": not complete, "skipped": [], "failed": [], "command": "pytest --benchmark-only"},
    }


def relabelled(run: dict, **machine_info) -> dict:
    """A copy of `run` as if it came from other hardware."""
    out = copy.deepcopy(run)
    out["machine_info"].update(machine_info)
    return out

