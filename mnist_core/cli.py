"""The `mnist-bench` command line: argument parsing and error reporting only.

Each subcommand lives in mnist_core/commands/<name>.py with `register(subparsers)` that adds
its parser and sets `func(args) -> int`. Errors the user can fix are one line on stderr with
exit code 2; --debug shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import MnistBenchError

COMMANDS = ("info", "compare", "baseline", "check", "report")
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (no usage dump) and exit 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"mnist-bench: error: {message} (see mnist-bench --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mnist-bench", description="GPU-vs-CPU benchmarks for the MNIST tutorial MLP.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"mnist_core.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MnistBenchError as exc:
        if args.debug:
            raise
        print(f"mnist-bench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mnist-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
