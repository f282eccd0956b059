"""resident-compiled: the whole training step compiled, and on CUDA many steps per CUDA graph replay.

The step (gather the batch from the resident uint8 split, normalise, forward, loss, backward, fused SGD)
is one function compiled by torch.compile (inductor): forward and backward fused into few kernels, the
optimizer step included. On CUDA, `steps_per_replay` (K) such steps are captured in one CUDA graph: the
host replays it once per K steps. Before each replay one device-to-device copy moves the next K slices of
the epoch's device-side permutation into the graph's static index window, so no index ever crosses from
the host. A graph has static shapes: an epoch is its full batches rounded down to a multiple of K (the
last few batches of each permutation are dropped, as resident-graph drops the last partial one).

At batch 128 the MLP's work per step is about 20 MFLOP, nanoseconds of a modern GPU: time per step is
bounded by kernel launches, so the fewer kernels per step and the fewer host calls per step, the faster.
On the CPU nothing is launched: there the compiled step is timed against the eager one, as it is.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.core.config import BenchConfig
from mnist_core.core.graph import warm_up_and_capture
from mnist_core.core.loaders import DeviceOrder, normalise_uint8
from mnist_core.core.train import EpochStats
from mnist_core.errors import ConfigError

CUDA_COMPILE_MODE = "max-autotune-no-cudagraphs"  # the graphs are captured here, by hand, K steps at once


def _check(model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor, labels: torch.Tensor,
           batch_size: int, steps_per_replay: int) -> None:
    if images_u8.dtype != torch.uint8 or len(images_u8) != len(labels):
        raise ConfigError("resident-compiled needs the split as uint8 images with one label each")
    if not 1 <= batch_size * steps_per_replay <= len(labels):
        raise ConfigError(f"batch_size x steps_per_replay must fit in the split of {len(labels)}, got "
                          f"{batch_size} x {steps_per_replay}")
    if type(optimizer) is not torch.optim.SGD or any(group["momentum"] for group in optimizer.param_groups):
        raise ConfigError("resident-compiled restores the weights after its warm-up but not optimizer state; use "
                          "plain SGD (momentum 0), as the tutorial does")


class CompiledTrainer:
    """Training steps of one model on a resident split: compiled, and on CUDA K per graph replay."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                 labels: torch.Tensor, *, batch_size: int, seed: int, steps_per_replay: int = 1):
        _check(model, optimizer, images_u8, labels, batch_size, steps_per_replay)
        self.model, self.optimizer = model, optimizer
        self.images_u8, self.labels = images_u8, labels
        self.batch_size = batch_size
        self.device = images_u8.device
        self.cuda = self.device.type == "cuda"
        self.steps_per_replay = steps_per_replay if self.cuda else 1
        self.order = DeviceOrder(len(labels), self.device, shuffle=True, seed=seed)
        full_batches = len(labels) // batch_size
        self.steps_per_epoch = full_batches - full_batches % self.steps_per_replay
        self._epoch: torch.Tensor | None = None
        self._position = 0  # the next batch of the epoch, counted on the host (arithmetic only, no sync)
        self.window = torch.zeros(self.steps_per_replay, batch_size, dtype=torch.int64, device=self.device)
        options = {"mode": CUDA_COMPILE_MODE} if self.cuda else {}
        self._compiled = torch.compile(self._step, **options)
        self.graph = self._compile_and_capture()

    def _step(self, index: torch.Tensor) -> None:
        """The tutorial's step on the samples at `index`; grads are set to None first (plain Python) so each
        step, replayed or not, writes fresh grads rather than adding to the last ones."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(normalise_uint8(self.images_u8[index])), self.labels[index])
        loss.backward()
        self.optimizer.step()

    def _steps(self) -> None:
        for k in range(self.steps_per_replay):
            self._compiled(self.window[k])

    def _compile_and_capture(self) -> torch.cuda.CUDAGraph | None:
        """Compile now (the warm-up steps), so no timed epoch pays for it; on CUDA capture K steps in a graph."""
        self.model.train()
        return warm_up_and_capture(self.model, self.device, self._steps)

    def _next_window(self) -> None:
        """The next K batches of the epoch's permutation into the static window: a copy on the device."""
        if self._epoch is None or self._position == self.steps_per_epoch:
            self._epoch = self.order.epoch()
            self._position = 0
        start = self._position * self.batch_size
        chunk = self._epoch[start:start + self.steps_per_replay * self.batch_size]
        self.window.copy_(chunk.view(self.steps_per_replay, self.batch_size))
        self._position += self.steps_per_replay

    def run_steps(self, count: int) -> None:
        """At least `count` steps (whole replays on CUDA), a new permutation at each epoch boundary; no sync."""
        self.model.train()
        for _ in range(-(-count // self.steps_per_replay)):
            self._next_window()
            if self.graph is not None:
                self.graph.replay()
            else:
                self._steps()

    def train_epoch(self) -> EpochStats:
        """One epoch (steps_per_epoch full batches) from a fresh permutation, between two syncs."""
        self._epoch = None
        sync = (lambda: torch.cuda.synchronize(self.device)) if self.cuda else (lambda: None)
        sync()
        start = time.perf_counter()
        self.run_steps(self.steps_per_epoch)
        sync()
        return EpochStats(self.steps_per_epoch * self.batch_size, time.perf_counter() - start)


def trainer_for(config: BenchConfig, model: nn.Module, optimizer: torch.optim.Optimizer, images_u8: torch.Tensor,
                labels: torch.Tensor) -> CompiledTrainer:
    """The resident-compiled pipeline's trainer for `config` (its record in core/pipelines.py names this module)."""
    return CompiledTrainer(model, optimizer, images_u8, labels, batch_size=config.batch_size, seed=config.seed,
                           steps_per_replay=config.steps_per_replay)
