"""The yardstick for the suite's own cost: the training loop as a user writes it, sharing no code with it.

Its model, dataset class, DataLoader and steps are written here from scratch, the tutorial's way, so the
overhead check can see a cost the suite adds anywhere in its own pipeline or step (a shared helper would
add the same cost to both sides and hide it). Only the sample split (which images are trained on) and the
optimizer's choice (fused SGD on CUDA, foreach on the CPU: the same maths) are taken from the config, so
both sides do the same work.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.loaders import split_indices
from mnist_core.core.pipelines import PIPELINES


class _Digits(Dataset):
    def __init__(self, images, labels):
        self.images, self.labels, self.to_tensor = images, labels, ToTensor()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.to_tensor(Image.fromarray(self.images[i].numpy())), int(self.labels[i])


class BareLoop:
    """One timed round at a time, so rounds can alternate with the suite's (drift hits both alike)."""

    def __init__(self, config: BenchConfig, data: MnistData, warmup_rounds: int = 1):
        if config.model != "mlp" or not config.pipeline.bare_loop:
            written = " or ".join(name for name, pipeline in PIPELINES.items() if pipeline.bare_loop)
            raise ValueError(f"the bare loop is written for the tutorial MLP on the {written} pipeline")
        device = self.device = torch.device(config.device)
        self.steps, self.batch = config.steps_per_round, config.batch_size
        torch.manual_seed(config.seed)
        train = split_indices(len(data.train_labels), config.seed).train_indices
        self.model = nn.Sequential(nn.Flatten(), nn.Linear(784, config.hidden_width), nn.ReLU(),
                                   nn.Linear(config.hidden_width, 10)).to(device)
        fused = {"fused": True} if device.type == "cuda" else {"foreach": True}
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, **fused)
        self.loader = None
        if config.pipeline.dataloader:
            self.loader = DataLoader(_Digits(data.train_images[train], data.train_labels[train]),
                                     batch_size=self.batch, shuffle=True, num_workers=config.num_workers,
                                     pin_memory=config.pin_memory, persistent_workers=config.num_workers > 0,
                                     drop_last=True)
            self.non_blocking = config.non_blocking
            self.batches = iter(self.loader)
            self.settle_steps = max(1, 2 * config.num_workers)
        else:
            self.images = data.train_images[train].to(device)
            self.labels = data.train_labels[train].to(device)
            self.order, self.position = torch.randperm(len(self.labels), device=device), 0
            self.settle_steps = 1
        for _ in range(warmup_rounds):
            self.round_seconds()

    def _next_batch(self):
        if self.loader is not None:
            try:
                x, y = next(self.batches)
            except StopIteration:
                self.batches = iter(self.loader)
                x, y = next(self.batches)
            return x.to(self.device, non_blocking=self.non_blocking), y.to(self.device, non_blocking=self.non_blocking)
        if self.position + self.batch > len(self.labels):
            self.order, self.position = torch.randperm(len(self.labels), device=self.device), 0
        index = self.order[self.position:self.position + self.batch]
        self.position += self.batch
        return self.images[index].unsqueeze(1).float() / 255, self.labels[index]

    def _step(self):
        x, y = self._next_batch()
        loss = F.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _finished_batches(self) -> int:
        """Batches the workers hold finished (0 without workers): what a round must not start with."""
        queue = getattr(self.batches, "_data_queue", None) if self.loader is not None else None
        if queue is None:
            return 0
        return queue.qsize() + sum(len(task) == 2 for task in self.batches._task_info.values())  # + out of order

    def _let_workers_refill(self, timeout_s: float = 5.0) -> None:
        """After a round, untimed: until the workers finished all they were asked for, so they do not take
        the cores from the suite's round that comes next (the suite's rows wait for theirs the same way)."""
        asked = len(getattr(self.batches, "_task_info", ())) if self.loader is not None else 0  # not yet yielded
        deadline = time.perf_counter() + timeout_s
        while self._finished_batches() < asked and time.perf_counter() < deadline:
            time.sleep(0.002)

    def round_seconds(self) -> float:
        # Take what the workers finished while the suite's round ran, then on while they still hold some
        # (they refill meanwhile), at most as many again: the suite's rounds start the same way.
        for _ in range(self.settle_steps):
            self._step()
        for _ in range(self.settle_steps):
            if not self._finished_batches():
                break
            self._step()
        self._sync()
        start = time.perf_counter()
        for _ in range(self.steps):
            self._step()
        self._sync()
        seconds = time.perf_counter() - start
        self._let_workers_refill()
        return seconds

    @property
    def samples_per_round(self) -> int:
        return self.steps * self.batch

    def close(self) -> None:
        """Stop workers and drop the model and data, so a failed benchmark's traceback does not hold them."""
        iterator = getattr(self, "batches", None)
        if hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self.loader = self.batches = self.model = self.optimizer = None

    def __enter__(self) -> BareLoop:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
