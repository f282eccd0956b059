"""What became of the session's benchmarks beyond their rows: the skips and failures with their reasons, how
the session ended (complete, interrupted) and the exit status that says so."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from mnist_core.runs.row_ids import row_id
from mnist_core.runs.sections import Outcome

from bench import BENCH_DIR
from bench.matrix import PARAM_KINDS

# torch's error for a DataLoader worker that died of SIGTERM or SIGINT: the signal meant for the whole process
# group (`timeout`, a terminal's Ctrl-C) reached the workers, whatever became of it in this process.
WORKER_SIGNALLED = re.compile(r"DataLoader worker \(pid \d+\) is killed by signal: (Terminated|Interrupt)")


def one_line_reason(excinfo) -> str:
    """The exception as one line; a DataLoader worker's failure keeps the worker's own message."""
    message = str(excinfo.value).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if lines and "DataLoader worker" in lines[0] and len(lines) > 1:
        return f"DataLoader worker failed: {lines[-1]}"
    return f"{excinfo.typename}: {lines[0] if lines else ''}".strip()


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


class Outcomes:
    """The benchmarks skipped and failed so far, each with its id, configuration and one-line reason (the
    run file's `skipped` and `failed`)."""

    def __init__(self):
        self.skipped: list[Outcome] = []
        self.failed: list[Outcome] = []

    def record(self, item, call, report) -> bool:
        """Record one test phase's report; True when it failed because a DataLoader worker was killed by
        the signal meant for the whole session (the session must then stop as interrupted)."""
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        fixture = next((name for name in PARAM_KINDS if name in params), None)
        config = params.get(fixture)
        entry = Outcome(id=row_id(PARAM_KINDS.get(fixture, item.originalname), callspec.id if callspec else item.name),
                        nodeid=item.nodeid, kind=PARAM_KINDS.get(fixture),
                        config=config.asdict() if hasattr(config, "asdict") else config)
        if report.skipped and report.when in ("setup", "call"):
            self.skipped.append(replace(entry, reason=_skip_reason(report)))
        elif report.failed and call.excinfo is not None:
            self.failed.append(replace(entry, when=report.when, reason=one_line_reason(call.excinfo)))
            return bool(WORKER_SIGNALLED.search(str(call.excinfo.value)))
        return False


def final_state(session, interrupted: bool) -> tuple[bool, bool]:
    """(complete, interrupted) of a run whose pytest session is `session` (None before it starts);
    `interrupted`: a signal or a killed worker already said so."""
    exitstatus = getattr(session, "exitstatus", pytest.ExitCode.OK)
    interrupted = interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
    stopped_early = bool(getattr(session, "shouldfail", False) or getattr(session, "shouldstop", False))  # -x
    complete = not (interrupted or stopped_early or exitstatus == pytest.ExitCode.INTERNAL_ERROR)
    return complete, interrupted


def selected_benchmarks(items) -> int:
    """How many of the collected items are benchmarks of bench/ (what -k/-m left to run)."""
    return sum(1 for item in items if BENCH_DIR in item.path.parents)


def why_nothing_was_measured(selected: int) -> str:
    """The one line a --benchmark-only session that measured nothing ends with."""
    if not selected:
        return (f"mnist-bench: --benchmark-only measured nothing: no benchmark of {BENCH_DIR} was selected "
                f"(pytest collected other files, or -k/-m left none); run `pytest {BENCH_DIR} --benchmark-only`")
    return (f"mnist-bench: --benchmark-only measured nothing: all {selected} selected benchmarks were "
            "skipped (skips above); select rows that can run on this machine")
