"""Run files: pytest-benchmark JSON plus an `mnist_bench` section. Written atomically, never overwritten."""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from .errors import OutputExistsError, RunFileError

FORMAT_VERSION = 1
SECTION = "mnist_bench"
RUN_GLOB = "run-*.json"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def new_run_path(results_dir: str | Path, machine: str, when: datetime | None = None) -> Path:
    """results/run-<UTC time>-<machine>.json, with a counter added if that name is taken."""
    when = when or datetime.now(timezone.utc)
    results_dir = Path(results_dir)
    stem = f"run-{when:%Y%m%dT%H%M%SZ}-{slug(machine)}"
    path = results_dir / f"{stem}.json"
    counter = 2
    while path.exists():
        path = results_dir / f"{stem}-{counter}.json"
        counter += 1
    return path


def write_json_atomic(path: str | Path, data: dict, *, overwrite: bool = True) -> Path:
    """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path = Path(path)
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path} already exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream, indent=1, default=_jsonable)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value):
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def load_run(path: str | Path) -> dict:
    """Load and check a run file; RunFileError with one line naming the problem otherwise."""
    path = Path(path)
    if not path.is_file():
        raise RunFileError(f"{path}: no such run file; run `pytest --benchmark-only` first or give an existing path")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFileError(f"{path}: not valid JSON ({exc}); give a run file written by mnist-bench") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise RunFileError(f"{path}: not a pytest-benchmark run (no 'benchmarks' list); give a file from results/")
    section = data.get(SECTION)
    if not isinstance(section, dict):
        raise RunFileError(
            f"{path}: a pytest-benchmark file without the '{SECTION}' section; give a run written by mnist-bench's benchmarks"
        )
    version = section.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFileError(
            f"{path}: run format {version!r} is newer than this mnist-bench understands ({FORMAT_VERSION}); upgrade mnist-bench"
        )
    return data


def run_files(results_dir: str | Path) -> list[Path]:
    """Run files under `results_dir` (recursively), oldest first by their timestamped names."""
    return sorted(Path(results_dir).rglob(RUN_GLOB), key=lambda p: p.name)


def latest_run(results_dir: str | Path) -> Path:
    runs = [p for p in run_files(results_dir) if "baselines" not in p.parts]
    if not runs:
        raise RunFileError(f"no runs under {results_dir}; run `pytest --benchmark-only` first or name a run file")
    return runs[-1]
