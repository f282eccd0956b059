"""A bare, hand-written training loop: the yardstick for the suite's own overhead.

Same work as a Workload round (same pipeline, model and number of full batches), timed with
perf_counter and the device sync only: no sampler thread, no pytest-benchmark, no bookkeeping.
"""

from __future__ import annotations

import time

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.devices import sync_fn
from mnist_core.core.loaders import close_loader
from mnist_core.core.models import build_model
from mnist_core.core.pipeline import prepare_torch, train_loader, train_split
from mnist_core.core.train import make_optimizer, train_step


class BareLoop:
    """The training loop as a user would write it, one timed round at a time.

    Rounds are taken one by one so they can alternate with the suite's: a change in machine
    speed during the benchmark then hits both sides alike.
    """

    def __init__(self, config: BenchConfig, data: MnistData, warmup_rounds: int = 1):
        self.device = torch.device(config.device)
        self.sync = sync_fn(self.device)
        self.steps = config.steps_per_round
        prepare_torch(config)
        self.loader = train_loader(config, data, train_split(config, data), endless=True)
        self.model = build_model(config.model, config.hidden_width).to(self.device)
        self.optimizer = make_optimizer(self.model, config.lr, self.device)
        self.batches = iter(self.loader)
        self.round_seconds: list[float] = []
        for _ in range(warmup_rounds):
            self._round()

    def _round(self) -> float:
        self.sync()
        start = time.perf_counter()
        for _ in range(self.steps):
            try:
                images, labels = next(self.batches)
            except StopIteration:
                self.batches = iter(self.loader)
                images, labels = next(self.batches)
            train_step(self.model, self.optimizer, images, labels)
        self.sync()
        return time.perf_counter() - start

    def timed_round(self) -> None:
        self.round_seconds.append(self._round())

    def close(self) -> None:
        """Stop workers and drop the model and data, so a failed benchmark's traceback does not hold them."""
        close_loader(self.loader)
        self.loader = self.batches = self.model = self.optimizer = None

    def __enter__(self) -> BareLoop:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
