"""The baseline store: one known-good run per hardware key and profile, in results/baselines/<key slug>.json.

A baseline file is the run file itself (so pytest-benchmark and `mnist-bench report` read it too)
with one more top-level section, `mnist_bench_baseline`: the key, where it came from and when.
An existing baseline is replaced only when asked (--force); two saves racing for one key have exactly
one winner (files.write_json_atomic creates it only if absent).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from mnist_core.errors import BaselineError, RunFileError
from mnist_core.regress.hardware_key import describe, hardware_key, key_differences, key_slug
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.runfile import Run, read_run

BASELINE_SECTION = "mnist_bench_baseline"
BASELINES_DIR = "baselines"


def baselines_dir(results_dir: str | Path) -> Path:
    return Path(results_dir) / BASELINES_DIR


def baseline_path(results_dir: str | Path, key: dict) -> Path:
    return baselines_dir(results_dir) / f"{key_slug(key)}.json"


def save_baseline(run: Run, results_dir: str | Path, *, force: bool = False) -> Path:
    """Store `run` as the baseline for its hardware key; OutputExistsError if one exists and not force."""
    if run.unusable:
        first = run.unusable[0]
        raise BaselineError(f"{run.path}: {len(run.unusable)} row(s) have numbers that cannot be real (first: "
                            f"{first.id}: {first.reason}); a baseline must be a clean run: save another run")
    key = hardware_key(run)
    data = {name: value for name, value in run.data.items() if name != BASELINE_SECTION}
    data[BASELINE_SECTION] = {"hardware_key": key, "source": str(run.path),
                              "saved_at": datetime.now(timezone.utc).isoformat()}
    return write_json_atomic(baseline_path(results_dir, key), data, overwrite=force)


def load_baseline(path: str | Path) -> Run:
    """A baseline file as a run; BaselineError naming the fix when it is missing or corrupt."""
    try:
        return read_run(path)
    except RunFileError as exc:
        raise BaselineError(f"baseline {exc}; replace it with `mnist-bench baseline save RUN --force`") from None


def refuse_same_run(baseline: Run, current: Run, names: tuple[str, str]) -> None:
    """BaselineError when the two files hold one session's run: a copy of a run, or a baseline and the run it was
    saved from (equal but for the baseline's own section). Their comparison could only find no change, and a
    regression gate that passes having compared nothing is a false green (a CI job whose benchmark step wrote no
    new run checks the baseline's own source), so it is unusable input, like a missing baseline."""
    if _session(baseline.data) != _session(current.data):
        return
    saved = baseline.data.get(BASELINE_SECTION) or current.data.get(BASELINE_SECTION)
    source = saved.get("source") if isinstance(saved, dict) else None
    what = (f"the baseline was saved from this very run ({source})" if source else
            f"they hold one session's run (saved {baseline.data.get('datetime', 'at an unknown time')})")
    raise BaselineError(f"{names[0]} and {names[1]} are the same run: {what}, so there is nothing to compare; "
                        "run the benchmarks again (pytest --benchmark-only) and compare the new run")


def _session(data: dict) -> dict:
    return {name: value for name, value in data.items() if name != BASELINE_SECTION}


def stored_baselines(results_dir: str | Path) -> list[Path]:
    return sorted(baselines_dir(results_dir).glob("*.json"))


def _stored_keys(results_dir: str | Path) -> list[tuple[dict, Path]]:
    keys = []
    for candidate in stored_baselines(results_dir):
        try:
            keys.append((hardware_key(read_run(candidate)), candidate))
        except RunFileError:
            continue
    return keys


def find_baseline(results_dir: str | Path, run: Run, *, allow_hardware_mismatch: bool = False) -> Path:
    """This run's baseline: same hardware and profile. With allow_hardware_mismatch, the closest stored one of
    the same profile. A baseline of this hardware with another profile is named in the error."""
    key = hardware_key(run)
    path = baseline_path(results_dir, key)
    if path.exists():
        return path
    stored = _stored_keys(results_dir)
    same_profile = [(other, candidate) for other, candidate in stored if other["profile"] == key["profile"]]
    if allow_hardware_mismatch and same_profile:
        return min(same_profile, key=lambda item: (len(key_differences(item[0], key)), -item[1].stat().st_mtime_ns))[1]
    same_machine = [(other, candidate) for other, candidate in stored if not key_differences(other, key)]
    if same_machine:
        other, candidate = same_machine[0]
        raise BaselineError(
            f"no {key['profile']}-profile baseline for this machine in {baselines_dir(results_dir)}; {candidate} is "
            f"its {other['profile']}-profile baseline: check a {other['profile']}-profile run against it "
            f"(pytest --benchmark-only --bench-profile={other['profile']}), or save this run as the "
            f"{key['profile']} baseline with `mnist-bench baseline save {run.path}`")
    hint = (f"; {len(stored)} baseline(s) there are for other hardware (--allow-hardware-mismatch uses the closest "
            f"of the {key['profile']} profile)") if stored else ""
    raise BaselineError(
        f"no baseline for this machine ({describe(key)}) in {baselines_dir(results_dir)}; save one on a known-good "
        f"setup with `mnist-bench baseline save {run.path}`{hint}")
