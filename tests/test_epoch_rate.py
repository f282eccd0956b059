"""A DataLoader row's rate is what a user's epoch gets (issue 26, item 3).

Two things made rounds on persistent workers read faster than whole epochs: rounds that began with batches the
workers finished during a pause, and the start-up every epoch of the tutorial's fit pays (its workers forked
anew, the first batch awaited) that persistent workers never pay. These tests check the drain before a timed
round by counting untimed steps against a loader whose finished batches are known, and the definition of
samples/s and "s per epoch" by arithmetic on rounds of known seconds; none reads a clock.
"""

from __future__ import annotations

import multiprocessing

import pytest
import torch

from mnist_core.core.config import BenchConfig, tutorial
from mnist_core.core.data import MnistData
from mnist_core.core.loaders import WorkerQueue, close_loader, make_dataloader, split_indices, worker_queue
from mnist_core.measure.measurement import Measurement
from mnist_core.measure.workload import (EPOCH_STARTS, REFILL_POLL_S, REFILL_TIMEOUT_S, Workload, build_workload,
                                         epoch_start_seconds)
from mnist_core.runs.rows import ThroughputRow
from mnist_core.runs.sections import Dataset, SessionRecord

from bench.timing import timed

CPU = torch.device("cpu")


class Pipeline:
    """A fake DataLoader: `ready` batches finished of the `asked` its workers hold; each step takes one (and
    asks for the next) and the workers refill `refill` every `refill_every` steps (they go on working while the
    first are taken)."""

    def __init__(self, ready: int, refill: int = 0, refill_every: int = 1, asked: int = 4):
        self.ready, self.refill, self.refill_every, self.asked = ready, refill, refill_every, asked
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        self.ready = max(0, self.ready - 1)
        if self.refill and self.steps % self.refill_every == 0:
            self.ready = min(self.asked, self.ready + self.refill)

    def queue(self) -> WorkerQueue:
        return WorkerQueue(self.ready, self.asked)


def workload(pipeline: Pipeline | None, *, workers: int = 2, steps: int = 10, batch: int = 128,
             epoch_start_s: float = 0.0, epoch_samples: int | None = None) -> Workload:
    config = tutorial("cpu", "fashion-mnist", num_workers=workers, batch_size=batch)
    return Workload(config, "train", steps, 0.0, pipeline.step if pipeline else (lambda: None), lambda: None,
                    epoch_start_s=epoch_start_s, epoch_samples=epoch_samples,
                    workers=pipeline.queue if pipeline else None)


class FakeClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self):
        self.now, self.sleeps = 0.0, 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1


@pytest.mark.parametrize("ready, refill, refill_every", [
    (4, 0, 1),  # the queue full after a pause (2 workers x 2 prefetched)
    (4, 1, 2),  # a batch refilled every second step while they are taken
    (1, 0, 1),  # fewer finished than the queue holds
    (4, 1, 1),  # the step is the slower side (the workers keep up)
])
def test_a_round_starts_once_the_pause_s_batches_and_as_many_again_are_taken(ready, refill, refill_every):
    """settle_steps take what the workers finished during the pause; as many again, taken as they are made, put
    the workers back in their mid-epoch rhythm, whatever the queue held."""
    pipeline = Pipeline(ready, refill, refill_every)
    load = workload(pipeline)
    assert load.settle_steps == 4
    assert load.settle() == 2 * load.settle_steps == pipeline.steps


def test_a_round_steps_settle_then_its_own_steps():
    pipeline = Pipeline(ready=4, refill=0)
    load = workload(pipeline, steps=10)
    load.let_workers_refill = lambda: None  # the fake's workers never refill
    load.timed_round()
    assert pipeline.steps == 2 * 4 + 10


def test_after_a_round_the_workers_are_let_finish_what_they_were_asked_for():
    pipeline, clock = Pipeline(ready=1, asked=4), FakeClock()
    load = workload(pipeline)

    def sleep(seconds):  # the workers finish one batch while the main process waits
        clock.sleep(seconds)
        pipeline.ready += 1

    load.let_workers_refill(clock=clock, sleep=sleep)
    assert pipeline.ready == 4 and clock.sleeps == 3 and pipeline.steps == 0  # waited, took nothing


def test_a_stalled_worker_holds_the_round_up_only_until_the_timeout():
    pipeline, clock = Pipeline(ready=1, asked=4), FakeClock()
    workload(pipeline).let_workers_refill(clock=clock, sleep=clock.sleep)
    assert REFILL_TIMEOUT_S <= clock.now < REFILL_TIMEOUT_S + 2 * REFILL_POLL_S


def test_no_queue_no_wait():
    clock = FakeClock()
    workload(None, workers=0).let_workers_refill(clock=clock, sleep=clock.sleep)
    assert clock.sleeps == 0


def test_without_a_view_of_the_queue_settling_is_settle_steps():
    load = workload(None, workers=0)
    assert load.settle_steps == 1 and load.settle() == 1


def test_the_worker_queue_of_real_workers_and_none_without_workers(fashion):
    images, labels = fashion.train_images[:1024], fashion.train_labels[:1024]
    indices = torch.arange(1024)
    none = make_dataloader(images, labels, indices, device=CPU, batch_size=64, shuffle=False, num_workers=0,
                           pin_memory=False, non_blocking=False, seed=0, persistent_workers=True)
    next(iter(none))
    assert worker_queue(none) is None
    loader = make_dataloader(images, labels, indices, device=CPU, batch_size=64, shuffle=False, num_workers=2,
                             pin_memory=False, non_blocking=False, seed=0, persistent_workers=True)
    assert worker_queue(loader) is None  # no iterator yet
    batches = iter(loader)
    next(batches)
    queue = worker_queue(loader)
    assert queue.asked == 2 * 2  # prefetch_factor x workers, re-asked after the batch taken
    assert 0 <= queue.finished <= queue.asked
    batches.close()
    close_loader(loader)
    assert worker_queue(loader) is None


def test_a_rounds_rate_is_charged_its_share_of_the_epoch_start_up():
    load = workload(Pipeline(0), steps=10, batch=128, epoch_start_s=2.0, epoch_samples=50_000)
    load.timed_round = lambda: 0.25  # what the clock read: a round of 1,280 samples in 0.25 s
    assert load.epoch_start_share_s == pytest.approx(2.0 * 1_280 / 50_000)
    assert timed(load, None).rate == pytest.approx(1_280 / (0.25 + 2.0 * 1_280 / 50_000))
    assert timed(load, None, per_epoch=False).rate == pytest.approx(1_280 / 0.25)


def test_s_per_epoch_is_the_epoch_start_up_plus_the_batches_at_the_measured_rate():
    """What the answer and results.csv call "s per epoch" (epoch samples / the row's samples/s) is, by the
    charge, the measured start-up plus an epoch's samples at the rounds' own rate."""
    from mnist_core.runs.frame import epoch_samples  # noqa: F401  the definition the answer and tables use

    round_s, start_s, epoch = 0.25, 0.4, 50_000
    load = workload(Pipeline(0), steps=10, batch=128, epoch_start_s=start_s, epoch_samples=epoch)
    load.timed_round = lambda: round_s
    rate = timed(load, None).rate
    assert epoch / rate == pytest.approx(start_s + epoch * round_s / load.samples_per_round)


def test_no_start_up_is_charged_without_workers_or_an_epoch_size():
    assert workload(Pipeline(0), epoch_start_s=0.0, epoch_samples=50_000).epoch_start_share_s == 0
    assert workload(Pipeline(0), epoch_start_s=1.0, epoch_samples=None).epoch_start_share_s == 0


def test_epoch_start_up_is_measured_on_fresh_workers_that_are_then_stopped(fashion):
    data = MnistData(fashion.train_images[:3000], fashion.train_labels[:3000], fashion.test_images,
                     fashion.test_labels, fashion.location)
    split = split_indices(3000, seed=0, val_size=500)
    before = set(multiprocessing.active_children())
    config = BenchConfig(dataset="fashion-mnist", batch_size=256, num_workers=2)
    assert epoch_start_seconds(config, data, split, lambda: None) > 0
    assert set(multiprocessing.active_children()) <= before  # all EPOCH_STARTS iterators' workers stopped
    assert EPOCH_STARTS >= 3  # a median of several forks, not one
    for quiet in (BenchConfig(dataset="fashion-mnist", num_workers=0), BenchConfig(dataset="fashion-mnist",
                                                                                    loader="resident")):
        assert epoch_start_seconds(quiet, data, split, lambda: None) == 0.0


def test_a_dataloader_workload_knows_its_epoch_and_its_queue(fashion):
    data = MnistData(fashion.train_images[:3000], fashion.train_labels[:3000], fashion.test_images,
                     fashion.test_labels, fashion.location)
    config = BenchConfig(dataset="fashion-mnist", batch_size=128, num_workers=2, samples_per_round=1280)
    with build_workload("train", config, data) as load:
        assert load.epoch_samples == 2500 and load.epoch_start_s > 0 and load.workers() is not None
        load.timed_round()
        queue = load.workers()
        assert queue.finished == queue.asked  # the round ended with its workers' refill done
    with build_workload("train", config.replace(loader="resident"), data) as load:
        assert load.epoch_start_s == 0.0 and load.workers is None


def test_the_row_keeps_its_epoch_start_up():
    config = tutorial("cpu", "fashion-mnist")
    row = ThroughputRow(name=f"test_train[{config.label()}]", row_kind="train", config=config,
                        measurement=Measurement("samples_per_s", (9_000.0,) * 6), epoch_start_s=0.31)
    assert ThroughputRow.from_info(row.to_info(), row.name).epoch_start_s == 0.31


def test_the_answer_says_what_its_s_per_epoch_is():
    """An epoch's samples at the row's rate; "start-up + batches" only where a start-up was charged."""
    from types import SimpleNamespace

    from mnist_core.report.answer import _per_epoch
    from mnist_core.report.formatting import duration

    run = SimpleNamespace(session=SessionRecord(2, dataset=Dataset(train_size=60_000)))  # 50,000 after validation
    config = tutorial("cpu", "fashion-mnist")
    for start_s, what in ((0.31, "start-up + batches at this rate"), (0.0, "batches at this rate"),
                          (None, "batches at this rate")):
        row = ThroughputRow(name=f"test_train[{config.label()}]", row_kind="train", config=config,
                            measurement=Measurement("samples_per_s", (9_000.0,) * 6), epoch_start_s=start_s)
        assert _per_epoch(run, row, 9_000.0) == f", {duration(50_000 / 9_000)} per epoch ({what})"
