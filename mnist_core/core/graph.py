"""resident-graph: the whole training step captured once in a CUDA graph and replayed.

Each replay gathers the batch by index from the resident uint8 split, normalises it, and runs
forward, loss, backward and the fused SGD step. The host only copies the next slice of a device-side
permutation into the static index buffer and replays: no host sync inside an epoch. The final partial
batch of an epoch is dropped (a graph has static shapes).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.core.config import BenchConfig
from mnist_core.core.loaders import DeviceOrder, normalise_uint8
from mnist_core.core.train import EpochStats
from mnist_core.errors import ConfigError

CAPTURE_WARMUP_STEPS = 3  # eager steps on a side stream before capture, as torch's docs require


def gathered_train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                        labels: torch.Tensor, index: torch.Tensor) -> None:
    """One SGD step on the samples at `index` of a resident uint8 split: the tutorial's step, fit for capture.

    Fixed shapes, no host reads. Setting grads to None first is plain Python (nothing is captured), and
    it makes the captured backward write the grads rather than accumulate into them, so each replay
    starts from fresh grads as an eager step does.
    """
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(normalise_uint8(images_u8[index])), labels[index])
    loss.backward()
    optimizer.step()


def warm_up_and_capture(model: nn.Module, device: torch.device, run: Callable[[], None]) -> torch.cuda.CUDAGraph | None:
    """Run `run` a few times, then (on CUDA) capture one more call in a CUDA graph, and restore the weights
    the warm-up changed, in place (a graph holds these very tensors), so the captured path starts where the
    eager one does. On CUDA the warm-up runs on a side stream, as capture requires; on the CPU nothing is
    captured (None) and the warm-up only compiles what `run` compiles."""
    initial_weights = copy.deepcopy(model.state_dict())
    graph = None
    if device.type != "cuda":
        for _ in range(CAPTURE_WARMUP_STEPS):
            run()
    else:
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(CAPTURE_WARMUP_STEPS):
                run()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            run()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            tensor.copy_(initial_weights[name])
    if graph is not None:
        torch.cuda.synchronize(device)
    return graph


class EpochOrder:
    """Batch indices from a device-side permutation, a new one at each epoch boundary; full batches only."""

    def __init__(self, order: DeviceOrder, batch_size: int):
        self.order = order
        self.batch_size = batch_size
        self.steps_per_epoch = order.size // batch_size
        self._epoch: torch.Tensor | None = None
        self._position = 0

    def restart(self) -> None:
        """Start the next call at the first batch of a fresh permutation."""
        self._epoch = None

    def next_batch(self) -> torch.Tensor:
        if self._epoch is None or self._position == self.steps_per_epoch:
            self._epoch = self.order.epoch()
            self._position = 0
        start = self._position * self.batch_size
        self._position += 1
        return self._epoch[start:start + self.batch_size]


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
        self.order = EpochOrder(DeviceOrder(len(labels), self.device, shuffle=True, seed=seed), batch_size)
        self.steps_per_epoch = self.order.steps_per_epoch
        self.static_index = torch.zeros(batch_size, dtype=torch.int64, device=self.device)
        self.graph = self._capture()

    def _step(self) -> None:
        gathered_train_step(self.model, self.optimizer, self.images_u8, self.labels, self.static_index)

    def _capture(self) -> torch.cuda.CUDAGraph:
        self.model.train()
        return warm_up_and_capture(self.model, self.device, self._step)

    def run_steps(self, count: int) -> None:
        """Replay `count` steps, starting a new permutation at each epoch boundary; no sync."""
        for _ in range(count):
            self.static_index.copy_(self.order.next_batch())
            self.graph.replay()

    def train_epoch(self) -> EpochStats:
        """One full epoch (full batches only) from a fresh permutation, between two syncs."""
        self.model.train()
        self.order.restart()
        torch.cuda.synchronize(self.device)
        start = time.perf_counter()
        self.run_steps(self.steps_per_epoch)
        torch.cuda.synchronize(self.device)
        return EpochStats(self.steps_per_epoch * self.batch_size, time.perf_counter() - start)


def trainer_for(config: BenchConfig, model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                labels: torch.Tensor) -> CudaGraphTrainer:
    """The resident-graph pipeline's trainer for `config` (its record in core/pipelines.py names this module)."""
    return CudaGraphTrainer(model, optimizer, images_u8, labels, batch_size=config.batch_size, seed=config.seed)
