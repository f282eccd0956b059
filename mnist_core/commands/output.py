"""The console every subcommand prints to."""

from __future__ import annotations

import os

from rich.console import Console

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
