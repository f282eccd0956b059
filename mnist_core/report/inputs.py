"""The runs a report is made from: loaded, checked for something to report, and labelled by machine."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mnist_core.errors import RunFileError
from mnist_core.runs.frame import hardware_label
from mnist_core.runs.runfile import SECTION, load_run

METRICS = ("samples_per_s", "gb_s")


@dataclass(frozen=True)
class RunInput:
    path: Path
    data: dict
    label: str  # how the run's machine is named in tables; unique among the runs of one report

    @property
    def section(self) -> dict:
        return self.data[SECTION]

    @property
    def machine_info(self) -> dict:
        return self.data.get("machine_info") or {}

    @property
    def complete(self) -> bool:
        return bool(self.section.get("complete"))


def is_measured(benchmark: dict) -> bool:
    """A benchmark row the report can use: an mnist-bench kind and a number."""
    info = benchmark.get("extra_info") if isinstance(benchmark, dict) else None
    if not isinstance(info, dict) or not info.get("kind"):
        return False
    return any(isinstance(info.get(metric), (int, float)) and not isinstance(info.get(metric), bool)
               for metric in METRICS)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def check_reportable(path: Path, run: dict) -> None:
    """RunFileError (one line) for a run with nothing to report: empty, or every benchmark failed."""
    section = run[SECTION]
    benchmarks = run["benchmarks"]
    if any(is_measured(benchmark) for benchmark in benchmarks):
        return
    failed = [item for item in section.get("failed") or [] if isinstance(item, dict)]
    if failed:
        first = failed[0]
        raise RunFileError(
            f"{path}: all {len(failed)} benchmarks failed (first: {_one_line(first.get('id'))}: "
            f"{_one_line(first.get('reason'))}); fix that and rerun `pytest --benchmark-only`")
    skipped = section.get("skipped") or []
    detail = f"{len(benchmarks)} benchmarks without mnist-bench numbers" if benchmarks else "no benchmarks"
    if skipped:
        detail += f", {len(skipped)} skipped"
    raise RunFileError(f"{path}: an empty run ({detail}); nothing to report, rerun `pytest --benchmark-only`")


def machine_labels(runs: list[tuple[Path, dict]]) -> list[str]:
    """The hardware label of each run; runs from the same hardware get their run file name added."""
    labels = [hardware_label(run.get("machine_info") or {}) for _, run in runs]
    counts = Counter(labels)
    labels = [label if counts[label] == 1 else f"{label} ({path.stem})" for label, (path, _) in zip(labels, runs)]
    seen: Counter = Counter()
    unique = []
    for label in labels:  # the same file given twice
        seen[label] += 1
        unique.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return unique


def load_runs(paths) -> list[RunInput]:
    """Every run checked before anything is written; RunFileError names the first bad one."""
    paths = [Path(path) for path in paths]
    if not paths:
        raise RunFileError("no run files given; name one or more results/run-*.json files")
    loaded = []
    for path in paths:
        run = load_run(path)
        check_reportable(path, run)
        loaded.append((path, run))
    return [RunInput(path, run, label) for (path, run), label in zip(loaded, machine_labels(loaded))]
