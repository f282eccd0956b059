"""resident-graph: the whole training step captured once in a CUDA graph and replayed.

Each replay gathers the batch by index from the resident uint8 split, normalises it, runs
forward, loss, backward and the fused SGD step, and adds loss/correct counts to device
totals. The host only copies the next slice of a device-side permutation into the static
index buffer and replays: no host sync inside an epoch. The final partial batch of an
epoch is dropped (a graph has static shapes).
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.errors import ConfigError
from mnist_core.core.loaders import normalise_uint8
from mnist_core.core.train import EpochStats

CAPTURE_WARMUP_STEPS = 3  # eager steps on a side stream before capture, as torch's docs require


def gathered_train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                        labels: torch.Tensor, index: torch.Tensor, loss_sum: torch.Tensor,
                        correct: torch.Tensor) -> None:
    """One SGD step on the samples at `index` of a resident uint8 split, added to device totals.

    Fit for capture: fixed shapes, no host reads. Setting grads to None first is plain Python
    (nothing is captured), and it makes the captured backward write the grads rather than
    accumulate into them, so each replay starts from fresh grads as an eager step does.
    """
    optimizer.zero_grad(set_to_none=True)
    images = normalise_uint8(images_u8[index])
    batch_labels = labels[index]
    logits = model(images)
    loss = F.cross_entropy(logits, batch_labels)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        loss_sum.add_(loss * index.shape[0])
        correct.add_((logits.argmax(dim=1) == batch_labels).sum())


class EpochOrder:
    """Batch indices from a device-side permutation, a new one at each epoch boundary; full batches only."""

    def __init__(self, size: int, batch_size: int, generator: torch.Generator):
        self.size = size
        self.batch_size = batch_size
        self.steps_per_epoch = size // batch_size
        self.generator = generator
        self._order: torch.Tensor | None = None
        self._position = 0

    def restart(self) -> None:
        """Start the next call at the first batch of a fresh permutation."""
        self._order = None

    def next_batch(self) -> torch.Tensor:
        if self._order is None or self._position == self.steps_per_epoch:
            self._order = torch.randperm(self.size, device=self.generator.device, generator=self.generator)
            self._position = 0
        start = self._position * self.batch_size
        self._position += 1
        return self._order[start:start + self.batch_size]


class CudaGraphTrainer:
    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                 labels: torch.Tensor, *, batch_size: int, seed: int):
        if images_u8.device.type != "cuda":
            raise ConfigError(
                f"resident-graph needs the split on a CUDA device, got {images_u8.device}; use loader='resident' on the CPU"
            )
        if images_u8.dtype != torch.uint8:
            raise ConfigError(f"resident-graph holds images as uint8, got {images_u8.dtype}")
        if len(images_u8) != len(labels):
            raise ConfigError(f"images ({len(images_u8)}) and labels ({len(labels)}) differ in count")
        if not 1 <= batch_size <= len(labels):
            raise ConfigError(f"batch_size must be between 1 and the split size {len(labels)}, got {batch_size}")
        if type(optimizer) is not torch.optim.SGD or any(group["momentum"] for group in optimizer.param_groups):
            # Capture's warm-up steps would leave optimizer state (momentum, Adam's moments) behind that
            # the restored weights lack.
            raise ConfigError("resident-graph restores the weights after capture's warm-up but not optimizer "
                              "state; use plain SGD (momentum 0), as the tutorial does")
        self.model = model
        self.optimizer = optimizer
        self.images_u8 = images_u8
        self.labels = labels
        self.batch_size = batch_size
        self.device = images_u8.device
        self.order = EpochOrder(len(labels), batch_size, torch.Generator(device=self.device).manual_seed(seed))
        self.steps_per_epoch = self.order.steps_per_epoch
        self.static_index = torch.zeros(batch_size, dtype=torch.int64, device=self.device)
        self.loss_sum = torch.zeros((), device=self.device)
        self.correct = torch.zeros((), dtype=torch.int64, device=self.device)
        self.graph = self._capture()

    def _step(self) -> None:
        gathered_train_step(self.model, self.optimizer, self.images_u8, self.labels, self.static_index,
                            self.loss_sum, self.correct)

    def _capture(self) -> torch.cuda.CUDAGraph:
        # Warm-up steps change the weights; restore them so the graph path starts where eager does.
        initial_weights = copy.deepcopy(self.model.state_dict())
        self.model.train()
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(CAPTURE_WARMUP_STEPS):
                self._step()
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._step()
        with torch.no_grad():
            for name, tensor in self.model.state_dict().items():
                tensor.copy_(initial_weights[name])  # in place: the graph holds these tensors
        self.loss_sum.zero_()
        self.correct.zero_()
        torch.cuda.synchronize(self.device)
        return graph

    def run_steps(self, count: int) -> None:
        """Replay `count` steps, starting a new permutation at each epoch boundary; no sync."""
        for _ in range(count):
            self.static_index.copy_(self.order.next_batch())
            self.graph.replay()

    def train_epoch(self) -> EpochStats:
        """One full epoch (full batches only) from a fresh permutation; reads totals once at the end."""
        self.model.train()
        self.order.restart()
        self.loss_sum.zero_()
        self.correct.zero_()
        torch.cuda.synchronize(self.device)
        start = time.perf_counter()
        self.run_steps(self.steps_per_epoch)
        torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - start
        samples = self.steps_per_epoch * self.batch_size
        return EpochStats(self.loss_sum.item() / samples, self.correct.item() / samples, samples, seconds)


def graph_train_epoch(model, optimizer, trainer: CudaGraphTrainer, device) -> EpochStats:
    """Adapter with train_epoch's signature, for fit() and time_to_accuracy()."""
    return trainer.train_epoch()
