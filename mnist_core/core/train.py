"""Training step, epoch, evaluation, fit and time-to-accuracy. Functions return numbers; none print."""

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
    loss: float
    accuracy: float
    samples: int
    seconds: float

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


def make_optimizer(model: nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """Plain SGD as in the tutorial; fused on CUDA, foreach on the CPU (same maths, fewer launches)."""
    if torch.device(device).type == "cuda":
        return torch.optim.SGD(model.parameters(), lr=lr, fused=True)
    return torch.optim.SGD(model.parameters(), lr=lr, foreach=True)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor,
               labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step; returns (summed loss, correct count) as device tensors so nothing syncs."""
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        correct = (logits.argmax(dim=1) == labels).sum()
    return loss.detach() * labels.shape[0], correct


class _Totals:
    """Running sums kept on the device; read once at the end of an epoch."""

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.samples = 0

    def add(self, loss_sum: torch.Tensor, correct: torch.Tensor, samples: int) -> None:
        self.loss += loss_sum
        self.correct += correct
        self.samples += samples

    def stats(self, seconds: float) -> EpochStats:
        n = max(self.samples, 1)
        return EpochStats(self.loss.item() / n, self.correct.item() / n, self.samples, seconds)


def _timed_pass(batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device,
                per_batch: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]) -> EpochStats:
    """Run `per_batch` over every batch between two device syncs; totals are read once, at the end."""
    device = torch.device(device)
    sync = sync_fn(device)
    totals = _Totals(device)
    sync()
    start = time.perf_counter()
    for images, labels in batches:
        loss_sum, correct = per_batch(images, labels)
        totals.add(loss_sum, correct, labels.shape[0])
    sync()
    return totals.stats(time.perf_counter() - start)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer,
                batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device) -> EpochStats:
    model.train()
    return _timed_pass(batches, device, lambda images, labels: train_step(model, optimizer, images, labels))


def _eval_step(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = model(images)
    return F.cross_entropy(logits, labels, reduction="sum"), (logits.argmax(dim=1) == labels).sum()


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
             device: torch.device) -> EpochStats:
    model.eval()
    return _timed_pass(batches, device, lambda images, labels: _eval_step(model, images, labels))


def fit(epochs: int, model: nn.Module, optimizer: torch.optim.Optimizer, train_batches,
        val_batches, device: torch.device, train_epoch_fn=train_epoch) -> list[EpochRecord]:
    history = []
    for epoch in range(1, epochs + 1):
        train_stats = train_epoch_fn(model, optimizer, train_batches, device)
        history.append(EpochRecord(epoch, train_stats, evaluate(model, val_batches, device)))
    return history


def time_to_accuracy(target: float, max_epochs: int, model: nn.Module, optimizer: torch.optim.Optimizer,
                     train_batches, val_batches, device: torch.device,
                     train_epoch_fn=train_epoch) -> TimeToAccuracy:
    """Train until validation accuracy reaches `target` (a fraction) or `max_epochs` pass."""
    if not 0 < target <= 1:
        raise ValueError(f"target accuracy must be a fraction in (0, 1], got {target}")
    history: list[EpochRecord] = []
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        train_stats = train_epoch_fn(model, optimizer, train_batches, device)
        history.append(EpochRecord(epoch, train_stats, evaluate(model, val_batches, device)))
        if history[-1].val.accuracy >= target:
            break
    seconds = time.perf_counter() - start
    last = history[-1]
    return TimeToAccuracy(
        target=target, reached=last.val.accuracy >= target, epochs=len(history), seconds=seconds,
        train_seconds=sum(r.train.seconds for r in history), val_accuracy=last.val.accuracy,
        train_samples=sum(r.train.samples for r in history), history=tuple(history),
    )
