"""`mnist-bench info`: the hardware, versions and dataset the numbers would come from."""

from __future__ import annotations

from rich.table import Table

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import DATASET_NAMES, MnistData, load_dataset
from mnist_core.errors import DatasetError
from mnist_core.measure.hardware import machine_summary
from mnist_core.commands.output import command_console


HELP = "show the hardware, versions and the dataset a benchmark session would use"
DESCRIPTION = ("Show the CPU, GPU, driver, torch and the dataset a benchmark session would use, and why that "
               "dataset. The hardware is shown even when no dataset is found.")


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
    # Validate the run settings before touching the files, so a bad flag fails fast.
    config = BenchConfig(device=args.device, dataset=args.dataset or "mnist", batch_size=args.batch_size,
                         num_workers=args.num_workers).check_runnable()
    machine = machine_summary()
    try:
        data, problem = load_dataset(args.dataset, args.data_root, download=not args.no_download), None
    except DatasetError as exc:
        data, problem = None, exc
    table = Table(title="mnist-bench info", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for label, value in [*_machine_rows(machine), *_dataset_rows(data)]:
        table.add_row(label, value)
    if data is not None:
        table.add_row("run settings", config.replace(dataset=data.location.name).label())
    command_console().print(table)
    if problem is not None:
        raise problem  # the hardware is shown; the dataset problem is the one-line error, exit 2
    return 0


def _machine_rows(machine: dict) -> list[tuple[str, str]]:
    cpu = (f"{machine['cpu_model']} ({machine['cpu_cores_available']} of {machine['cpu_cores']} cores available, "
           f"torch threads {machine['torch_threads']})")
    if machine["gpu_name"]:
        gpu = (f"{machine['gpu_name']} x{machine['gpu_count']}, {machine['gpu_memory_mib']:.0f} MiB, "
               f"driver {machine['gpu_driver'] or 'unknown'} (CUDA {machine['gpu_cuda_driver'] or 'unknown'})")
    else:
        gpu = "no CUDA GPU"
    return [
        ("CPU", cpu),
        ("GPU", gpu),
        ("torch", f"{machine['torch_version']} (CUDA build {machine['cuda_version'] or 'none'})"),
        ("torchvision", machine["torchvision_version"]),
    ]


def _dataset_rows(data: MnistData | None) -> list[tuple[str, str]]:
    if data is None:
        return [("dataset", "not found (see the error below for how to get one)")]
    location = data.location
    rows = [("dataset", f"{location.name}" + (f" at {location.path}" if location.path else " (generated here)")),
            ("source", f"{location.source} ({'downloaded now' if location.downloaded else 'not downloaded'})")]
    if location.reason:
        rows.append(("why this dataset", location.reason))
    rows.append(("splits", f"train {data.sizes['train']:,}, test {data.sizes['test']:,} images of 28x28"
                           + (", files validated" if location.path else "")))
    return rows
