import gzip

import pytest
import torch

from mnist_core.errors import DatasetError
from mnist_core.core.idx import (read_idx_images, read_idx_labels, read_idx_pair, write_idx_images,
                            write_idx_labels)
from mnist_core.core.idx_format import checked_image_count, checked_pair_size

# The tensor reader and the check `info` runs without loading the images: each refuses the same damage.
IMAGE_READERS = pytest.mark.parametrize("read_images", [read_idx_images, checked_image_count])


def test_reads_real_mnist_digits(mnist_t10k):
    images, labels = mnist_t10k
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10_000,) and labels.dtype == torch.int64
    assert sorted(labels.unique().tolist()) == list(range(10))
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the published first test digits


def test_raw_and_gz_read_the_same(tmp_path, mnist_t10k):
    images, labels = mnist_t10k
    write_idx_images(tmp_path / "img", images[:50])
    write_idx_images(tmp_path / "img.gz", images[:50])
    assert torch.equal(read_idx_images(tmp_path / "img"), read_idx_images(tmp_path / "img.gz"))
    write_idx_labels(tmp_path / "lab", labels[:50])
    assert torch.equal(read_idx_labels(tmp_path / "lab"), labels[:50])


@IMAGE_READERS
def test_truncated_images(read_images, tmp_path, mnist_t10k):
    path = tmp_path / "images"
    write_idx_images(path, mnist_t10k[0][:20])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated or padded.*re-download"):
        read_images(path)


@IMAGE_READERS
def test_truncated_header(read_images, tmp_path):
    path = tmp_path / "images"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(DatasetError, match="truncated IDX header"):
        read_images(path)


@IMAGE_READERS
def test_damaged_gzip(read_images, tmp_path, mnist_t10k_dir):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes((mnist_t10k_dir / "t10k-images-idx3-ubyte.gz").read_bytes()[:5000])
    with pytest.raises(DatasetError, match="cannot read"):
        read_images(path)


@IMAGE_READERS
def test_wrong_magic(read_images, tmp_path, mnist_t10k):
    path = tmp_path / "labels-as-images"
    write_idx_labels(path, mnist_t10k[1][:20])
    with pytest.raises(DatasetError, match="wrong magic number 2049 \\(expected 2051\\)"):
        read_images(path)


def test_label_out_of_range(tmp_path, mnist_t10k):
    path = tmp_path / "labels"
    labels = mnist_t10k[1][:20].clone()
    labels[7] = 12
    write_idx_labels(path, labels)
    with pytest.raises(DatasetError, match="label 12 at index 7 is out of range 0-9"):
        read_idx_labels(path)


@pytest.mark.parametrize("read_pair", [read_idx_pair, checked_pair_size])
def test_image_label_count_mismatch(tmp_path, mnist_t10k, read_pair):
    write_idx_images(tmp_path / "img", mnist_t10k[0][:30])
    write_idx_labels(tmp_path / "lab", mnist_t10k[1][:29])
    with pytest.raises(DatasetError, match="30 images but .* 29 labels"):
        read_pair(tmp_path / "img", tmp_path / "lab")


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_the_check_counts_what_the_reader_reads(tmp_path, mnist_t10k, suffix):
    write_idx_images(tmp_path / f"img{suffix}", mnist_t10k[0][:30])
    write_idx_labels(tmp_path / f"lab{suffix}", mnist_t10k[1][:30])
    assert checked_image_count(tmp_path / f"img{suffix}") == len(read_idx_images(tmp_path / f"img{suffix}")) == 30
    assert checked_pair_size(tmp_path / f"img{suffix}", tmp_path / f"lab{suffix}") == 30


@IMAGE_READERS
def test_wrong_image_size(read_images, tmp_path):
    payload = b"".join(v.to_bytes(4, "big") for v in (2051, 2, 32, 32)) + bytes(2 * 32 * 32)
    (tmp_path / "img.gz").write_bytes(gzip.compress(payload))
    with pytest.raises(DatasetError, match="32x32, expected 28x28"):
        read_images(tmp_path / "img.gz")


def test_shipped_digits_are_the_published_files(mnist_t10k_dir):
    import hashlib

    # The md5 sums torchvision's MNIST.resources lists for the published test split.
    published = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                 "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    for name, md5 in published.items():
        assert hashlib.md5((mnist_t10k_dir / name).read_bytes()).hexdigest() == md5
