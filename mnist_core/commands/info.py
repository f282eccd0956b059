"""`mnist-bench info`: the hardware, versions and dataset the numbers would come from."""

from __future__ import annotations

from rich.table import Table

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import DATASET_NAMES, DatasetLocation, check_dataset
from mnist_core.errors import DatasetError
from mnist_core.measure.hardware import summary_without_torch
from mnist_core.commands.output import command_console


HELP = "show the hardware, versions and the dataset a benchmark session would use"
DESCRIPTION = ("Show the CPU, GPU, driver, torch and the dataset a benchmark session would use, and why that "
               "dataset. The hardware is shown even when no dataset is found. Quick: torch is not loaded (its "
               "versions come from its files, the GPU from the NVIDIA driver) and the dataset's files are checked, "
               "not loaded.")


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", choices=DATASET_NAMES, default=None,
                        help="dataset to look for (default: MNIST, else an installed Fashion-MNIST, else the "
                             "synthetic set)")
    parser.add_argument("--data-root", default=None, help="folder holding the IDX files (default: ./data, download, then the Debian location)")
    parser.add_argument("--no-download", action="store_true", help="never try to download the dataset")
    parser.add_argument("--device", default="cpu", help="device a run would use: cpu or cuda (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size a run would use (default: %(default)s)")
    parser.add_argument("--num-workers", type=int, default=2, help="DataLoader workers a run would use (default: %(default)s)")


def run(args) -> int:
    # torch is never imported here (it costs seconds): the machine is read from files and NVML, the dataset is
    # checked, not loaded; only a download loads torch (through torchvision).
    machine = summary_without_torch()
    # Validate the run settings before touching the files, so a bad flag fails fast.
    config = BenchConfig(device=args.device, dataset=args.dataset or "mnist", batch_size=args.batch_size,
                         num_workers=args.num_workers).check_runnable(lambda: machine["cuda_available"])
    try:
        (location, sizes), problem = check_dataset(args.dataset, args.data_root, download=not args.no_download), None
    except DatasetError as exc:
        (location, sizes), problem = (None, None), exc
    table = Table(title="mnist-bench info", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for label, value in [*_machine_rows(machine), *_dataset_rows(location, sizes)]:
        table.add_row(label, value)
    if location is not None:
        table.add_row("run settings", config.replace(dataset=location.name).label())
    command_console().print(table)
    if problem is not None:
        raise problem  # the hardware is shown; the dataset problem is the one-line error, exit 2
    return 0


def _threads(machine: dict) -> str:
    if machine["torch_threads"] is not None:
        return f"torch threads {machine['torch_threads']} (OMP_NUM_THREADS)"
    return "torch threads: its default, about one per core, not read as torch is not loaded"


def _gpu(machine: dict) -> str:
    if not machine["gpu_name"]:
        return "no CUDA GPU"
    memory = machine["gpu_memory_mib"]
    return (f"{machine['gpu_name']} x{machine['gpu_count'] or '?'}, "
            + (f"{memory:.0f} MiB, " if memory is not None else "memory unknown, ")
            + f"driver {machine['gpu_driver'] or 'unknown'} (CUDA {machine['gpu_cuda_driver'] or 'unknown'})")


def _machine_rows(machine: dict) -> list[tuple[str, str]]:
    cpu = (f"{machine['cpu_model']} ({machine['cpu_cores_available']} of {machine['cpu_cores']} cores available; "
           f"{_threads(machine)})")
    return [
        ("CPU", cpu),
        ("GPU", _gpu(machine)),
        ("torch", f"{machine['torch_version'] or 'not installed'} (CUDA build {machine['cuda_version'] or 'none'})"),
        ("torchvision", machine["torchvision_version"] or "not installed"),
    ]


def _dataset_rows(location: DatasetLocation | None, sizes: dict[str, int] | None) -> list[tuple[str, str]]:
    if location is None or sizes is None:
        return [("dataset", "not found (see the error below for how to get one)")]
    rows = [("dataset", f"{location.name}" + (f" at {location.path}" if location.path else " (generated here)")),
            ("source", f"{location.source} ({'downloaded now' if location.downloaded else 'not downloaded'})")]
    if location.reason:
        rows.append(("why this dataset", location.reason))
    rows.append(("splits", f"train {sizes['train']:,}, test {sizes['test']:,} images of 28x28"
                           + (", files validated" if location.path else "")))
    return rows
