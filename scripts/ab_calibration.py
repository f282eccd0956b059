"""The calibration of `mnist-bench ab` from the real sessions committed in a folder: writes calibration.md there.

Each ab-run file's command says what its current side had changed (MNIST_BENCH_INJECT, the test-only fault
plugin): nothing (A/A), one row slowed by a share (slowdown_pct), or every sample of the tutorial's Dataset
slowed (sample_us). The page gives
  * every session: its profile, load, wall time and verdicts;
  * A/A: the share of redrawn sessions (mnist_core/ab/calibration.py: whole cycles drawn from all A/A sessions)
    given any verdict (faster or slower), per row;
  * power: the same redraws with the current side's row made 10% and 20% slower (laid on the A/A noise), and the
    real fault sessions' verdict on the slowed row and on every other row.

    python scripts/ab_calibration.py docs/evidence/cpu-amd-epyc-2core/ab --draws 2000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from mnist_core.ab.calibration import redraw, scaled
from mnist_core.measure.effect import FASTER, SLOWER, Effect, interval_text

THRESHOLD_PCT = 10.0


def condition(data: dict) -> str:
    """What the current side had changed: 'A/A', 'slowdown_pct:20@model=cnn', 'sample_us:40'."""
    found = re.search(r"MNIST_BENCH_INJECT=(\S+)", data["command"])
    return found[1] if found else "A/A"


def sessions_in(folder: Path) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(folder.glob("ab-*.json")):
        if path.stat().st_size:  # a session still running holds an empty claim
            data = json.loads(path.read_text())
            if data.get("complete"):
                out.append((path, data))
    return out


def slowed_row(data: dict) -> str | None:
    """The row a slowdown_pct fault matched (model=cnn: the CNN's training row), else None."""
    if "model=cnn" in condition(data):
        return next((result["row"] for result in data["results"] if "-cnn-" in result["row"]), None)
    return None


def session_table(sessions: list[tuple[Path, dict]]) -> list[str]:
    lines = ["| session | profile | current side | load before → after | wall | verdicts (±10%) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for path, data in sessions:
        calls = [f"**{r['verdict']}**: {r['row']} {interval_text(Effect(**r['change'], pairs=r['pairs']))}"
                 for r in data["results"] if r["verdict"] in (FASTER, SLOWER)]
        others = [r["verdict"] for r in data["results"] if r["verdict"] not in (FASTER, SLOWER)]
        summary = "; ".join(calls + [f"{others.count(label)} {label}" for label in sorted(set(others))])
        load = data["load_average"]
        lines.append(f"| [{path.stem}]({path.with_suffix('.md').name}) | {data['settings']['profile']} | "
                     f"{condition(data)} | {load['before'][0]:.1f} → {load['after'][0]:.1f} | {data['wall_s']:.0f} s | "
                     f"{summary} |")
    return lines


def redraw_table(aa: list[dict], draws: int) -> list[str]:
    lines = [f"| row | A/A sessions | cycles per session | any verdict, unchanged | slower, 10% laid on | "
             f"slower, 20% laid on |", "| --- | --- | --- | --- | --- | --- |"]
    unchanged = redraw(aa, draws=draws, threshold_pct=THRESHOLD_PCT, seed=0)
    for row in unchanged:
        power = {factor: redraw([scaled(data, row.row, factor) for data in aa], draws=draws,
                                threshold_pct=THRESHOLD_PCT, seed=0, rows=[row.row])[0].share(SLOWER)
                 for factor in (0.9, 0.8)}
        lines.append(f"| {row.row} | {row.sessions} | {row.cycles_per_session} | "
                     f"{100 * row.share(FASTER, SLOWER):.1f}% | {100 * power[0.9]:.0f}% | {100 * power[0.8]:.0f}% |")
    return lines


def fault_lines(sessions: list[tuple[Path, dict]]) -> list[str]:
    lines = []
    for kind in sorted({condition(data) for _, data in sessions} - {"A/A"}):
        group = [data for _, data in sessions if condition(data) == kind]
        row = slowed_row(group[0])
        if row is not None:
            found = sum(any(r["row"] == row and r["verdict"] == SLOWER for r in data["results"]) for data in group)
            false = sum(any(r["row"] != row and r["verdict"] in (FASTER, SLOWER) for r in data["results"])
                        for data in group)
            lines.append(f"- `{kind}`: {row} called slower in **{found} of {len(group)}** sessions; another row "
                         f"called in {false} of {len(group)}.")
        else:
            slower = [sorted(r["row"] for r in data["results"] if r["verdict"] == SLOWER) for data in group]
            lines.append(f"- `{kind}` (every DataLoader sample slower): rows called slower per session: "
                         + "; ".join(", ".join(rows) or "none" for rows in slower) + ".")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args(argv)
    sessions = sessions_in(args.folder)
    aa = [data for _, data in sessions if condition(data) == "A/A"]
    text = ["# `ab` calibration: real sessions on this machine, and redraws of them", "",
            f"Made by `scripts/ab_calibration.py` from the {len(sessions)} complete ab-run files here "
            f"({len(aa)} A/A); redraws: {args.draws} per row, whole cycles drawn from all A/A sessions "
            "(`mnist_core/ab/calibration.py`). A verdict is *faster* or *slower* (±10%); *same* and "
            "*inconclusive* are not.", "", "## Sessions", "", *session_table(sessions), "",
            "## A/A redraws, and a slowdown laid on their noise", "", *redraw_table(aa, args.draws), "",
            "## Real slowdowns (the test-only fault plugin on the current side)", "", *fault_lines(sessions), ""]
    (args.folder / "calibration.md").write_text("\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
