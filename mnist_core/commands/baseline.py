"""`mnist-bench baseline save [RUN] | show`: keep one known-good run per hardware key under results/baselines/."""

from __future__ import annotations


from rich.table import Table

from mnist_core.errors import RunFileError
from mnist_core.regress.baselines import BASELINE_SECTION, baselines_dir, save_baseline, stored_baselines
from mnist_core.regress.hardware_key import describe, hardware_key
from mnist_core.runs.runfile import read_run
from mnist_core.commands.output import add_results_dir, command_console, given_run


HELP = "save or list the baselines (one per machine and profile)"
DESCRIPTION = ("Keep one known-good run per hardware key and profile under RESULTS_DIR/baselines/, for "
               "`mnist-bench check`.")


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    save = actions.add_parser("save", help="store a run as the baseline for its hardware key",
                              description="Store a run (default: the latest) as the baseline of its machine and "
                                          "profile; an existing one is replaced only with --force.")
    save.add_argument("run", nargs="?", default=None, help="run file (default: the latest under --results-dir)")
    save.add_argument("--force", action="store_true", help="replace an existing baseline for this key (default: off)")
    add_results_dir(save, "where runs and baselines/ are")
    save.set_defaults(func=run_save)
    show = actions.add_parser("show", help="list the stored baselines and their hardware keys",
                              description="List the baselines under RESULTS_DIR/baselines/ with their hardware keys.")
    add_results_dir(show, "where baselines/ is")
    show.set_defaults(func=run_show)


def run_save(args) -> int:
    run_path = given_run(args)
    run = read_run(run_path)
    path = save_baseline(run, args.results_dir, force=args.force)
    command_console().print(f"saved {run_path} (a {run.status} run) as the baseline for {describe(hardware_key(run))}: "
                            f"{path}", markup=False, highlight=False)
    return 0


def run_show(args) -> int:
    paths = stored_baselines(args.results_dir)
    console = command_console()
    if not paths:
        console.print(f"no baselines in {baselines_dir(args.results_dir)}; save one with `mnist-bench baseline save RUN`",
                      markup=False, highlight=False)
        return 0
    table = Table(title=f"mnist-bench baselines in {baselines_dir(args.results_dir)}")
    for column in ("file", "hardware key", "saved", "from", "run"):
        table.add_column(column, overflow="fold")
    for path in paths:
        try:
            run = read_run(path)
        except RunFileError as exc:
            table.add_row(path.name, f"unreadable: {exc}", "-", "-", "-")
            continue
        meta = run.data.get(BASELINE_SECTION, {})
        table.add_row(path.name, describe(hardware_key(run)), str(meta.get("saved_at", "-")), str(meta.get("source", "-")),
                      str(run.status))
    console.print(table)
    return 0
