"""`mnist-bench report`: the CPU-vs-GPU report (Markdown, HTML, CSV, PNG plots) from saved runs."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from mnist_core.runs.runfile import latest_run
from mnist_core.commands.output import add_results_dir, command_console


HELP = "write the CPU-vs-GPU report (Markdown, HTML, CSV, plots) for one or more runs"
DESCRIPTION = ("Write DIR/report.md, DIR/report.html, DIR/results.csv and the PNG plots for one or more runs and "
               "print the summary tables. Several runs (e.g. a laptop, a Colab T4, an H100) are reported side by "
               "side by hardware.")


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="*", metavar="RUN",
                        help="run files (default: the latest run under --results-dir)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="report folder (default: the run file's path without .json for one run, "
                             "RESULTS_DIR/report-<UTC time> for several)")
    parser.add_argument("--force", action="store_true", help="replace a report already in DIR (default: refuse)")
    add_results_dir(parser, "where to look for the latest run")


def default_out(runs: list[Path], results_dir: Path, now: datetime | None = None) -> Path:
    if len(runs) == 1:
        return runs[0].with_suffix("")
    now = now or datetime.now(timezone.utc)
    return results_dir / f"report-{now:%Y%m%dT%H%M%SZ}"


def run(args) -> int:
    from mnist_core.report import write_report  # pandas and matplotlib only when reporting
    from mnist_core.report.console import print_report

    results_dir = Path(args.results_dir)
    runs = [Path(path) for path in args.runs] or [latest_run(results_dir)]
    out_dir = Path(args.out) if args.out else default_out(runs, results_dir)
    written = write_report(runs, out_dir, force=args.force)
    console = command_console()
    print_report(written.report, console)
    files = [written.markdown, written.html, written.csv, *written.plots]
    console.print(f"report written to {written.out_dir}: {', '.join(path.name for path in files)}",
                  markup=False, highlight=False, soft_wrap=True)  # a path must stay copyable
    return 0
