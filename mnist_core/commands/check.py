"""`mnist-bench check [RUN]`: the latest (or given) run against this hardware's baseline, plus the setting rules."""

from __future__ import annotations


from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT
from mnist_core.regress.baselines import find_baseline, load_baseline, refuse_same_run
from mnist_core.regress.comparison import compare_runs
from mnist_core.regress.render import rule_lines, rules_table
from mnist_core.regress.rules import check_rules, violated
from mnist_core.runs.runfile import read_run
from mnist_core.commands.compare import EXIT_REGRESSION, add_threshold_options, print_comparison
from mnist_core.commands.output import add_results_dir, command_console, given_run


HELP = "check a run against this hardware's baseline and the setting rules"
DESCRIPTION = ("Compare the latest (or given) run with the baseline saved for its hardware key, then check the "
               "setting rules inside the run. Exit 0: no regression, 1: a regression (or a violated rule with "
               "--strict), 2: unusable input, 3: an internal error (a bug).")


def add_arguments(parser) -> None:
    parser.add_argument("run", nargs="?", default=None, help="run file to check (default: the latest under --results-dir)")
    add_threshold_options(parser)
    parser.add_argument("--strict", action="store_true",
                        help="a violated setting rule fails the check (exit 1) instead of a warning (default: off)")
    add_results_dir(parser, "where the runs and baselines/ are")


def run(args) -> int:
    run_path = given_run(args)
    current = read_run(run_path)
    baseline_path = find_baseline(args.results_dir, current, allow_hardware_mismatch=args.allow_hardware_mismatch)
    baseline = load_baseline(baseline_path)
    refuse_same_run(baseline, current, (f"baseline {baseline_path}", str(run_path)))
    comparison = compare_runs(baseline, current, args.threshold, allow_hardware_mismatch=args.allow_hardware_mismatch,
                              absolute=args.absolute, names=(f"baseline {baseline_path}", str(run_path)))
    console = command_console()
    console.print(f"baseline: {baseline_path}\ncurrent:  {run_path}", markup=False, highlight=False)
    print_comparison(console, comparison, "mnist-bench check")

    results = check_rules(current)  # within the run: the settings' threshold, as the report uses
    console.print(rules_table(results, SETTINGS_THRESHOLD_PCT))
    for line in rule_lines(results):
        console.print(line, markup=False, highlight=False)
    broken = violated(results)
    if broken:
        how = "failing the check (--strict)" if args.strict else "a warning; --strict makes it fail"
        console.print(f"warning: {len(broken)} setting rule(s) violated on this machine: "
                      f"{', '.join(result.rule for result in broken)} ({how})", markup=False, highlight=False)
    failed = bool(comparison.regressed) or (args.strict and bool(broken))
    return EXIT_REGRESSION if failed else 0
