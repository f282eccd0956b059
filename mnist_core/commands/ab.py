"""`mnist-bench ab`: measure a baseline and a current side in one session, interleaved; exit 1 if a row is slower."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from bench.settings import dataset_name, default_devices, device_list, profile_name, writable_results_dir
from mnist_core.ab.abfile import ab_data, claim_ab_path, load_average, now, write_ab
from mnist_core.ab.analysis import any_slower, row_results
from mnist_core.ab.client import WorkerProcess
from mnist_core.ab.render import ab_table, answer_lines
from mnist_core.ab.session import PLANS, AbRecord, AbSettings, run_session, selected
from mnist_core.ab.sides import BASELINE, CURRENT, SideSpec, env_assignment, prepared_sides
from mnist_core.commands.compare import EXIT_REGRESSION, threshold
from mnist_core.commands.output import add_results_dir, command_console
from mnist_core.measure import profiles
from mnist_core.measure.hardware import machine_summary
from mnist_core.regress.comparison import REGRESSION_THRESHOLD_PCT

HELP = "measure a baseline and a current side in one interleaved session: slower / faster / same per row"
DESCRIPTION = ("Run the same benchmark rows for two sides (interpreters, git revisions of this checkout, environment "
               "variables) in one session, in short blocks in balanced random order (ABBA), each side in its own "
               "worker processes, restarted several times. Each row's change is estimated from its paired block "
               "ratios. Writes results/ab-<time>-<machine>.json and a Markdown page beside it. Exit 0: no row "
               "slower, 1: a row slower, 2: unusable input, 3: an internal error (a bug).")


def add_arguments(parser) -> None:
    parser.add_argument("--bench-profile", type=profile_name,
                        default=os.environ.get(profiles.ENV_VAR, profiles.DEFAULT_PROFILE),
                        help=f"matrix size: {' | '.join(PLANS)}; its train and loader rows are compared (env "
                             f"{profiles.ENV_VAR}; default: %(default)s)")
    parser.add_argument("--devices", type=device_list, default=None,
                        help="comma-separated devices (default: the devices present)")
    parser.add_argument("--dataset", type=dataset_name, default=None,
                        help="mnist | fashion-mnist | synthetic (default: as a session chooses; never downloads)")
    parser.add_argument("--data-root", default=None, metavar="DIR", help="folder with the four IDX files")
    parser.add_argument("-k", dest="keyword", default=None, metavar="EXPRESSION",
                        help="only rows matching this pytest -k expression, e.g. -k 'resident and not cnn'")
    for side in (BASELINE, CURRENT):
        group = parser.add_argument_group(f"the {side} side (default: this checkout with this interpreter)")
        group.add_argument(f"--{side}-python", metavar="PYTHON", help="the interpreter (e.g. a venv's bin/python)")
        group.add_argument(f"--{side}-ref", metavar="REV",
                           help="a git revision of this checkout, checked out in a temporary worktree")
        group.add_argument(f"--{side}-env", metavar="KEY=VALUE", type=env_assignment, action="append", default=[],
                           help="an environment variable for this side's processes only (repeatable; a PYTHONPATH "
                                "is relative to the side's tree and comes after it)")
    parser.add_argument("--threshold", type=threshold, default=REGRESSION_THRESHOLD_PCT, metavar="PCT",
                        help="smallest change that counts, in percent: a row is slower or faster only when its whole "
                             "95%% interval lies beyond it (default: %(default)g)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the blocks' order (default: drawn at random and recorded in the file)")
    add_results_dir(parser, "where the ab-run file and its page go")


def _progress(line: str) -> None:
    print(f"mnist-bench ab: {line}", file=sys.stderr, flush=True)


def _save(path, record, sides, threshold_pct, started_at, wall_s, load):
    """(Re)write the ab-run file and its page from what the session has measured so far."""
    load["after"] = load_average()
    results = row_results(record.blocks, threshold_pct)
    data = ab_data(record, results, sides, threshold_pct=threshold_pct, started_at=started_at, wall_s=wall_s, load=load)
    return results, write_ab(path, data, results)


def run(args: argparse.Namespace) -> int:
    devices = args.devices or default_devices()[0]
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 31)
    settings = AbSettings(args.bench_profile, devices, args.dataset, args.data_root, args.keyword, seed,
                          PLANS[args.bench_profile])
    specs = [SideSpec(side, getattr(args, f"{side}_python"), getattr(args, f"{side}_ref"),
                      dict(getattr(args, f"{side}_env"))) for side in (BASELINE, CURRENT)]
    selected([], args.keyword)  # a bad -k fails now, before any worker starts
    results_dir = writable_results_dir(args.results_dir)
    record = AbRecord(settings)
    started_at, clock_start = now(), time.perf_counter()
    load = {"before": load_average()}
    with prepared_sides(specs) as sides:
        machine = machine_summary()
        path = claim_ab_path(results_dir, machine.get("gpu_name") or machine["cpu_model"], started_at)

        def save():
            return _save(path, record, sides, args.threshold, started_at, time.perf_counter() - clock_start, load)

        try:
            run_session(record, sides, lambda side: WorkerProcess(side, settings.profile, devices, settings.dataset,
                                                                  settings.data_root), _progress,
                        visited=lambda _: save())
        finally:  # an interrupted or failed session keeps every pair it completed, marked partial
            results, page = save()
    console = command_console()
    for line in answer_lines(results, args.threshold):
        console.print(line, markup=False, highlight=False)
    console.print(ab_table(results))
    console.print(f"ab-run file: {path}\npage:        {page}", markup=False, highlight=False)
    return EXIT_REGRESSION if any_slower(results) else 0
