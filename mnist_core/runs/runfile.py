"""Run files: pytest-benchmark JSON plus an `mnist_bench` section. Written atomically, never overwritten.

`read_run` is how every command reads one: the file's shape is checked first (a malformed file is one
line, exit 2), then its `mnist_bench` and `machine_info` sections become typed records (runs/sections.py) and
each benchmark a typed row (runs/rows.py); a row whose numbers cannot be real is set aside as unusable, and a
file with no usable row or with one configuration measured twice is refused. Format 1 files (before
noise-controlled rounds) still load: what they lack reads as its default.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from dataclasses import dataclass
from statistics import median

from mnist_core.measure.measurement import drift_pct

from mnist_core.errors import RunFileError
from mnist_core.runs.files import claim_new, is_locked, write_json_atomic  # noqa: F401  (write_json_atomic: API)
from mnist_core.runs.row_ids import split_row_id
from mnist_core.runs.rows import (NUMBER_KEYS, REQUIRED_KEYS, ROUNDS_KEYS, Row, RowProblem, Unusable,
                                  check_round_times, row_from_info, unusable_row_id)
from mnist_core.runs.sections import MACHINE_SECTION, SECTION, MachineInfo, SessionRecord
from mnist_core.runs.status import RunStatus

FORMAT_VERSION = 2  # 2: noise-controlled rounds paired with a yardstick; 1 still reads
# How each format measured, for a comparison across formats to say why its verdicts may be the method's.
FORMAT_METHODS = {1: "fixed rounds, not paired with a yardstick, no drift or machine state recorded",
                  2: "rounds paired with the tutorial's setting, with drift and machine state recorded"}
RUN_GLOB = "run-*.json"
DEFAULT_RESULTS_DIR = "results"  # where sessions write run files and reports, and commands look for them


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _run_names(results_dir: Path, machine: str, when: datetime, prefix: str) -> Iterator[Path]:
    """results/<prefix>-<UTC time>-<machine>.json, then the same name with -2, -3, ... added."""
    stem = f"{prefix}-{when:%Y%m%dT%H%M%SZ}-{slug(machine)}"
    yield results_dir / f"{stem}.json"
    for counter in itertools.count(2):
        yield results_dir / f"{stem}-{counter}.json"


def claim_run_path(results_dir: str | Path, machine: str, when: datetime | None = None, prefix: str = "run") -> Path:
    """A new run file's name, created empty and exclusively: sessions started in the same second (on this
    machine or on others writing to one shared folder) always get separate files. `prefix` "ab" names an ab-run
    file (mnist_core/ab/abfile.py), which the commands that look for run files do not read."""
    return claim_new(_run_names(Path(results_dir), machine, when or datetime.now(timezone.utc), prefix))


def writer_lock(run_path: str | Path) -> Path:
    """The lock a session holds while it writes `run_path` (files.held_lock); the kernel drops it when the
    session ends, however it ends."""
    run_path = Path(run_path)
    return run_path.parent / f".{run_path.name}.lock"


def being_written(run_path: Path) -> bool:
    """A claimed name not filled yet, or a file whose session still runs."""
    try:
        empty = run_path.stat().st_size == 0
    except OSError:
        return True
    return empty or is_locked(writer_lock(run_path))


REMEDY = "re-run the benchmarks (`pytest --benchmark-only`) or point at another run file"

JSON_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
              list: "a list"}


def _json_type(value) -> str:
    """What a JSON value is, in the words an error message uses; short scalars are shown too."""
    if value is None:
        return "null"
    kind = next((words for kind, words in JSON_TYPES.items() if type(value) is kind), type(value).__name__)
    shown = repr(value)
    return f"{shown} ({kind})" if not isinstance(value, (dict, list)) and len(shown) <= 40 else kind


def _is(value, kind: type) -> bool:
    """isinstance as JSON means it: true/false is not a number, an integer is a number."""
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _bad(path: Path, problem: str) -> RunFileError:
    return RunFileError(f"{path}: {problem}; {REMEDY}")


def _check_type(path: Path, where: str, value, kind: type, *, nullable: bool = False) -> None:
    if (value is None and nullable) or _is(value, kind):
        return
    expected = JSON_TYPES[kind] + (" or null" if nullable else "")
    raise _bad(path, f"{where} is {_json_type(value)}, not {expected}")


def _benchmark_name(index: int, bench: dict) -> str:
    name = bench.get("name")
    return f"benchmark {index}" + (f" ({name})" if isinstance(name, str) and name and len(name) <= 120 else "")


def _check_row(path: Path, index: int, bench) -> None:
    """One entry of `benchmarks`: an object whose extra_info holds what its kind needs, with the right types."""
    if not isinstance(bench, dict):
        raise _bad(path, f"benchmark {index} is {_json_type(bench)}, not an object")
    where = _benchmark_name(index, bench)
    for key in ("name", "group"):
        _check_type(path, f"{where}: '{key}'", bench.get(key), str, nullable=True)
    if "stats" in bench:
        _check_type(path, f"{where}: 'stats'", bench["stats"], dict)
    if "extra_info" not in bench:
        return  # a plain pytest-benchmark row: reported as "without mnist-bench numbers", never compared
    info = bench["extra_info"]
    _check_type(path, f"{where}: 'extra_info'", info, dict)
    kind = info.get("kind")
    _check_type(path, f"{where}: kind", kind, str, nullable=True)
    if not kind:
        return
    for key, key_type in REQUIRED_KEYS.get(kind, {}).items():
        if key not in info:
            raise _bad(path, f"{where}: extra_info has no '{key}', which every {kind} row needs")
        _check_type(path, f"{where}: {key}", info[key], key_type)
    for key in NUMBER_KEYS:
        if key in info:
            _check_type(path, f"{where}: {key}", info[key], float, nullable=True)
    for key in ROUNDS_KEYS:
        if key in info:
            _check_type(path, f"{where}: {key}", info[key], list, nullable=True)
            if any(not _is(value, float) for value in info[key] or ()):
                raise _bad(path, f"{where}: {key} holds something other than numbers")
    if kind == "accuracy":
        needed = "seconds_to_target" if info["reached"] else "val_accuracy"
        if info.get(needed) is None:
            state = "reached" if info["reached"] else "did not reach"
            raise _bad(path, f"{where}: {state} its target but extra_info has no '{needed}'")


def _check_section(path: Path, section: dict) -> None:
    for key in ("skipped", "failed"):
        if key not in section:
            continue
        entries = section[key]
        _check_type(path, f"'{SECTION}.{key}'", entries, list)
        for number, entry in enumerate(entries, 1):
            _check_type(path, f"'{SECTION}.{key}' entry {number}", entry, dict)
            _check_type(path, f"'{SECTION}.{key}' entry {number}'s config", entry.get("config"), dict, nullable=True)
    for key in ("complete", "interrupted"):
        _check_type(path, f"'{SECTION}.{key}'", section.get(key), bool, nullable=True)
    _check_type(path, f"'{SECTION}.profile'", section.get("profile"), str, nullable=True)
    dataset = section.get("dataset")
    _check_type(path, f"'{SECTION}.dataset'", dataset, dict, nullable=True)
    for key in ("train_size", "test_size"):
        _check_type(path, f"'{SECTION}.dataset.{key}'", (dataset or {}).get(key), int, nullable=True)


def load_run(path: str | Path) -> dict:
    """Load and check a run file; RunFileError with one line naming the problem otherwise.

    Beyond the top level, every part the commands read is checked for its shape: machine_info, the
    mnist_bench section (skipped and failed lists of objects) and each benchmark's extra_info (the keys
    its kind needs, with their types), so a damaged or hand-edited file is named here, not a traceback later.
    """
    path = Path(path)
    if path.is_dir():
        raise RunFileError(f"{path} is a folder, not a run file; give one of its run-*.json files "
                           "(or pass the folder as --results-dir)")
    if not path.is_file():
        raise RunFileError(f"{path}: no such run file; run `pytest --benchmark-only` first or give an existing path")
    try:
        text = path.read_text()
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read it ({exc.strerror or exc}); check its permissions or give another "
                           "run file") from None
    except UnicodeDecodeError as exc:
        raise RunFileError(f"{path}: not valid JSON ({exc}); give a run file written by mnist-bench") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RunFileError(f"{path}: not valid JSON ({exc}); give a run file written by mnist-bench") from None
    return check_run_data(path, data)


def check_run_data(path: Path, data) -> dict:
    """The shape checks of load_run on data already parsed; the data, or RunFileError naming the problem."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise RunFileError(f"{path}: not a pytest-benchmark run (no 'benchmarks' list); give a file from results/")
    section = data.get(SECTION)
    if not isinstance(section, dict):
        raise RunFileError(
            f"{path}: a pytest-benchmark file without the '{SECTION}' section; give a run written by mnist-bench's benchmarks"
        )
    version = section.get("format_version")
    if not _is(version, int):
        found = "missing" if "format_version" not in section else _json_type(version)
        raise RunFileError(
            f"{path}: '{SECTION}.format_version' is {found}, not an integer; write it as a whole number such as "
            f"{FORMAT_VERSION} (no quotes) or give a run file written by mnist-bench"
        )
    if version > FORMAT_VERSION:
        raise RunFileError(
            f"{path}: run format {version!r} is newer than this mnist-bench understands ({FORMAT_VERSION}); upgrade mnist-bench"
        )
    if version < 1:
        raise RunFileError(f"{path}: run format {version!r} is not a known format (this mnist-bench reads 1 to "
                           f"{FORMAT_VERSION}); give a run file written by mnist-bench")
    if MACHINE_SECTION in data:
        _check_type(path, f"'{MACHINE_SECTION}'", data[MACHINE_SECTION], dict)
        for key in ("gpu_name", "cpu_model"):
            _check_type(path, f"'{MACHINE_SECTION}.{key}'", data[MACHINE_SECTION].get(key), str, nullable=True)
    _check_section(path, section)
    for index, bench in enumerate(data["benchmarks"], 1):
        _check_row(path, index, bench)
    return data


@dataclass(frozen=True)
class Run:
    """A run file as the commands use it: the JSON as written (what a baseline saves), its two header sections
    and its usable rows typed, and what was set aside."""

    path: Path
    data: dict
    session: SessionRecord
    machine: MachineInfo
    rows: tuple[Row, ...]
    unusable: tuple[Unusable, ...]

    @property
    def complete(self) -> bool:
        return self.session.complete

    @property
    def status(self) -> RunStatus:
        return self.session.status

    @property
    def saved_at(self) -> datetime | None:
        """When pytest-benchmark saved the run (its `datetime`), None when absent or unreadable."""
        try:
            when = datetime.fromisoformat(str(self.data.get("datetime")))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

    @property
    def started(self) -> str | None:
        """When the session started, as written; pytest-benchmark's save time for files without it."""
        return self.session.started_at or self.data.get("datetime")

    @property
    def profile(self) -> str | None:
        return self.session.profile

    @property
    def format_version(self) -> int:
        return self.session.format_version

    def drift(self) -> dict[str, Drift]:
        """Per device: how far its yardstick (the tutorial's setting, paired with every row) strayed over the
        run, from each row's median yardstick round (many rows, so round noise averages out)."""
        medians: dict[str, list[float]] = {}
        names: dict[str, str] = {}
        for row in self.rows:
            measurement = getattr(row, "measurement", None)
            if measurement is not None and measurement.paired and split_row_id(measurement.yardstick or "")[0] == "train":
                device = row.config.device
                medians.setdefault(device, []).append(measurement.yardstick_median)
                names[device] = measurement.yardstick
        return {device: Drift(names[device], len(values), median(values), drift_pct(values))
                for device, values in medians.items()}


@dataclass(frozen=True)
class Drift:
    yardstick: str
    rows: int  # rows whose rounds were paired with it
    median: float  # its median samples/s over the run
    spread_pct: float | None  # how far the rows' yardstick medians strayed (measurement.drift_pct)


def read_run(path: str | Path) -> Run:
    """Load, check and type a run file; RunFileError (one line) when it cannot be used at all."""
    return typed_run(Path(path), load_run(path))


def typed_run(path: Path, data: dict) -> Run:
    """A checked run's rows typed: impossible numbers set aside as unusable, a configuration measured twice
    refused (see read_run)."""
    rows: list[Row] = []
    unusable: list[Unusable] = []
    seen: dict[tuple, str] = {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info") or {}
        if not info.get("kind"):
            continue  # a plain pytest-benchmark row: not an mnist-bench measurement
        name = bench.get("name") or ""
        try:
            check_round_times(bench.get("stats"))
            row = row_from_info(info, name)
        except RowProblem as problem:
            unusable.append(Unusable(name, unusable_row_id(name, info), str(problem)))
            continue
        if row.key in seen:
            raise RunFileError(f"{path}: two benchmarks measured {row.id} ({seen[row.key]} and {name}); a run file "
                               "holds one session: give the run file of one session")
        seen[row.key] = name
        rows.append(row)
    if unusable and not rows:
        first = unusable[0]
        raise RunFileError(f"{path}: no benchmark has numbers that can be real ({len(unusable)} unusable; first: "
                           f"{first.id}: {first.reason}); {REMEDY}")
    return Run(path, data, SessionRecord.from_json(data[SECTION]), MachineInfo.from_json(data.get(MACHINE_SECTION)),
               tuple(rows), tuple(unusable))


def run_files(results_dir: str | Path) -> list[Path]:
    """Run files under `results_dir` (recursively), oldest first: by the start time in the name, then
    by the counter claim_run_path adds when a name is taken (`…-2.json` sorts before `….json` by name)."""
    return sorted(Path(results_dir).rglob(RUN_GLOB), key=_started_then_counter)


def _started_then_counter(path: Path) -> tuple:
    stem = path.stem
    started = stem.split("-")[1] if "-" in stem else ""
    counter = 1
    base, _, number = stem.rpartition("-")
    # A trailing number is a counter only beside the first run's file (a machine may end in digits: rtx-4090).
    if number.isdigit() and (path.parent / f"{base}.json").exists():
        stem, counter = base, int(number)
    return (started, stem, counter)


def latest_run(results_dir: str | Path) -> Path:
    """The newest run file written whole by a session that has ended (see being_written)."""
    runs = [p for p in run_files(results_dir) if "baselines" not in p.parts]
    finished = [p for p in runs if not being_written(p)]
    if not finished:
        unfinished = f" ({len(runs)} still being written)" if runs else ""
        raise RunFileError(f"no run yet in {results_dir}{unfinished}: run pytest --benchmark-only first (or name a "
                           "run file)")
    return finished[-1]
