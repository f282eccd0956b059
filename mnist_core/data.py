"""Find, fetch and load MNIST or Fashion-MNIST; record where the files came from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DatasetError
from .idx import read_idx_pair


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    torchvision_folder: str  # ROOT/<folder>/raw/... in torchvision's layout
    torchvision_class: str
    system_dir: Path  # where a Debian package installs the four files flat
    debian_package: str | None


SPECS = {
    "mnist": DatasetSpec("mnist", "MNIST", "MNIST", Path("/usr/share/datasets/mnist"), None),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "FashionMNIST", "FashionMNIST",
        Path("/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist",
    ),
}
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
LOCAL_ROOT = Path("data")


@dataclass(frozen=True)
class DatasetLocation:
    """Where the files were found; travels with every result."""

    name: str
    path: str
    source: str  # "given" | "local" | "downloaded" | "system"
    downloaded: bool

    def asdict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MnistData:
    train_images: torch.Tensor  # uint8 [N, 28, 28]
    train_labels: torch.Tensor  # int64 [N]
    test_images: torch.Tensor
    test_labels: torch.Tensor
    location: DatasetLocation

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_labels), "test": len(self.test_labels)}


def spec_for(name: str) -> DatasetSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; use one of {', '.join(SPECS)}") from None


def _file_in(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_files(root: Path, spec: DatasetSpec) -> dict[str, Path] | None:
    """The four files under `root` in torchvision's layout or flat, or None when absent.

    Raises DatasetError when a layout holds some of the files but not all.
    """
    for folder in (root / spec.torchvision_folder / "raw", root):
        found = {key: _file_in(folder, stem) for key, stem in FILES.items()}
        present = [key for key, path in found.items() if path is not None]
        if len(present) == len(FILES):
            return found  # type: ignore[return-value]
        if present:
            missing = ", ".join(FILES[key] for key in FILES if found[key] is None)
            raise DatasetError(
                f"{folder}: {spec.name} is incomplete, missing {missing}; "
                "copy all four IDX files there or point --data-root elsewhere"
            )
    return None


def _download(spec: DatasetSpec, root: Path) -> str | None:
    """Let torchvision fetch the files into `root`; returns why it failed, or None."""
    import torchvision.datasets as tv_datasets

    dataset_class = getattr(tv_datasets, spec.torchvision_class)
    try:
        for train in (True, False):
            dataset_class(root=str(root), train=train, download=True)
    except Exception as exc:  # no network, mirror down, disk full: all mean "try the next source"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    return None


def _fixes(spec: DatasetSpec) -> str:
    fixes = [f"put the four IDX files in ./{LOCAL_ROOT}/{spec.torchvision_folder}/raw/ or pass --data-root DIR"]
    if spec.debian_package:
        fixes.append(f"apt-get install {spec.debian_package} (installs {spec.system_dir})")
    fixes.append("or connect to the internet so torchvision can download them")
    if spec.name == "mnist":
        fixes.append("or use --dataset fashion-mnist (same format and size)")
    return "; ".join(fixes)


def resolve(name: str, data_root: str | Path | None = None, download: bool = True) -> tuple[DatasetLocation, dict[str, Path]]:
    """Where the dataset's files are.

    With `data_root` only that folder is searched. Without it: ./data, then a torchvision
    download into ./data, then the Debian location, then an error listing the fixes.
    """
    spec = spec_for(name)
    if data_root is not None:
        root = Path(data_root)
        if root.exists() and not root.is_dir():
            raise DatasetError(f"data root {root} is not a folder; point --data-root at the folder that holds the "
                               f"{spec.name} IDX files (not a file in it) or omit --data-root")
        if not root.is_dir():
            raise DatasetError(f"data root {root} does not exist; create it with the {spec.name} files in it or omit --data-root")
        files = find_files(root, spec)
        if files is None:
            raise DatasetError(
                f"no {spec.name} files in {root} (looked for {root / spec.torchvision_folder / 'raw'} and {root}); "
                + _fixes(spec)
            )
        return _location(spec, files, "given", downloaded=False), files

    files = find_files(LOCAL_ROOT, spec) if LOCAL_ROOT.is_dir() else None
    if files is not None:
        return _location(spec, files, "local", downloaded=False), files
    download_error = _download(spec, LOCAL_ROOT) if download else "download disabled"
    if download_error is None:
        files = find_files(LOCAL_ROOT, spec)
        if files is not None:
            return _location(spec, files, "downloaded", downloaded=True), files
    if spec.system_dir.is_dir():
        files = find_files(spec.system_dir, spec)
        if files is not None:
            return _location(spec, files, "system", downloaded=False), files
    raise DatasetError(f"{spec.name} not found (download: {download_error}); " + _fixes(spec))


def _location(spec: DatasetSpec, files: dict[str, Path], source: str, downloaded: bool) -> DatasetLocation:
    folder = files["train_images"].parent.resolve()
    return DatasetLocation(name=spec.name, path=str(folder), source=source, downloaded=downloaded)


def load_dataset(name: str = "mnist", data_root: str | Path | None = None, download: bool = True) -> MnistData:
    """Resolve, read and validate both splits."""
    location, files = resolve(name, data_root, download)
    train_images, train_labels = read_idx_pair(files["train_images"], files["train_labels"])
    test_images, test_labels = read_idx_pair(files["test_images"], files["test_labels"])
    return MnistData(train_images, train_labels, test_images, test_labels, location)
