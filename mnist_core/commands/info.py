"""`mnist-bench info`: the hardware, versions and dataset the numbers would come from."""

from __future__ import annotations

from rich.table import Table

from ..config import BenchConfig
from ..data import SPECS, load_dataset
from ..hardware import machine_summary
from .output import command_console


def register(subparsers) -> None:
    parser = subparsers.add_parser("info", help="show hardware, versions and the dataset found")
    parser.add_argument("--dataset", choices=sorted(SPECS), default="mnist", help="dataset to look for (default: %(default)s)")
    parser.add_argument("--data-root", default=None, help="folder holding the IDX files (default: ./data, download, then the Debian location)")
    parser.add_argument("--no-download", action="store_true", help="never try to download the dataset")
    parser.add_argument("--device", default="cpu", help="device a run would use: cpu or cuda (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size a run would use (default: %(default)s)")
    parser.add_argument("--num-workers", type=int, default=2, help="DataLoader workers a run would use (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args) -> int:
    # Validate the run settings before touching the files, so a bad flag fails fast.
    config = BenchConfig(device=args.device, dataset=args.dataset, batch_size=args.batch_size,
                         num_workers=args.num_workers)
    data = load_dataset(args.dataset, args.data_root, download=not args.no_download)
    machine = machine_summary()
    table = Table(title="mnist-bench info", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for label, value in _rows(machine, data):
        table.add_row(label, value)
    table.add_row("run settings", config.collapsed().label())
    command_console().print(table)
    return 0


def _rows(machine: dict, data) -> list[tuple[str, str]]:
    cpu = (f"{machine['cpu_model']} ({machine['cpu_cores_available']} of {machine['cpu_cores']} cores available, "
           f"torch threads {machine['torch_threads']})")
    if machine["gpu_name"]:
        gpu = (f"{machine['gpu_name']} x{machine['gpu_count']}, {machine['gpu_memory_mib']:.0f} MiB, "
               f"driver {machine['gpu_driver'] or 'unknown'} (CUDA {machine['gpu_cuda_driver'] or 'unknown'})")
    else:
        gpu = "no CUDA GPU"
    location = data.location
    return [
        ("CPU", cpu),
        ("GPU", gpu),
        ("torch", f"{machine['torch_version']} (CUDA build {machine['cuda_version'] or 'none'})"),
        ("torchvision", machine["torchvision_version"]),
        ("dataset", f"{location.name} at {location.path}"),
        ("source", f"{location.source} ({'downloaded now' if location.downloaded else 'not downloaded'})"),
        ("splits", f"train {data.sizes['train']:,}, test {data.sizes['test']:,} images of 28x28, files validated"),
    ]
