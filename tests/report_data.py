"""A hand-made CPU+GPU run for the report's GPU code paths (this CI machine has no GPU).

The numbers follow DESIGN.md's H100 measurements in shape: the tutorial's DataLoader path is no
faster on the GPU at batch 128, resident data and CUDA graphs are, pinned copies beat pageable.
"""

from __future__ import annotations

import copy

from mnist_core.core.config import label_for
from mnist_core.measure.profiles import transfer_label
from mnist_core.runs.runfile import FORMAT_VERSION, SECTION

GPU_NAME = "NVIDIA H100 80GB HBM3"
PCIE_GB_S = 3.938 * 16  # gen5 x16
BATCH_BYTES = 28 * 28 * 4

# (device, batch) -> DataLoader samples/s with pin+non_blocking, 2 workers
DATALOADER = {("cpu", 32): 9_000, ("cpu", 128): 12_500, ("cpu", 512): 14_000, ("cpu", 2048): 15_000,
              ("cuda", 32): 7_200, ("cuda", 128): 12_600, ("cuda", 512): 21_000, ("cuda", 2048): 30_000}
RESIDENT = {("cpu", 32): 90_000, ("cpu", 128): 170_000, ("cpu", 512): 240_000, ("cpu", 2048): 260_000,
            ("cuda", 32): 60_000, ("cuda", 128): 210_000, ("cuda", 512): 800_000, ("cuda", 2048): 3_000_000}
GRAPH = {32: 400_000, 128: 1_480_000, 512: 5_000_000, 2048: 12_000_000}
PIN_GAIN = 1.38  # pin_memory on vs off at 2 workers, non_blocking on
NON_BLOCKING_GAIN = 1.05
WORKERS_GAIN = {0: 0.6, 2: 1.0}


def _telemetry(device: str, util: float | None) -> dict:
    keys = ("torch_peak_allocated_mib", "torch_peak_reserved_mib", "gpu_util_mean_pct", "gpu_util_max_pct",
            "gpu_mem_used_max_mib", "gpu_power_mean_w", "gpu_sm_clock_mean_mhz", "pcie_rx_mean_mb_s",
            "pcie_tx_mean_mb_s", "pcie_link_gen", "pcie_link_width")
    if device == "cpu":
        return dict.fromkeys(keys)
    return {"torch_peak_allocated_mib": 12.5, "torch_peak_reserved_mib": 22.0, "gpu_util_mean_pct": util,
            "gpu_util_max_pct": min(100.0, util * 1.5), "gpu_mem_used_max_mib": 1400.0, "gpu_power_mean_w": 90.0 + util,
            "gpu_sm_clock_mean_mhz": 1980.0, "pcie_rx_mean_mb_s": 120.0, "pcie_tx_mean_mb_s": 900.0,
            "pcie_link_gen": 5, "pcie_link_width": 16}


def throughput_bench(kind: str, device: str, loader: str, batch: int, samples_per_s: float, *, model: str = "mlp",
                     workers: int = 2, pin: bool = True, non_blocking: bool = True, util: float = 30.0,
                     spread: float = 0.02) -> dict:
    cpu = device == "cpu"
    dataloader = loader == "dataloader"
    spec = dict(device=device, dataset="fashion-mnist", model=model, hidden_width=32, loader=loader, batch_size=batch,
                num_workers=workers if dataloader else 0, pin_memory=pin and dataloader and not cpu,
                non_blocking=non_blocking and dataloader and not cpu, samples_per_round=10_240, seed=0,
                torch_threads=None, lr=0.5 if model == "mlp" else 0.05)
    reference = (kind == "train" and model == "mlp" and dataloader and batch == 128 and workers == 2
                 and spec["pin_memory"] == (not cpu) and spec["non_blocking"] == (not cpu))
    rounds = [samples_per_s * (1 - spread), samples_per_s, samples_per_s * (1 + spread)]
    info = {"kind": kind, "samples_per_s": samples_per_s, "samples_per_s_rounds": rounds, **spec,
            "first_batch_s": 0.01, "reference": reference, "rounds": 3,
            "collapsed": ["pin_memory", "non_blocking"] if cpu else [], **_telemetry(device, util)}
    test = {"train": "test_train", "loader": "test_loader"}[kind]
    return {"name": f"{test}[{label_for(spec)}]", "group": kind, "extra_info": info,
            "stats": {"median": 10_240 / samples_per_s, "rounds": 3}}


def transfer_bench(pinned: bool, non_blocking: bool, gb_s: float, batch: int | None = None,
                   block_mib: int | None = None) -> dict:
    nbytes = batch * BATCH_BYTES if batch else block_mib * 1024 * 1024
    case = {"batch_size": batch} if batch else {"block_mib": block_mib}
    label = transfer_label({**case, "pinned": pinned, "non_blocking": non_blocking})
    info = {"kind": "transfer", "device": "cuda", "transfer": f"batch{batch}" if batch else f"block{block_mib}MiB",
            "bytes": nbytes, "pin_memory": pinned, "non_blocking": non_blocking, "copies_per_round": 100,
            "gb_s": gb_s, "gb_s_rounds": [gb_s * 0.99, gb_s, gb_s * 1.01], "us_per_copy": nbytes / (gb_s * 1e9) * 1e6,
            "pcie_theoretical_gb_s": PCIE_GB_S, "pcie_fraction": gb_s / PCIE_GB_S, "rounds": 3,
            "pcie_link_gen": 5, "pcie_link_width": 16, "batch_size": batch}
    return {"name": f"test_h2d_copy[{label}]", "group": "transfer", "extra_info": info, "stats": {"rounds": 3}}


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
                                            spread=0.2 if batch == 32 else 0.02))
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
