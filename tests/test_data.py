import dataclasses

import pytest

from conftest import DEBIAN_FASHION_DIR
from mnist_core import data as data_module
from mnist_core.data import FILES, load_dataset, resolve
from mnist_core.errors import DatasetError
from mnist_core.idx import write_idx_images, write_idx_labels


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
    assert "--data-root" in message and "apt-get install dataset-fashion-mnist" in message


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
