"""The ab-run file (results/ab-<UTC time>-<machine>.json) and its Markdown page beside it (same name, .md).

The file holds everything the answer came from: both sides' rounds block by block in the order they ran, the
pairs, each visit's round and block length and why, each side's interpreter, tree, commit, environment
variables and what its workers reported (versions, machine, dataset), the machine's load before and after,
and the verdicts. It is not a run file: `report`, `compare` and `check` do not read it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from mnist_core.ab.analysis import RowResult
from mnist_core.ab.render import HOW, answer_lines, markdown_table
from mnist_core.ab.session import MAX_BLOCK_S, MAX_BLOCK_WALL_S, MIN_BLOCK_ROUNDS, START_UP_FACTOR, AbRecord
from mnist_core.runs.files import write_atomic, write_json_atomic
from mnist_core.runs.runfile import claim_run_path

FORMAT = "mnist-bench-ab"
FORMAT_VERSION = 1
PREFIX = "ab"


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: how busy the shared machine was (others' work shows here)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def claim_ab_path(results_dir: str | Path, machine: str, when: datetime) -> Path:
    return claim_run_path(results_dir, machine, when, prefix=PREFIX)


def _result(result: RowResult) -> dict:
    effect = result.effect
    return {"row": result.row, "pairs": result.pairs, "baseline_samples_per_s": result.baseline_median,
            "current_samples_per_s": result.current_median,
            "change": {"ratio": effect.ratio, "low": effect.low, "high": effect.high, "confidence": effect.confidence,
                       "method": effect.method},
            "verdict": result.verdict.label, "why": result.verdict.why}


def ab_data(record: AbRecord, results: list[RowResult], sides: list, *, threshold_pct: float, started_at: datetime,
            wall_s: float, load: dict) -> dict:
    settings = record.settings
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "started_at": started_at.isoformat(), "wall_s": round(wall_s, 1), "complete": record.complete,
        "command": " ".join(sys.argv),
        "settings": {**asdict(settings), "threshold_pct": threshold_pct,
                     "block_rule": {"min_block_rounds": MIN_BLOCK_ROUNDS, "start_up_factor": START_UP_FACTOR,
                                    "max_block_s": MAX_BLOCK_S, "max_block_wall_s": MAX_BLOCK_WALL_S}},
        "load_average": load,
        "sides": {side.name: {**side.describe(), "workers": record.hellos.get(side.name, [])} for side in sides},
        "rows": record.rows, "rows_one_side": record.rows_one_side, "skipped": record.skipped,
        "visits": [visit.asdict() for visit in record.visits],
        "blocks": [block.asdict() for block in record.blocks],
        "how": HOW,
        "results": [_result(result) for result in results],
    }


def markdown_page(data: dict, results: list[RowResult]) -> str:
    settings = data["settings"]
    lines = ["# mnist-bench ab", ""]
    lines += [line.strip() if not line.startswith("  ") else f"- {line.strip()}"
              for line in answer_lines(results, settings["threshold_pct"])]
    lines += ["", *markdown_table(results), "", HOW + ".", ""]
    if not data["complete"]:
        lines += ["**Partial:** the session was interrupted; only its completed pairs are compared.", ""]
    lines += ["## Sides", ""]
    for name, side in data["sides"].items():
        first = side["workers"][0] if side["workers"] else {}
        machine = first.get("machine", {})
        lines.append(f"- **{name}**: python {side['python']} (torch {machine.get('torch_version', '?')}), tree "
                     f"{side['tree']}, ref {side['ref'] or '-'}, commit {side['commit'] or '-'}, env "
                     f"{side['env'] or '{}'}; {len(side['workers'])} worker processes")
    plan = settings["plan"]
    lines += ["", "## Session", "",
              f"- profile {settings['profile']}, devices {','.join(settings['devices'])}, -k {settings['keyword'] or '-'}, "
              f"seed {settings['seed']}; {plan['cycles']} cycles of fresh workers, {plan['pairs_per_visit']} pairs "
              f"of blocks per row per cycle; {len(data['blocks'])} blocks in {data['wall_s']:.0f} s",
              f"- load average (1, 5, 15 min) before {data['load_average'].get('before')}, after "
              f"{data['load_average'].get('after')}"]
    for visit in data["visits"][:len(data["rows"])]:
        lines.append(f"- {visit['row']} (cycle 1): round {visit['round_s']:.3f} s; {visit['error'] or visit['why']}")
    return "\n".join(lines) + "\n"


def write_ab(path: Path, data: dict, results: list[RowResult]) -> Path:
    """The ab-run file and its page; returns the page's path."""
    write_json_atomic(path, data)
    page = path.with_suffix(".md")
    write_atomic(page, lambda stream: stream.write(markdown_page(data, results)))
    return page


def now() -> datetime:
    return datetime.now(timezone.utc)
