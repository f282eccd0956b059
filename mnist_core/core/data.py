"""Find, fetch and load MNIST or Fashion-MNIST, or make the synthetic set; record which ran and why.

Resolution without --data-root, for the dataset asked for:
  1. ./data (torchvision's layout or the four files flat),
  2. a torchvision download into ./data (staged: a failed download leaves nothing behind),
  3. the system location a package installs (/usr/share/datasets/<name>),
and, when no dataset was named (the default), then
  4. an installed Fashion-MNIST (MNIST's format and size: the same throughput), and last
  5. the synthetic set (`synthetic.py`): MNIST-shaped, deterministic, generated here.
A dataset named explicitly (--dataset=mnist) is never replaced by another: it is found or it fails.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core.errors import DatasetError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str  # how sentences name it
    torchvision_folder: str  # ROOT/<folder>/raw/... in torchvision's layout
    torchvision_class: str
    system_dir: Path  # where a Debian package installs the four files flat
    debian_package: str | None


SPECS = {
    "mnist": DatasetSpec("mnist", "MNIST", "MNIST", "MNIST", Path("/usr/share/datasets/mnist"), None),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST", "FashionMNIST", "FashionMNIST",
        Path("/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist",
    ),
}
SYNTHETIC = "synthetic"
DATASET_NAMES = (*SPECS, SYNTHETIC)  # what --dataset accepts
AUTO_ORDER = ("mnist", "fashion-mnist")  # what runs when no dataset is named, before the synthetic set
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
LOCAL_ROOT = Path("data")


@dataclass(frozen=True)
class DatasetLocation:
    """Which dataset ran, where its files were and why it was chosen; travels with every result."""

    name: str  # mnist | fashion-mnist | synthetic
    path: str | None  # the folder of the files; None for the synthetic set
    source: str  # "given" | "local" | "downloaded" | "system" | "generated"
    downloaded: bool
    requested: str | None = None  # the dataset asked for; None: the default (MNIST, then fallbacks)
    reason: str = ""  # one line: why this dataset, e.g. what was tried before it

    @property
    def substituted(self) -> bool:
        """True when the dataset that ran is not MNIST and none was named: users read it as a note."""
        return self.requested is None and self.name != "mnist"

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
        raise DatasetError(f"unknown dataset {name!r}; use one of {', '.join(DATASET_NAMES)}") from None


def check_name(name: str | None) -> str | None:
    """`name` if it is a dataset this suite runs (or None for the default); DatasetError otherwise."""
    if name is not None and name != SYNTHETIC:
        spec_for(name)
    return name


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


def download_error_text(exc: BaseException) -> str:
    """One line naming what really failed. torchvision's message puts the cause of a failed download on
    the lines after 'Error downloading FILE:' (one 'Tried MIRROR, got: ERROR' per mirror)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if len(lines) == 1:
        return f"{type(exc).__name__}: {lines[0]}"
    causes = [line for line in lines[1:] if not line.startswith("Tried ")]
    mirrors = [line.removeprefix("Tried ").removesuffix(", got:") for line in lines[1:] if line.startswith("Tried ")]
    cause = "; ".join(dict.fromkeys(causes)) or lines[-1]
    where = f" from {len(mirrors)} mirror{'s' if len(mirrors) != 1 else ''}" if mirrors else ""
    return f"{lines[0].rstrip(':')}{where}: {cause}"


def _download(spec: DatasetSpec, root: Path) -> str | None:
    """Let torchvision fetch the files into `root`; returns why it failed, or None.

    It downloads into a staging folder beside `root/<folder>` and moves the files in only when all four
    arrived, so a failed or interrupted download leaves nothing behind (not even an empty ./data).
    """
    import torchvision.datasets as tv_datasets

    dataset_class = getattr(tv_datasets, spec.torchvision_class)
    created = [path for path in (root, root / spec.torchvision_folder) if not path.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    except OSError as exc:
        return f"cannot write {root}: {exc.strerror or exc}"
    try:
        for train in (True, False):
            dataset_class(root=str(staging), train=train, download=True)
        raw = root / spec.torchvision_folder / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for path in (staging / spec.torchvision_folder / "raw").iterdir():
            if path.name.startswith(tuple(FILES.values())):
                shutil.move(str(path), raw / path.name)
        return None
    except Exception as exc:  # no network, mirror down, disk full: all mean "try the next source"
        return download_error_text(exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for path in reversed(created):
            try:
                path.rmdir()  # only if still empty: files a complete download moved in stay
            except OSError:
                pass


def _fixes(spec: DatasetSpec) -> str:
    fixes = [f"put the four IDX files in ./{LOCAL_ROOT}/{spec.torchvision_folder}/raw/ or pass --data-root DIR"]
    if spec.debian_package:
        fixes.append(f"sudo apt-get install -y {spec.debian_package} (installs {spec.system_dir})")
    fixes.append("or connect to the internet so torchvision can download them")
    if spec.name == "mnist":
        fixes.append("or leave out --dataset: without MNIST the suite runs an installed Fashion-MNIST "
                     "(same format and size) or its synthetic set")
    return "; ".join(fixes)


def _given(spec: DatasetSpec, data_root: Path, requested: str | None) -> tuple[DatasetLocation, dict[str, Path]]:
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
    return _location(spec, files, "given", False, requested, f"--data-root {root}"), files


def _search(spec: DatasetSpec, download: bool, requested: str | None,
            tried: list[str]) -> tuple[DatasetLocation, dict[str, Path]] | None:
    """./data, then a download, then the system folder; None (with what was tried) when all fail."""
    files = find_files(LOCAL_ROOT, spec) if LOCAL_ROOT.is_dir() else None
    if files is not None:
        return _location(spec, files, "local", False, requested, f"found in ./{LOCAL_ROOT}"), files
    tried.append(f"no {spec.title} in ./{LOCAL_ROOT}")
    if download:
        error = _download(spec, LOCAL_ROOT)
        files = find_files(LOCAL_ROOT, spec) if error is None else None
        if files is not None:
            return _location(spec, files, "downloaded", True, requested, f"downloaded into ./{LOCAL_ROOT}"), files
        tried.append(f"download failed ({error or 'the files did not arrive'})")
    else:
        tried.append("download disabled (--no-download)")
    if spec.system_dir.is_dir():
        files = find_files(spec.system_dir, spec)
        if files is not None:
            return _location(spec, files, "system", False, requested, f"installed at {spec.system_dir}"), files
    tried.append(f"none installed at {spec.system_dir}")
    return None


def resolve(name: str | None = None, data_root: str | Path | None = None,
            download: bool = True) -> tuple[DatasetLocation, dict[str, Path] | None]:
    """Which dataset runs and where its files are (None for the synthetic set).

    `name` None is the default: MNIST, else an installed Fashion-MNIST, else the synthetic set.
    With `data_root` only that folder is searched, for the named dataset (MNIST by default).
    """
    requested = check_name(name)
    if requested == SYNTHETIC:
        return synthetic_location(requested, "--dataset synthetic"), None
    if data_root is not None:
        return _given(spec_for(requested or "mnist"), Path(data_root), requested)
    tried: list[str] = []
    if requested is not None:
        found = _search(spec_for(requested), download, requested, tried)
        if found is None:
            spec = spec_for(requested)
            raise DatasetError(f"{spec.name} not found ({'; '.join(tried)}); " + _fixes(spec))
        return found
    mnist = _search(spec_for("mnist"), download, requested, tried)
    if mnist is not None:
        return mnist
    why_not_mnist = f"MNIST not found ({'; '.join(tried)})"
    fashion = SPECS["fashion-mnist"]
    files = find_files(fashion.system_dir, fashion) if fashion.system_dir.is_dir() else None
    if files is not None:
        reason = (f"{why_not_mnist}; using the installed Fashion-MNIST at {fashion.system_dir} (same format and "
                  "size as MNIST, so throughput is the same; accuracy targets are Fashion-MNIST's)")
        return _location(fashion, files, "system", False, requested, reason), files
    reason = (f"{why_not_mnist} and no Fashion-MNIST installed; using the synthetic set (same shape as MNIST, so "
              "throughput is the same; not a learning task, so no time to accuracy)")
    return synthetic_location(requested, reason), None


def synthetic_location(requested: str | None, reason: str) -> DatasetLocation:
    return DatasetLocation(name=SYNTHETIC, path=None, source="generated", downloaded=False, requested=requested,
                           reason=reason)


def _location(spec: DatasetSpec, files: dict[str, Path], source: str, downloaded: bool, requested: str | None,
              reason: str) -> DatasetLocation:
    folder = files["train_images"].parent.resolve()
    return DatasetLocation(name=spec.name, path=str(folder), source=source, downloaded=downloaded,
                           requested=requested, reason=reason)


def check_dataset(name: str | None = None, data_root: str | Path | None = None,
                  download: bool = True) -> tuple[DatasetLocation, dict[str, int]]:
    """What load_dataset would load and the size of each split, its files checked as it checks them but not
    loaded (for `info`: torch is imported only by a download)."""
    location, files = resolve(name, data_root, download)
    if files is None:
        from mnist_core.core.synthetic import TEST_SIZE, TRAIN_SIZE

        return location, {"train": TRAIN_SIZE, "test": TEST_SIZE}
    # Imported here: numpy is loaded only to check files, and every pytest run imports this module (the plugin).
    from mnist_core.core.idx_format import checked_pair_size

    return location, {split: checked_pair_size(files[f"{split}_images"], files[f"{split}_labels"])
                      for split in ("train", "test")}


def load_dataset(name: str | None = None, data_root: str | Path | None = None, download: bool = True) -> MnistData:
    """Resolve, read and validate both splits (or generate the synthetic set)."""
    location, files = resolve(name, data_root, download)
    if files is None:
        from mnist_core.core.synthetic import synthetic_splits

        return MnistData(*synthetic_splits(), location)
    from mnist_core.core.idx import read_idx_pair  # torch: only once files are read, never to name or find them

    train_images, train_labels = read_idx_pair(files["train_images"], files["train_labels"])
    test_images, test_labels = read_idx_pair(files["test_images"], files["test_labels"])
    return MnistData(train_images, train_labels, test_images, test_labels, location)
