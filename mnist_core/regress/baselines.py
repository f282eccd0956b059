"""The baseline store: one known-good run per hardware key, in results/baselines/<key slug>.json.

A baseline file is the run file itself (so pytest-benchmark and `mnist-bench report` read it too)
with one more top-level section, `mnist_bench_baseline`: the key, where it came from and when.
An existing baseline is replaced only when asked (--force).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from mnist_core.errors import BaselineError, RunFileError
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import load_run
from mnist_core.regress.hardware_key import describe, hardware_key, key_differences, key_slug

BASELINE_SECTION = "mnist_bench_baseline"
BASELINES_DIR = "baselines"


def baselines_dir(results_dir: str | Path) -> Path:
    return Path(results_dir) / BASELINES_DIR


def baseline_path(results_dir: str | Path, key: dict) -> Path:
    return baselines_dir(results_dir) / f"{key_slug(key)}.json"


def save_baseline(run: dict, source: str | Path, results_dir: str | Path, *, force: bool = False) -> Path:
    """Store `run` as the baseline for its hardware key; OutputExistsError if one exists and not force."""
    key = hardware_key(run)
    data = {name: value for name, value in run.items() if name != BASELINE_SECTION}
    data[BASELINE_SECTION] = {"hardware_key": key, "source": str(source),
                              "saved_at": datetime.now(timezone.utc).isoformat()}
    return write_json_atomic(baseline_path(results_dir, key), data, overwrite=force)


def load_baseline(path: str | Path) -> dict:
    """A baseline file as a run; BaselineError naming the fix when it is missing or corrupt."""
    try:
        return load_run(path)
    except RunFileError as exc:
        raise BaselineError(f"baseline {exc}; replace it with `mnist-bench baseline save RUN --force`") from None


def stored_baselines(results_dir: str | Path) -> list[Path]:
    return sorted(baselines_dir(results_dir).glob("*.json"))


def find_baseline(results_dir: str | Path, run: dict, *, allow_hardware_mismatch: bool = False) -> Path:
    """This run's hardware baseline; with allow_hardware_mismatch the closest stored one when there is none."""
    key = hardware_key(run)
    path = baseline_path(results_dir, key)
    if path.exists():
        return path
    if allow_hardware_mismatch:
        candidates = []
        for candidate in stored_baselines(results_dir):
            try:
                other = hardware_key(load_run(candidate))
            except RunFileError:
                continue
            candidates.append((len(key_differences(other, key)), candidate.stat().st_mtime_ns * -1, candidate))
        if candidates:
            return min(candidates)[2]
    raise BaselineError(
        f"no baseline for this hardware ({describe(key)}) in {baselines_dir(results_dir)}; save one on a known-good "
        "setup with `mnist-bench baseline save RUN`, or pass --allow-hardware-mismatch to use the closest one")
