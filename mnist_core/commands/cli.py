"""The `mnist-bench` command line: argument parsing and error reporting only.

Each subcommand lives in mnist_core/commands/<name>.py: its HELP and DESCRIPTION, `add_arguments(parser)`
and `run(args) -> int` (or, with actions, a `func` set per action); build_parser registers them all. Errors the user can fix (bad input, a file that cannot be
read or written) are one line on stderr with exit code 2; anything else is a bug, reported as one
"internal error" line with exit code 3. Exit code 1 stays "regression found" (compare, check).
--debug shows the traceback instead of the one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mnist_core.errors import MnistBenchError

COMMANDS = ("info", "compare", "baseline", "check", "report", "ab")
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_CODES = ("exit codes: 0 done; 1 a regression found (compare, check); 2 bad input, or a file or folder that "
              "cannot be read or written (one line naming the problem and the fix); 3 an internal error (a bug: "
              "rerun with --debug and report the traceback); 130 interrupted.")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (no usage dump) and exit 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"mnist-bench: error: {message} (see mnist-bench --help)\n")


DESCRIPTION = ("GPU-vs-CPU benchmarks for the MNIST tutorial MLP. The benchmarks themselves run with "
               "`pytest --benchmark-only` (from the repository root: add --bench-profile=quick for a first look); "
               "each session saves a run file and its report under results/. These commands read run files: "
               "show the machine, rebuild reports, and check a run against a baseline.")


def build_parser() -> argparse.ArgumentParser:
    from mnist_core import __version__

    parser = _Parser(prog="mnist-bench", description=DESCRIPTION, epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"mnist-bench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        command = importlib.import_module(f"mnist_core.commands.{name}")
        command_parser = subparsers.add_parser(name, help=command.HELP, description=command.DESCRIPTION)
        command.add_arguments(command_parser)
        if hasattr(command, "run"):  # a command with actions (baseline save|show) sets each action's own
            command_parser.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MnistBenchError as exc:
        if args.debug:
            raise
        print(f"mnist-bench: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a path that cannot be read or written: the user's to fix, like bad input
        if args.debug:
            raise
        print(f"mnist-bench: error: {os_error_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mnist-bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: never exit 1, which means "regression found"
        if args.debug:
            raise
        detail = ": ".join(part for part in (type(exc).__name__, _one_line(exc)) if part)
        print(f"mnist-bench: error: internal error: {detail} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    """The message on one line: a multi-line message's lines joined, nothing else changed."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def os_error_message(exc: OSError) -> str:
    """'cannot use /proc/nope: No such file or directory; check the path ...' from any OSError."""
    what = exc.strerror or _one_line(exc) or type(exc).__name__
    paths = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    where = f"cannot use {' -> '.join(paths)}: {what}" if paths else what
    return f"{where}; check that the path exists and that you may read and write there, or give another path"


if __name__ == "__main__":
    sys.exit(main())
