"""Writing a report folder: checked inputs first, everything rendered into a staging folder,
then moved into place, so a bad input or a crash never leaves a half-written or overwritten report.

Two reports written into one folder at once are serialised by a lock beside the folder: the second
either replaces the first whole (--force) or stops with "already holds a report"; never a mix of both."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mnist_core.errors import MnistBenchError, OutputExistsError
from mnist_core.runs.files import file_mode, folder_mode, held_lock
from mnist_core.report.model import Report
from mnist_core.report.plots import PLOT_FILES

MARKDOWN, HTML, CSV = "report.md", "report.html", "results.csv"
REPORT_FILES = (MARKDOWN, HTML, CSV, *PLOT_FILES)


class ReportWriteError(MnistBenchError):
    """The report folder could not be written (permissions, disk, a file in the way)."""


@dataclass(frozen=True)
class WrittenReport:
    out_dir: Path
    markdown: Path
    html: Path
    csv: Path
    plots: tuple[Path, ...]
    report: Report | None = None  # what was rendered, for printing its tables


def check_out_dir(out_dir: Path, force: bool) -> None:
    """OutputExistsError unless `out_dir` is new, empty of report files, or `force` is given."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} exists and is not a folder; choose another --out")
    if force or not out_dir.is_dir():
        return
    existing = [name for name in REPORT_FILES if (out_dir / name).exists()]
    if existing:
        raise OutputExistsError(f"{out_dir} already holds a report ({', '.join(existing)}); "
                                "pass --force to replace it or choose another --out")


def write_files(out_dir: Path, texts: dict[str, str], figures: dict[str, bytes], force: bool) -> WrittenReport:
    """Write `texts` (name -> str) and `figures` (name -> PNG bytes) as the folder `out_dir`."""
    check_out_dir(out_dir, force)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    except OSError as exc:
        raise ReportWriteError(f"cannot write a report in {out_dir.parent}: {exc.strerror or exc}") from None
    try:
        for name, text in texts.items():
            (staging / name).write_text(text, encoding="utf-8")
        for name, png in figures.items():
            (staging / name).write_bytes(png)
        for path in staging.iterdir():
            os.chmod(path, file_mode())
        with held_lock(out_dir.parent):  # the parent folder itself: no lock file left behind
            _publish(staging, out_dir, force)
    except OSError as exc:
        raise ReportWriteError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WrittenReport(out_dir, out_dir / MARKDOWN, out_dir / HTML, out_dir / CSV,
                         tuple(out_dir / name for name in PLOT_FILES if name in figures))


def _publish(staging: Path, out_dir: Path, force: bool) -> None:
    """Under the folder's lock: a new folder appears whole in one rename; an existing one is checked again
    (another writer may have filled it since the first check) and its report files replaced."""
    if not out_dir.exists():
        os.chmod(staging, folder_mode())  # mkdtemp made it private
        os.rename(staging, out_dir)
        return
    check_out_dir(out_dir, force)
    written = {path.name for path in staging.iterdir()}
    for name in REPORT_FILES:  # a plot the new report does not have must not linger from the old one
        if name not in written and (out_dir / name).exists():
            (out_dir / name).unlink()
    for name in sorted(written):
        os.replace(staging / name, out_dir / name)
