"""A bare, hand-written training loop: the yardstick for the suite's own overhead.

Same work as a Workload round (same pipeline, model and number of full batches), timed with
perf_counter and the device sync only: no sampler thread, no pytest-benchmark, no bookkeeping.
"""

from __future__ import annotations

import time

import torch

from .config import BenchConfig
from .data import MnistData
from .devices import sync_fn
from .loaders import close_loader
from .models import build_model
from .pipeline import prepare_torch, train_loader, train_split
from .train import make_optimizer, train_step


def bare_round_seconds(config: BenchConfig, data: MnistData, rounds: int, warmup_rounds: int = 1) -> list[float]:
    device = torch.device(config.device)
    sync = sync_fn(device)
    prepare_torch(config)
    loader = train_loader(config, data, train_split(config, data), endless=True)
    model = build_model(config.model, config.hidden_width).to(device)
    optimizer = make_optimizer(model, config.lr, device)
    steps = max(1, config.samples_per_round // config.batch_size)
    batches = iter(loader)
    times = []
    try:
        for round_index in range(warmup_rounds + rounds):
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                try:
                    images, labels = next(batches)
                except StopIteration:
                    batches = iter(loader)
                    images, labels = next(batches)
                train_step(model, optimizer, images, labels)
            sync()
            if round_index >= warmup_rounds:
                times.append(time.perf_counter() - start)
    finally:
        close_loader(loader)
    return times
