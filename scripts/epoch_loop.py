"""Whole epochs of the tutorial's training loop, timed the way a user would time them: the independent check.

Written here the tutorial's way and sharing no code with the suite's timing (only mnist_core's reading of the
MNIST-format files): a per-sample Dataset with ToTensor, random_split 50,000/10,000, a DataLoader with
shuffle=True and a fresh iterator every epoch (the tutorial's `fit`: workers are forked anew each epoch), a
DeviceDataLoader moving each batch, the 784-32-10 MLP, SGD and cross-entropy. Each epoch is timed with
perf_counter from `for batch in loader` to the last step's end (and the device's sync), and printed as one
JSON line with its samples/s. `--kind loader` times the batches alone (the suite's loader rows).

    python scripts/epoch_loop.py --batch-size 2048 --workers 2 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split
from torchvision.transforms import ToTensor

from mnist_core.core.data import load_dataset


class Digits(Dataset):
    def __init__(self, images, labels):
        self.images, self.labels, self.to_tensor = images, labels, ToTensor()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.to_tensor(Image.fromarray(self.images[index].numpy())), int(self.labels[index])


class DeviceDataLoader:
    def __init__(self, loader, device, non_blocking):
        self.loader, self.device, self.non_blocking = loader, device, non_blocking

    def __iter__(self):
        for images, labels in self.loader:
            yield (images.to(self.device, non_blocking=self.non_blocking),
                   labels.to(self.device, non_blocking=self.non_blocking))

    def __len__(self):
        return len(self.loader)


class MnistModel(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.linear1 = nn.Linear(784, hidden)
        self.linear2 = nn.Linear(hidden, 10)

    def forward(self, images):
        return self.linear2(F.relu(self.linear1(images.view(images.size(0), -1))))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_seconds(model, optimizer, loader, device, train: bool) -> tuple[int, float]:
    """One epoch through a fresh iterator of `loader`: (samples, seconds)."""
    samples = 0
    sync(device)
    start = time.perf_counter()
    for images, labels in loader:  # a fresh iterator: forks the workers, as every epoch of the tutorial's fit
        if train:
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        samples += len(labels)
    sync(device)
    return samples, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--kind", choices=("train", "loader"), default="train")
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist (default: what the suite finds)")
    parser.add_argument("--tag", default="", help="copied into every line (e.g. the harness's repetition)")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    torch.manual_seed(0)
    data = load_dataset(args.dataset, download=False)
    dataset = Digits(data.train_images, data.train_labels)
    train_ds, _ = random_split(dataset, [len(dataset) - 10_000, 10_000])
    pin = device.type == "cuda"  # pin_memory=True in the tutorial; it only acts on CUDA
    loader = DeviceDataLoader(DataLoader(train_ds, args.batch_size, shuffle=True, num_workers=args.workers,
                                         pin_memory=pin), device, non_blocking=pin)
    model = MnistModel().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for epoch in range(1, args.epochs + 1):
        samples, seconds = epoch_seconds(model, optimizer, loader, device, train=args.kind == "train")
        print(json.dumps({"tag": args.tag, "kind": args.kind, "device": args.device, "batch_size": args.batch_size,
                          "workers": args.workers, "epoch": epoch, "samples": samples,
                          "epoch_s": round(seconds, 4), "samples_per_s": round(samples / seconds, 1),
                          "torch_threads": torch.get_num_threads(), "dataset": data.location.name}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
