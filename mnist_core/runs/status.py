"""A run's status in words: the one spelling the terminal, the report, compare and baseline all print.

A session that ran to its end is complete; one stopped by Ctrl-C or SIGTERM is interrupted; one stopped by
-x/--maxfail (or an internal error) stopped early. The last two are partial: only their completed benchmarks
count.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    COMPLETE = "complete"
    INTERRUPTED = "PARTIAL (interrupted)"
    STOPPED_EARLY = "PARTIAL (stopped early)"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, complete: bool, interrupted: bool) -> RunStatus:
        if complete:
            return cls.COMPLETE
        return cls.INTERRUPTED if interrupted else cls.STOPPED_EARLY

