"""The runs a report is made from: read and checked (runs/runfile.read_run), and labelled by machine."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mnist_core.errors import RunFileError
from mnist_core.runs.runfile import Run, read_run


@dataclass(frozen=True)
class RunInput:
    run: Run
    label: str  # how the run's machine is named in tables; unique among the runs of one report

    def __getattr__(self, name: str):
        """The run's own attributes (path, session, machine, complete, ...) read through the input."""
        if name == "run":  # not set yet (copying, unpickling): never recurse
            raise AttributeError(name)
        return getattr(self.run, name)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def check_reportable(run: Run) -> None:
    """RunFileError (one line) for a run with nothing to report: empty, or every benchmark failed."""
    if run.rows:
        return
    benchmarks, failed, skipped = run.data["benchmarks"], run.session.failed, run.session.skipped
    if failed:
        first = failed[0]
        raise RunFileError(
            f"{run.path}: all {len(failed)} benchmarks failed (first: {_one_line(first.id)}: "
            f"{_one_line(first.reason)}); fix that and rerun `pytest --benchmark-only`")
    detail = f"{len(benchmarks)} benchmarks without mnist-bench numbers" if benchmarks else "no benchmarks"
    if skipped:
        detail += f", {len(skipped)} skipped"
    raise RunFileError(f"{run.path}: an empty run ({detail}); nothing to report, rerun `pytest --benchmark-only`")


def machine_labels(runs: list[Run]) -> list[str]:
    """The hardware label of each run; runs from the same hardware get their run file name added."""
    labels = [run.machine.label for run in runs]
    counts = Counter(labels)
    labels = [label if counts[label] == 1 else f"{label} ({run.path.stem})" for label, run in zip(labels, runs)]
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
    runs = []
    for path in paths:
        run = read_run(path)
        check_reportable(run)
        runs.append(run)
    return [RunInput(run, label) for run, label in zip(runs, machine_labels(runs))]
