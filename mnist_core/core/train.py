"""Training step, epoch, evaluation, fit and time-to-accuracy. Functions return numbers; none print.

The training step is the tutorial's: forward, loss, backward, SGD step, nothing else. Like the
tutorial, training keeps no per-step metrics: loss and accuracy come from the validation pass, so a
timed training round times exactly that work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.core.devices import sync_fn


@dataclass(frozen=True)
class EpochStats:
    samples: int
    seconds: float
    loss: float | None = None  # evaluation only: training computes no metrics
    accuracy: float | None = None

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("nan")


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train: EpochStats
    val: EpochStats


@dataclass(frozen=True)
class TimeToAccuracy:
    target: float
    reached: bool
    epochs: int
    seconds: float  # wall time including validation passes
    train_seconds: float
    val_accuracy: float
    train_samples: int
    history: tuple[EpochRecord, ...]


Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor) -> None:
    """One SGD step, as the tutorial writes it; queues work on the device and never syncs."""
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Batches,
                device: torch.device | str) -> EpochStats:
    """One pass of training steps between two device syncs."""
    model.train()
    sync = sync_fn(device)
    samples = 0
    sync()
    start = time.perf_counter()
    for images, labels in batches:
        train_step(model, optimizer, images, labels)
        samples += labels.shape[0]
    sync()
    return EpochStats(samples, time.perf_counter() - start)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Batches, device: torch.device | str) -> EpochStats:
    """Loss and accuracy over `batches`; the totals stay on the device and are read once, at the end."""
    model.eval()
    device = torch.device(device)
    sync = sync_fn(device)
    loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    samples = 0
    sync()
    start = time.perf_counter()
    for images, labels in batches:
        logits = model(images)
        loss += F.cross_entropy(logits, labels, reduction="sum")
        correct += (logits.argmax(dim=1) == labels).sum()
        samples += labels.shape[0]
    sync()
    seconds = time.perf_counter() - start
    n = max(samples, 1)
    return EpochStats(samples, seconds, loss.item() / n, correct.item() / n)


def fit(epochs: int, model: nn.Module, optimizer: torch.optim.Optimizer, train_batches: Batches, val_batches: Batches,
        device: torch.device | str, *, run_epoch: Callable[[], EpochStats] | None = None,
        stop_at: float | None = None) -> list[EpochRecord]:
    """Train `epochs` epochs, validating after each; stop early once validation accuracy reaches `stop_at`.

    `run_epoch` replaces the eager training pass (resident-graph replays its captured step instead).
    """
    run_epoch = run_epoch or (lambda: train_epoch(model, optimizer, train_batches, device))
    history: list[EpochRecord] = []
    for epoch in range(1, epochs + 1):
        history.append(EpochRecord(epoch, run_epoch(), evaluate(model, val_batches, device)))
        if stop_at is not None and history[-1].val.accuracy >= stop_at:
            break
    return history


def time_to_accuracy(target: float, max_epochs: int, model: nn.Module, optimizer: torch.optim.Optimizer,
                     train_batches: Batches, val_batches: Batches, device: torch.device | str, *,
                     run_epoch: Callable[[], EpochStats] | None = None) -> TimeToAccuracy:
    """Train until validation accuracy reaches `target` (a fraction) or `max_epochs` pass."""
    if not 0 < target <= 1:
        raise ValueError(f"target accuracy must be a fraction in (0, 1], got {target}")
    start = time.perf_counter()
    history = fit(max_epochs, model, optimizer, train_batches, val_batches, device, run_epoch=run_epoch,
                  stop_at=target)
    seconds = time.perf_counter() - start
    last = history[-1]
    return TimeToAccuracy(
        target=target, reached=last.val.accuracy >= target, epochs=len(history), seconds=seconds,
        train_seconds=sum(record.train.seconds for record in history), val_accuracy=last.val.accuracy,
        train_samples=sum(record.train.samples for record in history), history=tuple(history),
    )
