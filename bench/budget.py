"""The profile's time budget, shared by the rows still to run: each row's round policy is its share of what
is left, and the time it took is counted against the budget."""

from __future__ import annotations

import contextlib
import time

from mnist_core.measure.profiles import Profile

BUDGETED = ("train_spec", "loader_spec", "overhead_spec", "transfer_case")  # rows whose rounds share the budget


def _budgeted(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (callspec is not None and any(name in callspec.params for name in BUDGETED)
            and item.get_closest_marker("skip") is None)


class TimeBudget:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.rows_left = 0
        self.spent_s = 0.0

    def count_rows(self, items) -> None:
        """The rows that will share the budget: what runs after -k and the skips."""
        self.rows_left = sum(1 for item in items if _budgeted(item))

    @contextlib.contextmanager
    def row(self):
        """The next row's round policy (its share of the budget left); its time is counted."""
        policy = self.profile.row_policy(self.profile.budget_s - self.spent_s, self.rows_left)
        start = time.perf_counter()
        try:
            yield policy
        finally:
            self.spent_s += time.perf_counter() - start
            self.rows_left = max(0, self.rows_left - 1)
