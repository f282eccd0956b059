"""Setting rules, checked inside one run: does each data-transfer setting still help on this machine?

  pinned-nb  on CUDA, pinned + non_blocking beats pageable + blocking: dataloader rows at the same
             batch size and workers (and host-to-device copies of the same size)
  resident   the dataset resident on the device beats the fastest dataloader row with the same
             device, model and batch size
  workers    num_workers > 0 beats num_workers = 0 (same device, batch size, pin_memory, non_blocking)

Each pair is judged like a regression (verdicts.judge, the other setting as the baseline): the
favoured setting "holds" when it is faster by more than the threshold beyond noise, the rule is
"violated" when it is slower by more than the threshold beyond noise, and "unclear" otherwise.
A rule with no such pair in the run is "not applicable" (e.g. pinned-nb on a CPU-only machine).
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.regress import ranktest
from mnist_core.regress.measured import Measured, run_benchmarks
from mnist_core.regress.verdicts import IMPROVED, REGRESSED, judge

HOLDS, VIOLATED, UNCLEAR, NOT_APPLICABLE = "holds", "violated", "unclear", "not applicable"
RULE_KINDS = ("train", "loader")  # overhead rows repeat train configurations


@dataclass(frozen=True)
class Pair:
    favoured: Measured
    other: Measured
    outcome: str
    ratio: float  # favoured / other, medians
    p_value: float | None
    note: str = ""


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


def _pair(favoured: Measured, other: Measured, threshold_pct: float, alpha: float) -> Pair:
    judgement = judge(other.rounds, favoured.rounds, threshold_pct, alpha)
    outcome = {IMPROVED: HOLDS, REGRESSED: VIOLATED}.get(judgement.verdict, UNCLEAR)
    note = judgement.note or ("" if outcome != UNCLEAR else f"within ±{threshold_pct:g}%")
    return Pair(favoured, other, outcome, favoured.median / other.median, judgement.p_value, note)


def _same(row: Measured, other: Measured, names: tuple[str, ...]) -> bool:
    return row.kind == other.kind and all(row.fields.get(name) == other.fields.get(name) for name in names)


def _pinned_pairs(rows: list[Measured]) -> tuple[list[tuple[Measured, Measured]], str]:
    cuda = [row for row in rows if row.fields.get("device") == "cuda"
            and (row.kind == "transfer" or (row.kind in RULE_KINDS and row.fields.get("loader") == "dataloader"))]
    if not cuda:
        return [], "no CUDA dataloader or copy rows in this run"
    same = {"transfer": ("device", "transfer")}
    pairs = []
    for row in cuda:
        if row.fields["pin_memory"] and row.fields["non_blocking"]:
            names = same.get(row.kind, ("device", "model", "hidden_width", "batch_size", "num_workers"))
            pairs += [(row, other) for other in cuda if _same(row, other, names)
                      and not other.fields["pin_memory"] and not other.fields["non_blocking"]]
    return pairs, "no pageable + blocking row with the same batch size and workers as a pinned + non_blocking one"


def _resident_pairs(rows: list[Measured]) -> tuple[list[tuple[Measured, Measured]], str]:
    names = ("device", "model", "hidden_width", "batch_size")
    pairs = []
    for row in rows:
        if row.kind in RULE_KINDS and row.fields.get("loader") == "resident":
            loaders = [other for other in rows if other.fields.get("loader") == "dataloader" and _same(row, other, names)]
            if loaders:
                pairs.append((row, max(loaders, key=lambda other: other.median)))
    return pairs, "no resident and dataloader rows with the same device, model and batch size"


def _workers_pairs(rows: list[Measured]) -> tuple[list[tuple[Measured, Measured]], str]:
    names = ("device", "model", "hidden_width", "loader", "batch_size", "pin_memory", "non_blocking")
    pairs = []
    for row in rows:
        if row.kind in RULE_KINDS and row.fields.get("loader") == "dataloader" and (row.fields.get("num_workers") or 0) > 0:
            pairs += [(row, other) for other in rows if other.fields.get("num_workers") == 0 and _same(row, other, names)]
    return pairs, "no dataloader rows with num_workers > 0 and = 0 at the same batch size and settings"


FINDERS = {"pinned-nb": _pinned_pairs, "resident": _resident_pairs, "workers": _workers_pairs}


def check_rules(run: dict, threshold_pct: float = 10.0, alpha: float = ranktest.ALPHA) -> list[RuleResult]:
    """Every rule on one loaded run, in RULES order."""
    rows = list(run_benchmarks(run).by_key.values())
    results = []
    for rule, title in RULES.items():
        found, reason = FINDERS[rule](rows)
        pairs = tuple(_pair(favoured, other, threshold_pct, alpha) for favoured, other in found)
        outcomes = {pair.outcome for pair in pairs}
        outcome = next((o for o in (VIOLATED, HOLDS, UNCLEAR) if o in outcomes), NOT_APPLICABLE)
        results.append(RuleResult(rule, title, outcome, pairs, "" if pairs else reason))
    return results


def violated(results: list[RuleResult]) -> list[RuleResult]:
    return [result for result in results if result.outcome == VIOLATED]
