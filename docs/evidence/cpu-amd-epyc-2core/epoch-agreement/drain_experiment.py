"""Interleaved, in one process: what settling and epoch start-up do to a DataLoader row's rate (issue 26 item 3).

For one setting, alternates (order rotated each repetition):
  pause+settleK : 50 ms pause (like the state probe) then K untimed steps, then a timed round of N steps (suite's way)
  steady        : a timed round of N steps right after the previous one (no pause: the workers' steady state)
  epoch         : one whole epoch through a fresh, non-persistent DataLoader iterator (the tutorial's fit)
  start         : time from iter() of a fresh non-persistent DataLoader to its first batch (fork + first batch)
"""
import json, statistics, sys, time
import torch
from mnist_core.core.config import tutorial
from mnist_core.core.data import load_dataset
from mnist_core.core.loaders import make_dataloader, split_indices
from mnist_core.core.models import build_training
from mnist_core.core.train import train_step
from mnist_core.measure.workload import build_workload

batch, steps, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = load_dataset("fashion-mnist", download=False)
config = tutorial("cpu", "fashion-mnist", batch_size=batch, samples_per_round=batch * steps)
w = build_workload("train", config, data)
w.warmup(1)
split = split_indices(len(data.train_labels), 0)
fresh = make_dataloader(data.train_images, data.train_labels, split.train_indices, device=torch.device("cpu"),
                        batch_size=batch, shuffle=True, num_workers=2, pin_memory=False, non_blocking=False, seed=1)
model, opt = build_training(config, "cpu")

def round_after(settle, pause=0.05):
    time.sleep(pause)
    for _ in range(settle):
        w.step()
    t = time.perf_counter(); w.run_round(); return w.samples_per_round / (time.perf_counter() - t)

def steady():
    w.run_round()
    t = time.perf_counter(); w.run_round(); return w.samples_per_round / (time.perf_counter() - t)

def epoch():
    n = 0; t = time.perf_counter()
    for x, y in fresh:
        train_step(model, opt, x, y); n += len(y)
    return n / (time.perf_counter() - t)

def start():
    t = time.perf_counter(); it = iter(fresh); next(it); s = time.perf_counter() - t; del it; return s

cases = {"settle4": lambda: round_after(4), "settle8": lambda: round_after(8), "settle16": lambda: round_after(16),
         "steady": steady, "epoch": epoch, "start_s": start}
out = {k: [] for k in cases}
names = list(cases)
for r in range(reps):
    for k in names[r % len(names):] + names[:r % len(names)]:
        out[k].append(cases[k]())
print(json.dumps({"batch": batch, "steps_per_round": steps, "reps": reps,
                  "median": {k: statistics.median(v) for k, v in out.items()}, "all": out}))
w.close()
