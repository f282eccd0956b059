"""Collects the session's outcomes and keeps the run file on disk up to date.

The run file is rewritten atomically after every benchmark, so an interrupted or crashed
session still leaves every completed result, marked partial.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console

from mnist_core.measure.hardware import machine_summary
from mnist_core.runs.files import held_lock, write_json_atomic
from mnist_core.runs.runfile import FORMAT_VERSION, SECTION, claim_run_path, writer_lock
from mnist_core.report.summary import outcome_lines, summary_table

# parameter fixture -> the benchmark kind it feeds
PARAM_FIXTURES = {"train_spec": "train", "loader_spec": "loader", "accuracy_spec": "accuracy",
                  "overhead_spec": "overhead", "transfer_case": "transfer"}


def one_line_reason(excinfo) -> str:
    """The exception as one line; a DataLoader worker's failure keeps the worker's own message."""
    message = str(excinfo.value).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if lines and "DataLoader worker" in lines[0] and len(lines) > 1:
        return f"DataLoader worker failed: {lines[-1]}"
    return f"{excinfo.typename}: {lines[0] if lines else ''}".strip()


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


class RunRecorder:
    def __init__(self, config, settings):
        self.config = config
        self.settings = settings
        self.skipped: list[dict] = []
        self.failed: list[dict] = []
        self.path = None
        self.started_at = datetime.now(timezone.utc)
        self._machine_info = None
        self._commit_info = None
        self._finished = False
        self.report_dir = None
        self.report_error: str | None = None  # why the report could not be written, if it could not
        self.session = None  # set at pytest_sessionstart; its exitstatus is final by pytest_sessionfinish
        self.cuda_init_s: float | None = None  # set at pytest_sessionstart when cuda is benchmarked
        self.interrupted = False  # set the moment Ctrl-C or SIGTERM arrives, before any file is written
        self.save_error: str | None = None  # why the run file could not be written, if it could not
        self._last_run: dict | None = None
        self._saved_once = False
        self._lock = contextlib.ExitStack()  # the writer lock, held from the claim to the end of the session

    def claim(self) -> None:
        """Claim this session's run file now, at the start: its own name, created exclusively, and the
        writer lock that tells `latest_run` the file is still being written."""
        try:
            machine = machine_summary()
            self.path = claim_run_path(self.settings.results_dir, machine.get("gpu_name") or machine["cpu_model"],
                                       self.started_at)
            self._lock.enter_context(held_lock(writer_lock(self.path)))
        except OSError as exc:  # the folder was checked at start; it may still fail (disk full)
            self.save_error = f"{type(exc).__name__}: {exc.strerror or exc}"

    # session state ----------------------------------------------------------------------
    def mark_interrupted(self) -> None:
        self.interrupted = True

    def final_state(self) -> tuple[bool, bool]:
        """(complete, interrupted) for files written at session end, pytest-benchmark's included."""
        session = self.session
        exitstatus = getattr(session, "exitstatus", pytest.ExitCode.OK)
        interrupted = self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
        stopped_early = bool(getattr(session, "shouldfail", False) or getattr(session, "shouldstop", False))  # -x
        complete = not (interrupted or stopped_early or exitstatus == pytest.ExitCode.INTERNAL_ERROR)
        return complete, interrupted

    # outcomes ---------------------------------------------------------------------------
    def record_report(self, item, call, report) -> None:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        fixture = next((name for name in PARAM_FIXTURES if name in params), None)
        config = params.get(fixture)
        entry = {
            "id": f"{PARAM_FIXTURES.get(fixture, item.originalname)}/{callspec.id if callspec else item.name}",
            "nodeid": item.nodeid,
            "kind": PARAM_FIXTURES.get(fixture),
            "config": config.asdict() if hasattr(config, "asdict") else config,
        }
        if report.skipped and report.when in ("setup", "call"):
            self.skipped.append({**entry, "reason": _skip_reason(report)})
        elif report.failed and call.excinfo is not None:
            self.failed.append({**entry, "when": report.when, "reason": one_line_reason(call.excinfo)})

    # the run file -----------------------------------------------------------------------
    def _machine(self) -> dict:
        if self._machine_info is None:
            self._machine_info = self.config._benchmarksession.get_machine_info()
        return self._machine_info

    def _commit(self) -> dict:
        if self._commit_info is None:  # git is asked once per session, not after every benchmark
            self._commit_info = self.config.hook.pytest_benchmark_generate_commit_info(config=self.config)
        return self._commit_info

    def section(self, complete: bool, interrupted: bool) -> dict:
        data = self.settings.data
        return {
            "format_version": FORMAT_VERSION,
            "profile": self.settings.profile.name,
            "devices": list(self.settings.devices),
            "dataset": {**data.location.asdict(), "train_size": data.sizes["train"], "test_size": data.sizes["test"]},
            "accuracy_target": self.settings.accuracy_target,
            "started_at": self.started_at.isoformat(),
            "cuda_init_s": self.cuda_init_s,  # CUDA context creation, once per session; null without a GPU
            "complete": complete,
            "interrupted": interrupted,
            "skipped": self.skipped,
            "failed": self.failed,
            "command": " ".join(sys.argv),
            # DataLoader workers (or any child process) still alive when this was written.
            "child_processes_alive": len(multiprocessing.active_children()),
        }

    def run_json(self, complete: bool, interrupted: bool) -> dict:
        hook = self.config.hook
        output = hook.pytest_benchmark_generate_json(
            config=self.config, benchmarks=self._finished_benchmarks(), include_data=True,
            machine_info=self._machine(), commit_info=self._commit(),
        )
        output[SECTION] = self.section(complete, interrupted)
        return output

    def _finished_benchmarks(self) -> list:
        """Benchmarks that stored their row; one cut off by an interrupt has stats but no row."""
        session = self.config._benchmarksession
        return [bench for bench in session.benchmarks if not bench.has_error and bench.extra_info.get("kind")]

    def _has_results(self) -> bool:
        session = getattr(self.config, "_benchmarksession", None)
        if session is None or session.disabled:
            return False
        return bool(self._finished_benchmarks() or self.failed)

    def save(self, complete: bool = False, interrupted: bool | None = None) -> None:
        """Rewrite the run file. A folder that stops being writable is reported once, at the end, not
        raised from every benchmark's teardown: pytest-benchmark's own outputs still get every result."""
        if self._finished or not self._has_results():
            return
        if interrupted is None:
            interrupted = self.interrupted
        if self.path is None:
            self.claim()
            if self.path is None:
                return
        self._last_run = self.run_json(complete, interrupted)
        try:
            write_json_atomic(self.path, self._last_run)  # replaces this session's own file only
        except OSError as exc:  # disk full, folder removed or made read-only mid-sweep: retried after the next one
            self.save_error = f"{type(exc).__name__}: {exc.strerror or exc}"
        else:
            self.save_error = None
            self._saved_once = True

    def finish(self) -> None:
        complete, interrupted = self.final_state()
        self.save(complete=complete, interrupted=interrupted)
        self._finished = True
        self._release()
        if self.path is not None and self.save_error is None and self.settings.write_report:
            self.report_dir = self._write_report()

    def _release(self) -> None:
        """The session is done with its file: drop the writer lock; an empty claim (nothing measured) goes."""
        if self.path is None:
            return
        self._lock.close()
        try:
            writer_lock(self.path).unlink(missing_ok=True)
            if not self._saved_once and self.save_error is None:
                Path(self.path).unlink(missing_ok=True)
                self.path = None
        except OSError:  # the folder itself is gone or unwritable: that is reported as save_error already
            pass

    def _write_report(self):
        try:
            from mnist_core.report import write_report
        except ImportError:
            return None
        out_dir = self.path.with_suffix("")  # results/run-...-machine/ beside results/run-...-machine.json
        try:
            write_report([self.path], out_dir)
        except Exception as exc:  # the run is saved either way; the report can be redone with `mnist-bench report`
            self.report_error = f"{type(exc).__name__}: {exc}"
            return None
        return out_dir

    # terminal ---------------------------------------------------------------------------
    def print_summary(self, terminalreporter) -> None:
        if self.path is None:
            return
        from mnist_core.runs.runfile import load_run

        if self.save_error is None:
            run = load_run(self.path)
        else:  # the summary of what was measured, from memory
            run = json.loads(json.dumps(self._last_run, default=str))
        terminalreporter.ensure_newline()
        console = Console(file=sys.stdout, width=max(terminalreporter._tw.fullwidth, 140))
        console.print(summary_table(run))
        for line in outcome_lines(run):
            console.print(line, markup=False, highlight=False)
        section = run[SECTION]
        if section["complete"]:
            state = "complete"
        else:
            state = "PARTIAL (interrupted)" if section["interrupted"] else "PARTIAL (stopped early)"
        if self.save_error is not None:
            console.print(f"mnist-bench run ({state}) NOT saved: cannot write {self.path}: {self.save_error}; "
                          "the results are in the tables above and in any --benchmark-json/--benchmark-autosave "
                          "file",
                          markup=False, highlight=False, soft_wrap=True)  # one line: the path stays whole
            return
        console.print(f"mnist-bench run ({state}) saved to {self.path}", markup=False, highlight=False, soft_wrap=True)
        if self.report_dir is not None:
            console.print(f"mnist-bench report written to {self.report_dir}", markup=False, highlight=False)
        elif self.report_error:
            console.print(f"mnist-bench report not written: {self.report_error}", markup=False, highlight=False)
