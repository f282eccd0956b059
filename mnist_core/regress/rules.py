"""Setting rules, checked inside one run: does each data-transfer setting still help on this machine?

  pinned-nb  on CUDA, pinned + non_blocking beats pageable + blocking: dataloader rows at the same
             batch size and workers (and host-to-device copies of the same size)
  resident   the dataset resident on the device beats the fastest dataloader row with the same
             device, model and batch size
  workers    num_workers > 0 beats num_workers = 0 (same device, batch size, pin_memory, non_blocking)

Each pair is one effect from the run (measurement.relative: drift-corrected where the rounds were paired
with the same yardstick) judged by `compare` with the threshold: the rule holds when the favoured setting
is faster, is violated when it is slower, and otherwise the pair shows no difference (same) or cannot
tell (inconclusive). A rule with no such pair in the run is "not applicable". A pipeline's record
(core/pipelines.py) names the rules that test its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT, FASTER, INCONCLUSIVE, SAME, SLOWER, Verdict, compare
from mnist_core.measure.measurement import relative
from mnist_core.runs.rows import ThroughputRow, TransferRow
from mnist_core.runs.runfile import Run

HOLDS, VIOLATED, NO_DIFFERENCE, UNCLEAR, NOT_APPLICABLE = (
    "holds", "violated", "no difference", "inconclusive", "not applicable")
OUTCOMES = {FASTER: HOLDS, SLOWER: VIOLATED, SAME: NO_DIFFERENCE, INCONCLUSIVE: UNCLEAR}
RULE_KINDS = ("train", "loader")  # overhead rows repeat train configurations


@dataclass(frozen=True)
class Pair:
    favoured: ThroughputRow | TransferRow
    other: ThroughputRow | TransferRow
    verdict: Verdict

    @property
    def outcome(self) -> str:
        return OUTCOMES[self.verdict.label]


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    outcome: str
    pairs: tuple[Pair, ...]
    reason: str = ""  # why the rule is not applicable


RULES = {
    "pinned-nb": "on CUDA, pinned + non_blocking beats pageable + blocking",
    "resident": "resident on the device beats the dataloader",
    "workers": "num_workers > 0 beats num_workers = 0",
}


def _same(row, other, names: tuple[str, ...]) -> bool:
    fields = lambda item: item.config if isinstance(item, ThroughputRow) else item  # noqa: E731
    return row.kind == other.kind and all(getattr(fields(row), name) == getattr(fields(other), name) for name in names)


def _settings(row) -> tuple[bool, bool]:
    item = row.config if isinstance(row, ThroughputRow) else row
    return item.pin_memory, item.non_blocking


def _pinned_pairs(rows: list) -> tuple[list, str]:
    cuda = [row for row in rows if (isinstance(row, TransferRow) and row.device == "cuda")
            or (isinstance(row, ThroughputRow) and row.kind in RULE_KINDS and row.config.device == "cuda"
                and "pinned-nb" in row.config.pipeline.rules)]
    if not cuda:
        return [], "no CUDA dataloader or copy rows in this run"
    pairs = []
    for row in cuda:
        if _settings(row) == (True, True):
            names = ("device", "transfer") if isinstance(row, TransferRow) else (
                "device", "model", "hidden_width", "batch_size", "num_workers")
            pairs += [(row, other) for other in cuda if _same(row, other, names) and _settings(other) == (False, False)]
    return pairs, "no pageable + blocking row with the same batch size and workers as a pinned + non_blocking one"


def _resident_pairs(rows: list) -> tuple[list, str]:
    names = ("device", "model", "hidden_width", "batch_size")
    throughput = [row for row in rows if isinstance(row, ThroughputRow) and row.kind in RULE_KINDS]
    pairs = []
    for row in throughput:
        if "resident" in row.config.pipeline.rules:
            loaders = [other for other in throughput if other.config.pipeline.dataloader and _same(row, other, names)]
            if loaders:
                pairs.append((row, max(loaders, key=lambda other: other.measurement.median)))
    return pairs, "no resident and dataloader rows with the same device, model and batch size"


def _workers_pairs(rows: list) -> tuple[list, str]:
    names = ("device", "model", "hidden_width", "loader", "batch_size", "pin_memory", "non_blocking")
    throughput = [row for row in rows if isinstance(row, ThroughputRow) and row.kind in RULE_KINDS
                  and "workers" in row.config.pipeline.rules]
    pairs = []
    for row in throughput:
        if row.config.num_workers > 0:
            pairs += [(row, other) for other in throughput if other.config.num_workers == 0 and _same(row, other, names)]
    return pairs, "no dataloader rows with num_workers > 0 and = 0 at the same batch size and settings"


FINDERS = {"pinned-nb": _pinned_pairs, "resident": _resident_pairs, "workers": _workers_pairs}


def check_rules(run: Run, threshold_pct: float = SETTINGS_THRESHOLD_PCT) -> list[RuleResult]:
    """Every rule on one run, in RULES order."""
    rows = list(run.rows)
    results = []
    for rule, title in RULES.items():
        found, reason = FINDERS[rule](rows)
        pairs = tuple(Pair(favoured, other, compare(relative(favoured.measurement, other.measurement), threshold_pct))
                      for favoured, other in found)
        outcomes = {pair.outcome for pair in pairs}
        outcome = next((o for o in (VIOLATED, HOLDS, UNCLEAR, NO_DIFFERENCE) if o in outcomes), NOT_APPLICABLE)
        results.append(RuleResult(rule, title, outcome, pairs, "" if pairs else reason))
    return results


def violated(results: list[RuleResult]) -> list[RuleResult]:
    return [result for result in results if result.outcome == VIOLATED]
