"""A DataLoader row's rate against whole epochs of the tutorial's loop, interleaved in one process.

The session-level check (check_epoch_agreement.py) compares sessions with loop runs a minute apart, on a machine
whose speed moves by tens of percent between minutes. Here both sides take turns every few seconds, in one
process, `--reps` times:
  loop:   one whole epoch of scripts/epoch_loop.py's code (its own Dataset, DataLoader with a fresh iterator,
          model and optimiser; no code shared with the suite's timing), timed from `for batch in loader` to the
          last step, as a user times an epoch;
  suite:  the suite's measurement of the same setting, as a session takes it (bench/timing.timed through
          measure/rounds.run_rounds: settle, timed round, refill wait, the epoch start-up charged), its rounds
          paired with the tutorial's setting as the yardstick, for about as long as the loop's epoch.
Prints one JSON line per repetition and a summary: the median of the per-repetition ratios suite / loop.

    python scripts/epoch_anatomy.py --kind train --batch-size 128 --workers 2 --reps 8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, random_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
import epoch_loop  # noqa: E402  the independent loop

from bench.timing import timed  # noqa: E402
from mnist_core.core.config import BenchConfig, tutorial  # noqa: E402
from mnist_core.core.data import load_dataset  # noqa: E402
from mnist_core.measure.profiles import get_profile  # noqa: E402
from mnist_core.measure.rounds import Pairing, RoundPolicy, run_rounds  # noqa: E402
from mnist_core.measure.workload import build_workload  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("train", "loader"), default="train")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--profile", default="quick", help="the profile whose round size and length the suite uses")
    parser.add_argument("--dataset", default=None)
    args = parser.parse_args(argv)

    profile = get_profile(args.profile)
    data = load_dataset(args.dataset, download=False)
    name = data.location.name
    device = torch.device("cpu")

    torch.manual_seed(0)
    dataset = epoch_loop.Digits(data.train_images, data.train_labels)
    train_ds, _ = random_split(dataset, [len(dataset) - 10_000, 10_000])
    loop_loader = epoch_loop.DeviceDataLoader(DataLoader(train_ds, args.batch_size, shuffle=True,
                                                         num_workers=args.workers), device, non_blocking=False)
    loop_model = epoch_loop.MnistModel()
    loop_optimizer = torch.optim.SGD(loop_model.parameters(), lr=0.5)

    config = BenchConfig(device="cpu", dataset=name, batch_size=args.batch_size, num_workers=args.workers,
                         samples_per_round=profile.samples_per_round)
    yardstick = build_workload("train", tutorial("cpu", name, samples_per_round=profile.samples_per_round), data)
    yardstick.warmup(profile.warmup_rounds)
    yardstick.fit_rounds(*profile.round_s)
    row = yardstick if config.key() == yardstick.config.key() and args.kind == "train" \
        else build_workload(args.kind, config, data)
    if row is not yardstick:
        row.warmup(profile.warmup_rounds)
        row.fit_rounds(*profile.round_s)
    pairing = None if row is yardstick else Pairing.of("yardstick", lambda: timed(yardstick, None))

    epoch_loop.epoch_seconds(loop_model, loop_optimizer, loop_loader, device, train=args.kind == "train")  # warm
    ratios = []
    for rep in range(1, args.reps + 1):
        samples, seconds = epoch_loop.epoch_seconds(loop_model, loop_optimizer, loop_loader, device,
                                                    train=args.kind == "train")
        loop_rate = samples / seconds
        policy = RoundPolicy(min_rounds=profile.rounds.min_rounds, max_rounds=profile.rounds.max_rounds,
                             target_pct=profile.rounds.target_pct, max_seconds=seconds)
        suite = run_rounds("samples_per_s", lambda: timed(row, None), policy, pairing=pairing, seed=rep)
        ratios.append(suite.median / loop_rate)
        print(json.dumps({"rep": rep, "loop_samples_per_s": round(loop_rate, 1), "loop_epoch_s": round(seconds, 3),
                          "suite_samples_per_s": round(suite.median, 1), "suite_rounds": suite.rounds,
                          "round_samples": row.samples_per_round, "epoch_start_s": round(row.epoch_start_s, 4),
                          "suite_over_loop": round(ratios[-1], 4),
                          "load": [round(x, 2) for x in os.getloadavg()],
                          "time": time.strftime("%H:%M:%S", time.gmtime())}), flush=True)
    print(json.dumps({"kind": args.kind, "batch_size": args.batch_size, "workers": args.workers, "dataset": name,
                      "profile": args.profile, "reps": args.reps,
                      "median_suite_over_loop": round(statistics.median(ratios), 4),
                      "range": [round(min(ratios), 4), round(max(ratios), 4)]}), flush=True)
    for workload in {id(row): row, id(yardstick): yardstick}.values():
        workload.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
