"""`mnist-bench compare BASELINE CURRENT`: noise-aware verdicts per benchmark; exit 1 on a regression."""

from __future__ import annotations

import argparse

from rich.console import Console

from mnist_core.regress.baselines import refuse_same_run
from mnist_core.regress.comparison import REGRESSION_THRESHOLD_PCT, Comparison, compare_runs
from mnist_core.regress.render import comparison_lines, comparison_table
from mnist_core.runs.runfile import read_run
from mnist_core.commands.output import command_console

EXIT_REGRESSION = 1


def threshold(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; e.g. --threshold 10") from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{value:g} is not a percentage in [0, 100); e.g. --threshold 10")
    return value


def add_threshold_options(parser) -> None:
    parser.add_argument("--threshold", type=threshold, default=REGRESSION_THRESHOLD_PCT, metavar="PCT",
                        help="smallest change between the two runs in samples/s (GB/s for copies) that counts, in "
                             "percent: a row is slower or faster only when its whole 95%% interval lies beyond it "
                             "(default: %(default)g; 5 finds smaller slowdowns but, on a noisy machine, gives "
                             "unchanged runs a verdict more often)")
    parser.add_argument("--allow-hardware-mismatch", action="store_true",
                        help="compare runs whose hardware keys differ (GPU, driver, CUDA, torch, CPU, cores, "
                             "dataset) instead of refusing; runs of different profiles are never compared (default: off)")
    parser.add_argument("--absolute", action="store_true",
                        help="judge raw changes, keeping a shift every row shared (for a dedicated machine whose "
                             "speed does not drift between sessions; default: off)")


HELP = "compare two runs: slower / faster / same / inconclusive per benchmark"
DESCRIPTION = ("Compare two run files benchmark by benchmark (matched by configuration). Exit 0: no "
               "regression, 1: a regression, 2: unusable input, 3: an internal error (a bug).")


def add_arguments(parser) -> None:
    parser.add_argument("baseline", help="the known-good run file (or a file from results/baselines/)")
    parser.add_argument("current", help="the run file to judge")
    add_threshold_options(parser)


def print_comparison(console: Console, comparison: Comparison, title: str) -> None:
    console.print(comparison_table(comparison, title))
    for line in comparison_lines(comparison):
        console.print(line, markup=False, highlight=False)


def run(args) -> int:
    baseline = read_run(args.baseline)
    current = read_run(args.current)
    refuse_same_run(baseline, current, (args.baseline, args.current))
    comparison = compare_runs(baseline, current, args.threshold, allow_hardware_mismatch=args.allow_hardware_mismatch,
                              absolute=args.absolute, names=(args.baseline, args.current))
    console = command_console()
    console.print(f"baseline: {args.baseline}\ncurrent:  {args.current}", markup=False, highlight=False)
    print_comparison(console, comparison, "mnist-bench compare")
    return EXIT_REGRESSION if comparison.regressed else 0
