"""Does a DataLoader row read what a user's epoch gets? Suite sessions and the epoch loop, interleaved.

On one machine, brackets every suite session (restricted with -k to the DataLoader rows with workers) with
runs of scripts/epoch_loop.py at the same settings (loop, suite, loop, ...), `--reps` times, so each session
is compared with the loop's epochs in the minutes just before and after it. Writes, under --out: every
session's log and run file, the loop's JSON lines, the load averages before each step, and agreement.md: per
row the suite's and the loop's samples/s, each session's ratio to its bracketing loop epochs, their median
and whether it is within 5%.

    python scripts/check_epoch_agreement.py --profile quick --reps 3 --out docs/evidence/.../epoch-agreement/quick
    python scripts/check_epoch_agreement.py --suite before=/tmp/old-checkout --suite after=. ...  (versions)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

AGREE_PCT = 5.0
# suite row id -> (benchmark kind, batch size, workers); the loop runs the same setting
ROWS = {
    "train/cpu-mlp-dataloader-bs128-w2": ("train", 128, 2),
    "train/cpu-mlp-dataloader-bs2048-w2": ("train", 2048, 2),
    "loader/cpu-mlp-dataloader-bs128-w2": ("loader", 128, 2),
}
# -k expressions: the rows each profile has (quick's matrix runs batch 128 only)
SELECT = {
    "quick": "(test_train or test_loader) and bs128-w2",
    "default": "(test_train and (bs128-w2 or bs2048-w2)) or (test_loader and bs128-w2)",
}
REPO = Path(__file__).resolve().parent.parent


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_logged(command: list[str], log: Path, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    with log.open("w") as out:
        subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return log.read_text()


def suite_session(args, name: str, root: Path, rep: int, out: Path) -> dict[str, float]:
    results = out / f"{name}-{rep}"
    command = [sys.executable, "-m", "pytest", "bench", "--benchmark-only", f"--bench-profile={args.profile}",
               f"--dataset={args.dataset}", "-k", SELECT[args.profile], f"--results-dir={results}", "--no-report",
               "-p", "no:cacheprovider"]
    run_logged(command, out / f"{name}-{rep}.log", root)
    run_file = next(results.glob("run-*.json"))
    rates = {}
    for bench in json.loads(run_file.read_text())["benchmarks"]:
        info = bench["extra_info"]
        row = f"{info['kind']}/{bench['name'].split('[', 1)[1].rstrip(']')}"
        if row in ROWS:
            rates[row] = info["samples_per_s"]
    return rates


def epoch_loop(args, rep: int, position: int, row: str, out: Path) -> list[float]:
    kind, batch, workers = ROWS[row]
    command = [sys.executable, str(REPO / "scripts" / "epoch_loop.py"), "--kind", kind, "--batch-size", str(batch),
               "--workers", str(workers), "--epochs", str(args.epochs), "--dataset", args.dataset, "--tag",
               f"rep{rep}.{position}"]
    name = row.replace("/", "_")
    text = run_logged(command, out / f"loop-{rep}.{position}-{name}.jsonl", REPO)
    return [json.loads(line)["samples_per_s"] for line in text.splitlines() if line.startswith("{")]


def run_loops(args, rep: int, position: int, loop: dict[str, list[float]], loads: list[str]) -> dict[str, list[float]]:
    """One loop run per selected row (its epochs' samples/s by row), added to `loop` too."""
    loads.append(f"{time.strftime('%H:%M:%S', time.gmtime())} loop {load_average()}")
    rates = {row: epoch_loop(args, rep, position, row, args.out) for row in _selected_rows(args.profile)}
    for row, values in rates.items():
        loop.setdefault(row, []).extend(values)
    return rates


def table(suites: dict[str, dict[str, list[float]]], loop: dict[str, list[float]],
          ratios: dict[str, dict[str, list[float]]], loads: list[str]) -> str:
    """Per row: the loop's and the suite's samples/s, and the median of the sessions' ratios to the loop epochs
    bracketing each of them (the claim: within AGREE_PCT)."""
    each = lambda values: ", ".join(f"{value / 1000:.1f}k" for value in values)  # noqa: E731
    lines = ["| row | loop samples/s (epochs) | suite | suite samples/s (sessions) | suite / bracketing loop "
             "(per session) | median | within 5% |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in ROWS:
        if not loop.get(row):
            continue
        theirs = statistics.median(loop[row])
        for name, suite in suites.items():
            if not ratios[name].get(row):
                continue
            ratio = statistics.median(ratios[name][row])
            agree = "yes" if abs(ratio - 1) * 100 <= AGREE_PCT else "NO"
            per_session = ", ".join(f"{value:.3f}" for value in ratios[name][row])
            lines.append(f"| {row} | {theirs:,.0f} ({each(loop[row])}) | {name} | "
                         f"{statistics.median(suite[row]):,.0f} ({each(suite[row])}) | {per_session} | {ratio:.3f} | "
                         f"{agree} |")
    lines += ["", "Load averages (1, 5, 15 min) before each step: " + "; ".join(loads)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=tuple(SELECT), default="quick")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1, help="loop epochs per run (each a fresh iterator)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--suite", action="append", metavar="NAME=ROOT", default=[],
                        help="a checkout whose bench/ runs, by name (repeat to interleave versions; default: this one)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    roots = dict(item.split("=", 1) for item in args.suite) or {"suite": str(REPO)}
    suites: dict[str, dict[str, list[float]]] = {name: {} for name in roots}
    loop: dict[str, list[float]] = {}
    loads: list[str] = []
    ratios: dict[str, dict[str, list[float]]] = {name: {} for name in roots}
    for rep in range(1, args.reps + 1):
        # each suite session is bracketed by loop runs (loop, suite, loop, suite, ..., loop), so every session is
        # compared with the loop's epochs just before and just after it: the machine's minute-to-minute drift
        # (tens of percent here) hits both sides of each ratio
        loops_before = run_loops(args, rep, 0, loop, loads)
        for index, name in enumerate(roots, start=1):
            loads.append(f"{time.strftime('%H:%M:%S', time.gmtime())} {name} {load_average()}")
            session = suite_session(args, name, Path(roots[name]), rep, args.out)
            loops_after = run_loops(args, rep, index, loop, loads)
            for row, rate in session.items():
                suites[name].setdefault(row, []).append(rate)
                around = loops_before.get(row, []) + loops_after.get(row, [])
                if around:
                    ratios[name].setdefault(row, []).append(rate / statistics.median(around))
            loops_before = loops_after
        (args.out / "agreement.md").write_text(_header(args, roots) + table(suites, loop, ratios, loads))
    print((args.out / "agreement.md").read_text())
    return 0


def _selected_rows(profile: str) -> tuple[str, ...]:
    return tuple(row for row in ROWS if profile == "default" or "bs2048" not in row)


def _header(args, roots: dict[str, str]) -> str:
    return (f"# Suite vs epoch loop, {args.profile} profile, {args.reps} interleaved repetitions\n\n"
            f"Suites: {', '.join(f'{name} ({root})' for name, root in roots.items())}.\n"
            f"Suite: `pytest bench --benchmark-only --bench-profile={args.profile} -k \"{SELECT[args.profile]}\"`; "
            f"loop: `scripts/epoch_loop.py`, {args.epochs} epochs per run, each a fresh DataLoader iterator.\n\n")


if __name__ == "__main__":
    sys.exit(main())
