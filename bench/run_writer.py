"""The session's run file: claimed under its own name at the start, rewritten atomically after every benchmark
through pytest-benchmark's own generate/update JSON hooks (a user's conftest changes reach it as they reach
--benchmark-json), so an interrupted or crashed session still leaves every completed result, marked partial.

What was written last is kept in memory: the terminal's answer and the report are made from it, typed, and
the file is never read back.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from datetime import datetime
from pathlib import Path

from mnist_core.errors import MnistBenchError
from mnist_core.runs.files import held_lock, json_copy, write_json_atomic
from mnist_core.runs.runfile import FORMAT_VERSION, Run, check_run_data, claim_run_path, typed_run, writer_lock
from mnist_core.runs.sections import Dataset, SessionRecord

from bench.outcomes import Outcomes
from bench.settings import BenchSettings
from bench.yardsticks import Yardsticks


def finished_benchmarks(config) -> list:
    """Benchmarks that stored their row; one cut off by an interrupt has stats but no row."""
    session = config._benchmarksession
    return [bench for bench in session.benchmarks if not bench.has_error and bench.extra_info.get("kind")]


def mnist_bench_section(settings: BenchSettings, *, started_at: datetime, wall_s: float, cuda_init_s: float | None,
                        yardsticks: Yardsticks, outcomes: Outcomes, complete: bool, interrupted: bool) -> dict:
    """The run file's `mnist_bench` section: how the session ran and ended, beside pytest-benchmark's rows."""
    data = settings.data
    return SessionRecord(
        format_version=FORMAT_VERSION, profile=settings.profile.name, devices=tuple(settings.devices),
        devices_note=settings.devices_note,
        dataset=Dataset(**data.location.asdict(), train_size=data.sizes["train"], test_size=data.sizes["test"]),
        accuracy_target=settings.accuracy_target, started_at=started_at.isoformat(), wall_s=round(wall_s, 1),
        budget_s=settings.profile.budget_s, cuda_init_s=cuda_init_s, drift=yardsticks.record(), complete=complete,
        interrupted=interrupted, skipped=tuple(outcomes.skipped), failed=tuple(outcomes.failed),
        command=" ".join(sys.argv),
        child_processes_alive=max(0, len(multiprocessing.active_children()) - yardsticks.worker_processes()),
    ).to_json()


def write_run_report(run: Run, out_dir: Path) -> None:
    """The report folder of one run held in memory: what `mnist_core.report.write_report` writes for its file."""
    from mnist_core.report import write_inputs
    from mnist_core.report.inputs import RunInput, check_reportable, machine_labels

    check_reportable(run)
    write_inputs([RunInput(run, machine_labels([run])[0])], out_dir, force=False)


class RunWriter:
    def __init__(self, config):
        self.config = config  # pytest's: its hooks make the JSON
        self.path: Path | None = None
        self.save_error: str | None = None  # why the run file could not be written, if it could not
        self.report_dir: Path | None = None
        self.report_error: str | None = None
        self.writing: tuple[bool, bool] | None = None  # (complete, interrupted) of the file being generated
        self._written: dict | None = None  # the last JSON written (or that could not be)
        self._run: Run | None = None
        self._saved_once = False
        self._finished = False
        self._lock = contextlib.ExitStack()  # the writer lock, held from the claim to the end of the session
        self._machine_info = None
        self._commit_info = None

    def claim(self, results_dir: Path, machine: str, started_at: datetime) -> None:
        """Claim the run file now, at the start: its own name, created exclusively, and the writer lock that
        tells `latest_run` the file is still being written."""
        try:
            self.path = claim_run_path(results_dir, machine, started_at)
            self._lock.enter_context(held_lock(writer_lock(self.path)))
        except OSError as exc:  # the folder was checked at start; it may still fail (disk full)
            self.save_error = f"{type(exc).__name__}: {exc.strerror or exc}"

    def save(self, complete: bool, interrupted: bool) -> None:
        """Rewrite the run file. A folder that stops being writable is reported once, at the end, not
        raised from every benchmark's teardown: pytest-benchmark's own outputs still get every result."""
        if self._finished or self.path is None:
            return
        self._written, self._run = self._run_json(complete, interrupted), None
        try:
            write_json_atomic(self.path, self._written)  # replaces this session's own file only
        except OSError as exc:  # disk full, folder removed or made read-only mid-sweep: retried after the next one
            self.save_error = f"{type(exc).__name__}: {exc.strerror or exc}"
        else:
            self.save_error = None
            self._saved_once = True

    def _run_json(self, complete: bool, interrupted: bool) -> dict:
        hook = self.config.hook
        benchmarks = finished_benchmarks(self.config)
        output = hook.pytest_benchmark_generate_json(config=self.config, benchmarks=benchmarks, include_data=True,
                                                     machine_info=self._machine(), commit_info=self._commit())
        self.writing = (complete, interrupted)
        try:
            hook.pytest_benchmark_update_json(config=self.config, benchmarks=benchmarks, output_json=output)
        finally:
            self.writing = None
        return output

    def _machine(self) -> dict:
        if self._machine_info is None:
            self._machine_info = self.config._benchmarksession.get_machine_info()
        return self._machine_info

    def _commit(self) -> dict:
        if self._commit_info is None:  # git is asked once per session, not after every benchmark
            self._commit_info = self.config.hook.pytest_benchmark_generate_commit_info(config=self.config)
        return self._commit_info

    def finish(self) -> None:
        """The session is done with its file: drop the writer lock; an empty claim (nothing measured) goes."""
        self._finished = True
        if self.path is None:
            return
        self._lock.close()
        try:
            writer_lock(self.path).unlink(missing_ok=True)
            if not self._saved_once and self.save_error is None:
                self.path.unlink(missing_ok=True)
                self.path = None
        except OSError:  # the folder itself is gone or unwritable: that is reported as save_error already
            pass

    def run(self) -> Run | None:
        """The run as written (or, when it could not be written, as it would have been), typed from memory;
        None before anything was written. RunFileError when it has nothing a run file may hold."""
        if self._run is None and self._written is not None:
            path = self.path or Path("unsaved-run.json")
            self._run = typed_run(path, check_run_data(path, json_copy(self._written)))
        return self._run

    def publish_report(self) -> None:
        """The report folder beside the saved run file (results/run-...-machine/), from the run in memory."""
        if self.path is None or self.save_error is not None:
            return
        out_dir = self.path.with_suffix("")
        try:
            write_run_report(self.run(), out_dir)
        except (MnistBenchError, OSError) as exc:  # the run is saved either way; `mnist-bench report` redoes it
            self.report_error = f"{type(exc).__name__}: {exc}"
        else:
            self.report_dir = out_dir
