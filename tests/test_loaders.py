import multiprocessing

import pytest
import torch

from mnist_core.core.data import MnistData
from mnist_core.core.devices import to_device
from mnist_core.core.loaders import ResidentLoader, close_loader, make_dataloader, split_indices

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def small(fashion) -> MnistData:
    """The first 3,000 real Fashion-MNIST training images (fast, still real)."""
    return MnistData(fashion.train_images[:3000], fashion.train_labels[:3000], fashion.test_images,
                     fashion.test_labels, fashion.location)


def fingerprints(images: torch.Tensor) -> list[float]:
    """One number per image that identifies it (pixel values against fixed weights)."""
    weights = torch.linspace(1, 2, 28 * 28, dtype=torch.float64)
    return sorted((images.reshape(len(images), -1).double() @ weights).tolist())


def one_epoch(loader) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = zip(*loader)
    return torch.cat(images), torch.cat(labels)


def test_split_is_the_tutorials_and_disjoint():
    split = split_indices(60_000, seed=0)
    assert (len(split.train_indices), len(split.val_indices)) == (50_000, 10_000)
    everything = torch.cat([split.train_indices, split.val_indices])
    assert torch.equal(everything.sort().values, torch.arange(60_000))
    assert torch.equal(split_indices(60_000, seed=0).train_indices, split.train_indices)


@pytest.mark.parametrize("pipeline", ["dataloader-w0", "dataloader-w2", "resident"])
def test_every_sample_exactly_once_per_epoch(small, pipeline):
    split = split_indices(len(small.train_labels), seed=1, val_size=500)
    if pipeline == "resident":
        loader = ResidentLoader.from_host(small.train_images, small.train_labels, split.train_indices,
                                          device=CPU, batch_size=128, shuffle=True, seed=1)
    else:
        loader = make_dataloader(small.train_images, small.train_labels, split.train_indices, device=CPU,
                                 batch_size=128, shuffle=True, num_workers=int(pipeline[-1]), pin_memory=False,
                                 non_blocking=False, seed=1)
    expected_images = small.train_images[split.train_indices].float().div(255)
    for _ in range(2):  # a second epoch is a new permutation of the same samples
        images, labels = one_epoch(loader)
        assert images.shape == (2500, 1, 28, 28) and len(loader) == 20  # 19 full batches + 1 partial
        assert fingerprints(images) == pytest.approx(fingerprints(expected_images), abs=0)
        assert torch.equal(labels.sort().values, small.train_labels[split.train_indices].sort().values)


def test_both_pipelines_normalise_identically(small):
    indices = torch.arange(300)
    dataloader = make_dataloader(small.train_images, small.train_labels, indices, device=CPU, batch_size=100,
                                 shuffle=False, num_workers=0, pin_memory=False, non_blocking=False, seed=0)
    resident = ResidentLoader.from_host(small.train_images, small.train_labels, indices, device=CPU,
                                        batch_size=100, shuffle=False, seed=0)
    for (a_images, a_labels), (b_images, b_labels) in zip(dataloader, resident, strict=True):
        assert a_images.dtype == b_images.dtype == torch.float32
        assert torch.equal(a_images, b_images)  # bit for bit: ToTensor's byte/255
        assert torch.equal(a_labels, b_labels)


def test_resident_holds_uint8(small):
    split = split_indices(len(small.train_labels), seed=0, val_size=500)
    loader = ResidentLoader.from_host(small.train_images, small.train_labels, split.train_indices, device=CPU,
                                      batch_size=64, shuffle=True, seed=0)
    assert loader.images_u8.dtype == torch.uint8
    assert loader.dataset_bytes == 2500 * 28 * 28  # one byte a pixel, not four


def test_to_device_handles_containers():
    batch = {"x": torch.ones(2), "pair": (torch.zeros(1), [torch.ones(1)]), "n": 3}
    moved = to_device(batch, "cpu")
    assert isinstance(moved["pair"], tuple) and isinstance(moved["pair"][1], list) and moved["n"] == 3


def test_persistent_workers_are_stopped_on_close(small):
    loader = make_dataloader(small.train_images, small.train_labels, torch.arange(1000), device=CPU,
                             batch_size=100, shuffle=True, num_workers=2, pin_memory=False, non_blocking=False,
                             seed=0, persistent_workers=True)
    one_epoch(loader)
    assert multiprocessing.active_children()
    close_loader(loader)
    assert multiprocessing.active_children() == []
