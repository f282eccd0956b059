"""The ab worker: one side's process. It builds that side's benchmark rows and times blocks of rounds on request.

Run by the ab session (`python -m mnist_core.ab.worker ...`) in the side's interpreter, with the side's code tree
first on PYTHONPATH and the side's environment variables, so everything it times is that side's code. It speaks
JSON lines: one request per line on stdin, one reply per line on the protocol stream (the process's original
stdout; anything else printing to stdout goes to stderr instead). Requests:

  {"op": "open", "row": ID, "steps_per_round": N | null, "round_s": [LOW, HIGH]}   build the row (closing the
        previous one), warm it up and, when N is null, fit its round to last LOW to HIGH seconds (the profile's
        round length when round_s is absent; a worker of an older revision ignores it, and the other side then
        follows its round); replies the round it will time, with one probe block's round seconds and start-up
  {"op": "block", "seconds": S, "min_rounds": N, "max_wall_s": W}   timed rounds of the open row adding up
        to S seconds (at least N; none started after W seconds): their samples/s
  {"op": "close"}                                          close the open row
  {"op": "exit"}

The first line it writes says hello: its rows, the rows it cannot run and why, its dataset and its versions.
A failure is a reply {"error": one line}; the worker keeps serving.

MNIST_BENCH_WORKER_PLUGINS names modules (comma-separated, importable on the side's PYTHONPATH) whose
`wrap_build_workload(build)` wraps how workloads are built: tests use it to slow one row of one side
(tests/fault_injection.py). The suite's own code has no fault checks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

from mnist_core.runs.row_ids import row_id

PROTOCOL_VERSION = 1
PLUGINS_ENV = "MNIST_BENCH_WORKER_PLUGINS"
KINDS = ("train", "loader")  # the throughput rows; accuracy, overhead and copies are not block-timed


def _protocol_stream():
    """The original stdout for replies; fd 1 now points at stderr, so stray prints cannot break the protocol."""
    stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return stream


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


class Worker:
    def __init__(self, profile_name: str, devices: tuple[str, ...], dataset: str | None, data_root: str | None):
        from mnist_core.core.data import load_dataset
        from mnist_core.measure import profiles
        from mnist_core.measure.workload import build_workload

        self.profile = profiles.get_profile(profile_name)
        self.data = load_dataset(dataset, data_root, download=False)
        self.build = build_workload
        for name in filter(None, (part.strip() for part in os.environ.get(PLUGINS_ENV, "").split(","))):
            self.build = importlib.import_module(name).wrap_build_workload(self.build)
        self.rows, self.skipped = {}, {}
        name = self.data.location.name
        for kind, matrix in (("train", profiles.train_specs), ("loader", profiles.loader_specs)):
            for param in profiles.params(matrix(self.profile, devices, name), self.profile):
                if param.config is None:
                    self.skipped[row_id(kind, param.id)] = param.skip
                else:
                    self.rows[row_id(kind, param.id)] = (kind, param.config)
        self.workload = None

    def hello(self) -> dict:
        import mnist_core
        from mnist_core.measure.hardware import machine_summary

        return {"protocol": PROTOCOL_VERSION, "pid": os.getpid(), "rows": list(self.rows), "skipped": self.skipped,
                "dataset": self.data.location.asdict(), "machine": machine_summary(),
                "mnist_core": str(Path(mnist_core.__file__).resolve().parent),
                "mnist_core_version": getattr(mnist_core, "__version__", None), "python": sys.executable}

    def open(self, row: str, steps_per_round: int | None, round_s: tuple[float, float] | None = None) -> dict:
        self.close()
        if row not in self.rows:
            raise KeyError(f"row {row!r} is not in this side's matrix")
        kind, config = self.rows[row]
        self.workload = self.build(kind, config, self.data)
        self.workload.warmup(self.profile.warmup_rounds)
        if steps_per_round is None:
            self.workload.fit_rounds(*(round_s or self.profile.round_s))  # the session's plan; else the profile's
        else:
            self.workload.steps_per_round = int(steps_per_round)
        probe = self.block(0.0)  # one round: what a round and a block's start-up cost now (not part of any answer)
        return {"steps_per_round": self.workload.steps_per_round, "samples_per_round": self.workload.samples_per_round,
                "round_s": self.workload.samples_per_round / probe["rates"][0], "start_up_s": probe["start_up_s"],
                "first_batch_s": self.workload.first_batch_s}

    def block(self, seconds: float, min_rounds: int = 1, max_wall_s: float | None = None) -> dict:
        """Timed rounds of the open row until they add up to `seconds` (at least `min_rounds`; no more once
        `max_wall_s` have passed since the request): both sides get blocks of the same length in time, however
        fast each runs. start_up_s: from the request to the end of the first round, less its timed seconds (the
        settle steps that empty what a DataLoader's workers prefetched while the other side ran)."""
        if self.workload is None:
            raise RuntimeError("no row is open; send open first")
        received = time.perf_counter()
        rates, timed_s, start_up_s = [], 0.0, None
        while len(rates) < min_rounds or (timed_s < seconds and (max_wall_s is None
                                                                   or time.perf_counter() - received < max_wall_s)):
            round_s = self.workload.timed_round()
            if start_up_s is None:
                start_up_s = time.perf_counter() - received - round_s
            timed_s += round_s
            rates.append(self.workload.samples_per_round / round_s)
        return {"rates": rates, "start_up_s": start_up_s}

    def close(self) -> dict:
        if self.workload is not None:
            workload, self.workload = self.workload, None
            workload.close()
        return {}


def serve(worker: Worker, requests, replies) -> None:
    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    reply({"hello": worker.hello()})
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "exit":
                worker.close()
                reply({})
                return
            if op == "open":
                reply(worker.open(request["row"], request.get("steps_per_round"), request.get("round_s")))
            elif op == "block":
                reply(worker.block(float(request["seconds"]), int(request.get("min_rounds", 1)),
                                   request.get("max_wall_s")))
            elif op == "close":
                reply(worker.close())
            else:
                reply({"error": f"unknown op {op!r}"})
        except Exception as exc:  # noqa: BLE001  the session decides; this process keeps serving
            reply({"error": _one_line(exc)})
    worker.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_core.ab.worker")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--devices", required=True)
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args(argv)
    replies = _protocol_stream()
    try:
        worker = Worker(args.profile, tuple(args.devices.split(",")), args.dataset, args.data_root)
    except Exception as exc:  # noqa: BLE001  said on the protocol, so the session can name it in one line
        replies.write(json.dumps({"error": _one_line(exc)}) + "\n")
        replies.flush()
        return 2
    serve(worker, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
