"""What every subcommand shares: the console it prints to, the --results-dir option and the run it reads."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from mnist_core.runs.runfile import DEFAULT_RESULTS_DIR, latest_run

PIPED_WIDTH_COLUMNS = 160


def command_console() -> Console:
    """A terminal's own width; piped into a file or a CI log, wide enough that tables keep whole ids.

    rich falls back to 80 columns when stdout is not a terminal, which broke benchmark ids over five lines.
    COLUMNS, when set, still wins.
    """
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return Console(width=PIPED_WIDTH_COLUMNS)
    return console


def add_results_dir(parser, where: str) -> None:
    """--results-dir, with `where` saying what the command looks for there."""
    parser.add_argument("--results-dir", metavar="DIR", default=DEFAULT_RESULTS_DIR,
                        help=f"{where} (default: %(default)s)")


def given_run(args) -> Path:
    """The RUN argument, else the latest finished run under --results-dir."""
    return Path(args.run) if args.run else latest_run(args.results_dir)
