"""The end of the session's terminal output: the answer, then where the run and report were saved.

Printed last, after pytest-benchmark's own tables, in at most a dozen lines: the answer block comes
from the report's answer (mnist_core/report/answer.py), so terminal and report say the same thing.
"""

from __future__ import annotations

import sys
from collections import Counter

from rich.console import Console

from mnist_core.runs.sections import Outcome
from mnist_core.runs.status import RunStatus


def outcome_lines(skipped: list[Outcome], failed: list[Outcome]) -> list[str]:
    """Skips as counts by reason (the ids are in the run file and the report), then each failure."""
    counts = Counter(str(item.reason) for item in skipped)
    lines = [f"skipped {count}: {reason}" for reason, count in counts.most_common()]
    lines += [f"FAILED {item.id}: {item.reason}" for item in failed]
    return lines


def print_summary(session, terminalreporter) -> None:
    if session.path is None and session.save_error is None and not session.measured_nothing:
        return
    terminalreporter.ensure_newline()
    console = Console(file=sys.stdout, width=max(terminalreporter._tw.fullwidth, 100), highlight=False)

    def say(line: str, style: str | None = None) -> None:
        console.print(line, style=style, markup=False, soft_wrap=True)  # one line: paths stay whole

    for line in outcome_lines(session.skipped, session.failed):
        say(line, "red" if line.startswith("FAILED") else "dim")
    if session.measured_nothing:
        say(session.measured_nothing, "bold red")
        return
    complete, interrupted = session.final_state()
    state = RunStatus.of(complete, interrupted)
    run = session.saved_run()
    if run is not None and run.rows:
        from mnist_core.report.answer import answer_lines

        console.rule("mnist-bench: the answer", style="bold")
        for line in answer_lines(run):
            say(line)
    if session.save_error is not None:
        say(f"mnist-bench run ({state}) NOT saved: cannot write {session.path}: {session.save_error}; the results "
            "are in the tables above and in any --benchmark-json/--benchmark-autosave file", "bold red")
        return
    say(f"mnist-bench run ({state}) saved to {session.path}")
    if session.report_dir is not None:
        say(f"mnist-bench report: {session.report_dir / 'report.html'}")
    elif session.report_error:
        say(f"mnist-bench report not written: {session.report_error}")
