"""A benchmark workload: everything built outside the timed region, then fixed-size rounds.

A round is `steps_per_round` full batches (so every round is the same number of samples)
followed by the device's sync, so the time of a round on a GPU is the time of its work. A DataLoader's
persistent workers prefetch while another workload takes its turn (rounds are paired with a yardstick)
and while the state probe runs; a round that began with that queue would read faster than any epoch. So
around each timed round, untimed: after it, the workers are let finish refilling (they then idle, and take
no cores from what is timed next); before it, "settle" steps take what they finished and as many again, so
the workers are back in their mid-epoch rhythm. What a user's epoch pays that persistent workers never do, the fresh
iterator's fork and first batch, is measured (epoch_start_s) and each round is charged its share.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import MnistData
from mnist_core.core.devices import sync_fn, to_device
from mnist_core.core.loaders import (ResidentLoader, Split, WorkerQueue, close_loader, endless, prepare_torch,
                                     train_loader, train_split, worker_queue)
from mnist_core.core.models import build_training
from mnist_core.core.train import train_step
from mnist_core.measure.telemetry import reset_torch_peak

KINDS = ("train", "loader")
PREFETCH_FACTOR = 2  # torch's DataLoader default: each worker keeps this many batches ready
EPOCH_STARTS = 3  # fresh iterators timed for a DataLoader row's epoch start-up (their median)
QUEUE_SHARE = 4
REFILL_TIMEOUT_S = 5.0  # the most a round waits for its workers to finish refilling (a stalled worker: go on)
REFILL_POLL_S = 0.002  # a round holds at least this many times the batches the workers keep ready


@dataclass
class Workload:
    config: BenchConfig
    kind: str
    steps_per_round: int
    first_batch_s: float  # building the pipeline to its first batch on the device (not CUDA's context)
    step: Callable[[], object]
    sync: Callable[[], None]
    closers: list[Callable[[], None]] = field(default_factory=list)
    dataset_on_device_bytes: int | None = None  # resident pipelines: the uint8 split held on the device
    steps_per_call: int = 1  # training steps one call of `step` runs (a CUDA graph of K compiled steps)
    # What every epoch of the tutorial's fit pays before its batches flow: a fresh iterator forks the workers and
    # waits for the first batch. Rounds run on persistent workers and never pay it; 0 without workers.
    epoch_start_s: float = 0.0
    epoch_samples: int | None = None  # samples in one training epoch (the train split)
    workers: Callable[[], WorkerQueue | None] | None = None  # the DataLoader workers' queue (loaders.worker_queue)

    @property
    def samples_per_round(self) -> int:
        return self.steps_per_round * self.config.batch_size

    @property
    def min_steps_per_round(self) -> int:
        """Fewer batches than a few times the workers' queue, and a round's time is mostly how full the queue
        was when it started (5 batches of 2048 with 2 workers: rounds 16k to 43k samples/s)."""
        return max(1, QUEUE_SHARE * PREFETCH_FACTOR * self.config.num_workers)

    @property
    def settle_steps(self) -> int:
        """Untimed calls before a timed round: empty what the workers prefetched while others ran."""
        return max(1, PREFETCH_FACTOR * self.config.num_workers)

    def settle(self) -> int:
        """Untimed steps before a timed round; returns how many. First settle_steps, which take what the workers
        finished while the round was not running (they idle then, and restart all at once); then, with workers,
        as many again, taken as they are made, so the round starts with the workers in the rhythm they keep
        mid-epoch rather than all starting their next batch together (which read 5-25% slow on loader rounds
        of ~20 batches). A round so starts as a user's epoch runs between its first and last batch."""
        taken = self.settle_steps * (2 if self.workers is not None else 1)
        for _ in range(taken):
            self.step()
        self.sync()
        return taken

    def let_workers_refill(self, clock: Callable[[], float] = time.perf_counter,
                           sleep: Callable[[float], None] = time.sleep) -> None:
        """Untimed, after a timed round: wait (at most REFILL_TIMEOUT_S) until the workers have finished every
        batch they were asked for and idle, so that their refilling does not take the cores from what is timed
        next (the paired yardstick's round, the state probe, this row's own settle)."""
        deadline = clock() + REFILL_TIMEOUT_S
        while clock() < deadline:
            queue = self.workers() if self.workers is not None else None
            if queue is None or queue.finished >= queue.asked:
                return
            sleep(REFILL_POLL_S)

    @property
    def epoch_start_share_s(self) -> float:
        """A round's share of the epoch start-up (its samples' share of an epoch): added to every round's
        seconds, so a row's samples/s is what whole epochs get and "s per epoch" includes the start-up."""
        if not self.epoch_samples:
            return 0.0
        return self.epoch_start_s * self.samples_per_round / self.epoch_samples

    def run_round(self) -> None:
        step = self.step
        for _ in range(self.steps_per_round // self.steps_per_call):
            step()
        self.sync()

    def timed_round(self) -> float:
        """Settle, then one round timed from its first step to its sync, then the workers' refill: its seconds."""
        self.settle()
        start = time.perf_counter()
        self.run_round()
        seconds = time.perf_counter() - start
        self.let_workers_refill()
        return seconds

    def warmup(self, rounds: int, min_seconds: float = 0.0) -> int:
        return warm_up(self.run_round, rounds, min_seconds)

    def fit_rounds(self, low_s: float, high_s: float) -> None:
        """Make a round last between `low_s` and `high_s`: one untimed round measures it, then the round's
        number of steps is scaled (whole calls, at least one). Rounds far shorter than a DataLoader's
        prefetching or the timer's grain are noise; far longer ones leave too few rounds for an interval. A
        DataLoader round keeps at least min_steps_per_round batches, however long that takes."""
        self.steps_per_round = max(self.steps_per_round, self.min_steps_per_round)
        seconds = self.timed_round()
        if not (low_s <= seconds <= high_s or seconds <= 0):
            target = low_s if seconds < low_s else high_s
            calls = max(1, round(self.steps_per_round / self.steps_per_call * target / seconds))
            self.steps_per_round = max(calls * self.steps_per_call, self.min_steps_per_round)

    def close(self) -> None:
        """Stop workers and free device memory so the next configuration starts clean."""
        first_error = None
        for closer in self.closers:
            try:
                closer()
            except Exception as error:  # the other closers still run: no worker or device memory left behind
                first_error = first_error or error
        self.closers.clear()
        self.step = _closed
        gc.collect()
        if self.config.device == "cuda":
            torch.cuda.empty_cache()
        if first_error is not None:
            raise first_error

    def __enter__(self) -> Workload:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            self.close()
        except Exception as close_error:
            if exc is None:
                raise
            # Keep the error (or Ctrl-C/SIGTERM) that ended the block: a loader whose workers died with
            # it fails to close, and that second error must not stand in for the first.
            exc.add_note(f"closing the workload then failed too: {type(close_error).__name__}: {close_error}")


def warm_up(run_round: Callable[[], object], rounds: int, min_seconds: float = 0.0) -> int:
    """Untimed rounds through the same path: at least `rounds`, and until `min_seconds` have passed."""
    start, done = time.perf_counter(), 0
    while done < rounds or time.perf_counter() - start < min_seconds:
        run_round()
        done += 1
    return done


def _closed() -> None:
    raise RuntimeError("workload is closed")


def build_workload(kind: str, config: BenchConfig, data: MnistData) -> Workload:
    """Build the pipeline (and model) for `config` and fetch the first batch."""
    if kind not in KINDS:
        raise ValueError(f"workload kind {kind!r} is not one of {', '.join(KINDS)}")
    config.check_runnable()
    device = torch.device(config.device)
    sync = sync_fn(device)
    prepare_torch(config)
    reset_torch_peak(device)
    split = train_split(config, data)
    start = time.perf_counter()
    if config.pipeline.trainer:
        return _trainer_workload(kind, config, data, split, sync, start)

    loader = train_loader(config, data, split, endless=True)
    batches = endless(loader)
    next(batches)
    sync()
    first_batch_s = time.perf_counter() - start
    closers = [lambda: close_loader(loader)]
    epoch_start_s = epoch_start_seconds(config, data, split, sync)
    workers = (lambda: worker_queue(loader)) if config.num_workers else None  # 0 where no DataLoader feeds it

    if kind == "loader":
        step = batches.__next__
    else:
        model, optimizer = build_training(config, device)

        def step():
            images, labels = next(batches)
            train_step(model, optimizer, images, labels)

    resident_bytes = loader.dataset_bytes if isinstance(loader, ResidentLoader) else None
    return Workload(config, kind, config.steps_per_round, first_batch_s, step, sync, closers, resident_bytes,
                    epoch_start_s=epoch_start_s, epoch_samples=len(split.train_indices), workers=workers)


def epoch_start_seconds(config: BenchConfig, data: MnistData, split: Split, sync: Callable[[], None]) -> float:
    """The median, over EPOCH_STARTS fresh iterators of the tutorial's per-epoch DataLoader, of the seconds
    from `iter()` to the first batch on the device: the workers' fork and first batch every epoch pays."""
    if config.num_workers == 0:  # also where no DataLoader feeds the pipeline (the config fixed it off)
        return 0.0
    loader = train_loader(config, data, split)  # not persistent: every iterator forks its workers, as in fit
    seconds = []
    for _ in range(EPOCH_STARTS):
        start = time.perf_counter()
        batches = iter(loader.loader)
        to_device(next(batches), loader.device, loader.non_blocking)
        sync()
        seconds.append(time.perf_counter() - start)
        batches._shutdown_workers()  # now, not whenever the iterator is garbage-collected
    return statistics.median(seconds)


def _trainer_workload(kind, config, data, split, sync, start) -> Workload:
    """A pipeline whose trainer owns its steps (captured or compiled), over the resident split."""
    if kind != "train":
        raise ValueError(f"{config.loader} captures the training step; its loader alone is 'resident'")
    device = torch.device(config.device)
    resident = ResidentLoader.from_host(
        data.train_images, data.train_labels, split.train_indices, device=device,
        batch_size=config.batch_size, shuffle=True, seed=config.seed, drop_last=True,
    )
    model, optimizer = build_training(config, device)
    steps = config.steps_per_replay
    trainer = config.pipeline.build_trainer(config, model, optimizer, resident.images_u8, resident.labels)
    trainer.run_steps(steps)  # capture or compile, then the first steps: building, not timed
    sync()
    first_batch_s = time.perf_counter() - start
    return Workload(config, kind, config.steps_per_round, first_batch_s, lambda: trainer.run_steps(steps), sync,
                    dataset_on_device_bytes=resident.dataset_bytes, steps_per_call=steps)
