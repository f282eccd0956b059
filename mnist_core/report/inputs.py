"""The runs a report is made from: read and checked (runs/runfile.read_run), and labelled by machine."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mnist_core.errors import RunFileError
from mnist_core.runs.runfile import Run, read_run


def hardware_label(machine_info: dict) -> str:
    """How a run's machine is named in side-by-side tables: the GPU if it had one, else the CPU."""
    gpu = machine_info.get("gpu_name")
    cpu = machine_info.get("cpu_model") or "CPU"
    return f"{gpu} + {cpu}" if gpu else cpu


@dataclass(frozen=True)
class RunInput:
    run: Run
    label: str  # how the run's machine is named in tables; unique among the runs of one report

    def __getattr__(self, name: str):
        """The run's own attributes (path, section, machine_info, complete, ...) read through the input."""
        if name == "run":  # not set yet (copying, unpickling): never recurse
            raise AttributeError(name)
        return getattr(self.run, name)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def check_reportable(run: Run) -> None:
    """RunFileError (one line) for a run with nothing to report: empty, or every benchmark failed."""
    if run.rows:
        return
    section, benchmarks = run.section, run.data["benchmarks"]
    failed = [item for item in section.get("failed") or [] if isinstance(item, dict)]
    if failed:
        first = failed[0]
        raise RunFileError(
            f"{run.path}: all {len(failed)} benchmarks failed (first: {_one_line(first.get('id'))}: "
            f"{_one_line(first.get('reason'))}); fix that and rerun `pytest --benchmark-only`")
    skipped = section.get("skipped") or []
    detail = f"{len(benchmarks)} benchmarks without mnist-bench numbers" if benchmarks else "no benchmarks"
    if skipped:
        detail += f", {len(skipped)} skipped"
    raise RunFileError(f"{run.path}: an empty run ({detail}); nothing to report, rerun `pytest --benchmark-only`")


def machine_labels(runs: list[Run]) -> list[str]:
    """The hardware label of each run; runs from the same hardware get their run file name added."""
    labels = [hardware_label(run.machine_info) for run in runs]
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
