import dataclasses
from pathlib import Path

import pytest
import torch

from conftest import DEBIAN_FASHION_DIR
from mnist_core.core import data as data_module
from mnist_core.core.data import FILES, check_dataset, load_dataset, resolve
from mnist_core.errors import DatasetError
from mnist_core.core.idx import write_idx_images, write_idx_labels


def write_small_dataset(folder, digits, gz=True):
    """A real-digit dataset in MNIST's file format: 600 train and 200 test images."""
    images, labels = digits
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx_images(folder / (FILES["train_images"] + suffix), images[:600])
    write_idx_labels(folder / (FILES["train_labels"] + suffix), labels[:600])
    write_idx_images(folder / (FILES["test_images"] + suffix), images[600:800])
    write_idx_labels(folder / (FILES["test_labels"] + suffix), labels[600:800])
    return folder


def test_flat_layout_debian_package(fashion_dir):
    data = load_dataset("fashion-mnist", fashion_dir)
    assert data.sizes == {"train": 60_000, "test": 10_000}
    assert data.location.source == "given" and not data.location.downloaded
    assert data.location.path == str(fashion_dir.resolve())


@pytest.mark.parametrize("gz", [True, False])
def test_torchvision_layout(tmp_path, mnist_t10k, gz):
    write_small_dataset(tmp_path / "MNIST" / "raw", mnist_t10k, gz=gz)
    data = load_dataset("mnist", tmp_path)
    assert data.sizes == {"train": 600, "test": 200}
    assert data.location.path.endswith("MNIST/raw")


def test_resolution_prefers_local_copy(tmp_path, monkeypatch, mnist_t10k):
    monkeypatch.chdir(tmp_path)
    write_small_dataset(tmp_path / "data" / "MNIST" / "raw", mnist_t10k)
    monkeypatch.setattr(data_module, "_download", lambda spec, root: pytest.fail("must not download"))
    location, _ = resolve("mnist")
    assert location.source == "local" and not location.downloaded


def test_resolution_downloads_when_no_local_copy(tmp_path, monkeypatch, mnist_t10k):
    monkeypatch.chdir(tmp_path)

    def fake_torchvision_download(spec, root):  # stands in for the network only
        write_small_dataset(root / spec.torchvision_folder / "raw", mnist_t10k)

    monkeypatch.setattr(data_module, "_download", fake_torchvision_download)
    location, _ = resolve("mnist")
    assert location.source == "downloaded" and location.downloaded


@pytest.mark.skipif(not DEBIAN_FASHION_DIR.is_dir(), reason="needs Debian's dataset-fashion-mnist installed")
def test_resolution_falls_back_to_system_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data_module, "_download", lambda spec, root: "URLError: no network")
    location, _ = resolve("fashion-mnist")
    assert location.source == "system" and location.path == str(DEBIAN_FASHION_DIR)


def test_resolution_error_lists_the_fixes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data_module, "_download", lambda spec, root: "URLError: no network")
    spec = data_module.SPECS["fashion-mnist"]
    monkeypatch.setitem(data_module.SPECS, "fashion-mnist", dataclasses.replace(spec, system_dir=tmp_path / "none"))
    with pytest.raises(DatasetError) as info:
        resolve("fashion-mnist")
    message = str(info.value)
    assert "\n" not in message
    assert "URLError: no network" in message
    assert "--data-root" in message and "apt-get install -y dataset-fashion-mnist" in message


def _offline(monkeypatch, tmp_path, fashion_dir=None):
    """No network, no ./data; Fashion-MNIST installed at `fashion_dir` (None: not installed)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data_module, "_download", lambda spec, root: "URLError: <urlopen error no network>")
    spec = data_module.SPECS["fashion-mnist"]
    monkeypatch.setitem(data_module.SPECS, "fashion-mnist",
                        dataclasses.replace(spec, system_dir=fashion_dir or tmp_path / "not-installed"))


def test_default_dataset_offline_runs_the_installed_fashion_mnist_with_a_note(tmp_path, monkeypatch, mnist_t10k):
    installed = write_small_dataset(tmp_path / "installed", mnist_t10k)
    _offline(monkeypatch, tmp_path, installed)
    location, files = resolve()
    assert location.name == "fashion-mnist" and location.source == "system" and files is not None
    assert location.requested is None and location.substituted
    assert "MNIST not found" in location.reason and "URLError: <urlopen error no network>" in location.reason
    assert "same format and size" in location.reason and "\n" not in location.reason


def test_default_dataset_with_nothing_installed_runs_the_synthetic_set(tmp_path, monkeypatch):
    _offline(monkeypatch, tmp_path)
    data = load_dataset()
    assert data.location.name == "synthetic" and data.location.path is None and data.location.substituted
    assert "no Fashion-MNIST installed" in data.location.reason and "synthetic" in data.location.reason
    assert data.sizes == {"train": 60_000, "test": 10_000}
    assert check_dataset() == (data.location, data.sizes)
    assert data.train_images.shape == (60_000, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.train_labels.dtype == torch.int64 and set(data.train_labels.unique().tolist()) == set(range(10))
    assert list(tmp_path.iterdir()) == []  # nothing written: no ./data, no download leftovers


@pytest.mark.parametrize("gz", [False, True])
def test_check_dataset_finds_and_sizes_what_load_dataset_loads(tmp_path, mnist_t10k, gz):
    folder = write_small_dataset(tmp_path / "ds", mnist_t10k, gz=gz)
    data = load_dataset(data_root=folder)
    assert check_dataset(data_root=folder) == (data.location, data.sizes) and data.sizes == {"train": 600, "test": 200}


def test_mnist_named_explicitly_is_never_replaced(tmp_path, monkeypatch, mnist_t10k):
    _offline(monkeypatch, tmp_path, write_small_dataset(tmp_path / "installed", mnist_t10k))
    with pytest.raises(DatasetError) as info:
        resolve("mnist")
    message = str(info.value)
    assert message.startswith("mnist not found (no MNIST in ./data; download failed (URLError")
    assert "put the four IDX files in ./data/MNIST/raw/" in message and "\n" not in message


def test_synthetic_set_is_the_same_on_every_machine():
    from mnist_core.core.synthetic import synthetic_digest

    # Pinned: integer hashing only, so any machine, numpy or torch version gives these bytes.
    assert synthetic_digest() == "4a04a3186e69ea7851eee58c028cb324c59b93cd96cd56ce26829659868ebf4d"


def test_a_failed_download_leaves_nothing_behind_and_names_the_cause(tmp_path, monkeypatch):
    import torchvision.datasets

    class OfflineMNIST:  # what torchvision does offline: a partial file, then this message
        def __init__(self, root, train, download):
            raw = Path(root) / "MNIST" / "raw"
            raw.mkdir(parents=True)
            (raw / "train-images-idx3-ubyte.gz").write_bytes(b"partial")
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\n"
                               "Tried https://ossci-datasets.s3.amazonaws.com/mnist/, got:\n"
                               "<urlopen error [Errno -2] Name or service not known>\n"
                               "Tried http://yann.lecun.com/exdb/mnist/, got:\n"
                               "<urlopen error [Errno -2] Name or service not known>\n")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    error = data_module._download(data_module.SPECS["mnist"], Path("data"))
    assert error == ("Error downloading train-images-idx3-ubyte.gz from 2 mirrors: "
                     "<urlopen error [Errno -2] Name or service not known>")
    assert list(tmp_path.iterdir()) == []  # no ./data, no MNIST/raw, no partial file


def test_a_download_into_an_existing_data_folder_keeps_it(tmp_path, monkeypatch, mnist_t10k):
    import torchvision.datasets

    def complete_download(root, train, download):  # stands in for the network only
        write_small_dataset(Path(root) / "MNIST" / "raw", mnist_t10k)

    (tmp_path / "data" / "other").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torchvision.datasets, "MNIST", complete_download)
    assert data_module._download(data_module.SPECS["mnist"], Path("data")) is None
    assert sorted(path.name for path in (tmp_path / "data").iterdir()) == ["MNIST", "other"]  # no staging left
    assert len(list((tmp_path / "data" / "MNIST" / "raw").iterdir())) == 4


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="data root .*nowhere does not exist"):
        load_dataset("mnist", tmp_path / "nowhere")


def test_folder_without_files(tmp_path):
    with pytest.raises(DatasetError, match="no mnist files in"):
        load_dataset("mnist", tmp_path)


def test_incomplete_folder_names_missing_file(tmp_path, mnist_t10k):
    write_small_dataset(tmp_path, mnist_t10k)
    (tmp_path / (FILES["test_labels"] + ".gz")).unlink()
    with pytest.raises(DatasetError, match="incomplete, missing t10k-labels-idx1-ubyte"):
        load_dataset("mnist", tmp_path)


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        resolve("cifar")
