"""The benchmark session, registered as a pytest plugin: its hooks, each handing the work to one part.

  * bench/matrix.py: the parameters (the profile's matrices, the rows that cannot run here skipped);
  * bench/yardsticks.py: each device's yardstick and the workload each row times;
  * bench/budget.py: the profile's time budget, shared by the rows;
  * bench/outcomes.py: the skips and failures with their reasons, how the session ended;
  * bench/run_writer.py: the run file (claimed at the start, rewritten after every benchmark) and the report.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone

import pytest
import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.devices import cuda_context_seconds
from mnist_core.errors import MnistBenchError
from mnist_core.measure.hardware import machine_summary
from mnist_core.measure.launches import replayed_kernel_us
from mnist_core.measure.machine_state import StateProbe
from mnist_core.measure.rounds import Pairing
from mnist_core.runs.sections import SECTION, MachineInfo, Outcome

from bench import matrix, outcomes
from bench.budget import TimeBudget
from bench.run_writer import RunWriter, finished_benchmarks, mnist_bench_section
from bench.settings import BenchSettings
from bench.yardsticks import Yardsticks

# pytest-benchmark's table, narrowed by default to what this suite's rows are about
COLUMNS = ["median", "iqr", "rounds"]
PYTEST_BENCHMARK_COLUMNS = ["min", "max", "mean", "stddev", "median", "iqr", "outliers", "ops", "rounds", "iterations"]


class BenchSession:
    def __init__(self, config, settings: BenchSettings):
        self.config = config
        self.settings = settings
        self.started_at = datetime.now(timezone.utc)
        self.clock_start = time.perf_counter()
        self.session = None  # set at pytest_sessionstart; its exitstatus is final by pytest_sessionfinish
        self.cuda_init_s: float | None = None
        self.interrupted = False  # set the moment Ctrl-C or SIGTERM arrives, before any file is written
        self.selected = 0  # benchmarks of bench/ left to run after -k/-m deselection
        self.measured_nothing: str | None = None  # why a --benchmark-only session measured nothing, if it did
        self.state_probe = StateProbe()  # read before every round: the machine's fast or slow state
        self.yardsticks = Yardsticks(settings, self.clock_start)
        self.budget = TimeBudget(settings.profile)
        self.outcomes = outcomes.Outcomes()
        self.writer = RunWriter(config)

    # -- pytest hooks ---------------------------------------------------------------------------
    def pytest_report_header(self, config):
        location = self.settings.data.location
        line = f"mnist-bench: {self.settings.profile.name} profile, devices {','.join(self.settings.devices)}, " \
               f"dataset {location.name}" + (f" from {location.path}" if location.path else "")
        lines = [line]
        if location.reason and location.substituted:
            lines.append(f"mnist-bench: note: {location.reason}")
        if self.settings.devices_note:
            lines.append(f"mnist-bench: note: {self.settings.devices_note}")
        return lines

    def pytest_sessionstart(self, session):
        self.session = session
        benchmarks = getattr(self.config, "_benchmarksession", None)  # pytest-benchmark's, configured by now
        if benchmarks is not None and list(benchmarks.columns) == PYTEST_BENCHMARK_COLUMNS:
            benchmarks.columns = COLUMNS  # narrowed to what these rows are about; --benchmark-columns wins
        machine = MachineInfo.from_json(machine_summary())
        self.writer.claim(self.settings.results_dir, machine.gpu_name or machine.cpu_model, self.started_at)
        if "cuda" in self.settings.devices:
            # Before anything else touches CUDA: context creation is paid once, not by the first benchmark.
            self.cuda_init_s = cuda_context_seconds()

    def pytest_generate_tests(self, metafunc):
        matrix.parametrize(metafunc, self.settings)

    def pytest_collection_finish(self, session):
        self.budget.count_rows(session.items)
        self.selected = outcomes.selected_benchmarks(session.items)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if self.outcomes.record(item, call, outcome.get_result()):
            self.interrupt("a DataLoader worker was killed by the signal meant for the session")

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        # After pytest-benchmark's fixture teardown has stored the stats: save what is complete so far.
        self.save(complete=False, interrupted=self.interrupted)

    def pytest_keyboard_interrupt(self, excinfo):
        # Ctrl-C, SIGTERM or pytest.exit(): recorded now, before pytest-benchmark's
        # sessionfinish hookwrapper writes --benchmark-json / --benchmark-autosave.
        self.interrupted = True

    def pytest_benchmark_update_machine_info(self, config, machine_info):
        machine_info.update(machine_summary())

    def pytest_benchmark_update_json(self, config, benchmarks, output_json):
        """--benchmark-json, --benchmark-autosave and the run file all carry the mnist_bench section."""
        complete, interrupted = self.writer.writing or self.final_state()
        output_json[SECTION] = mnist_bench_section(
            self.settings, started_at=self.started_at, wall_s=time.perf_counter() - self.clock_start,
            cuda_init_s=self.cuda_init_s, yardsticks=self.yardsticks, outcomes=self.outcomes, complete=complete,
            interrupted=interrupted)

    def pytest_sessionfinish(self, session, exitstatus):
        self.save(*self.final_state())
        self.writer.finish()
        if self.settings.write_report:
            self.writer.publish_report()
        self.yardsticks.close()
        self._set_exit_status(session, exitstatus)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        from bench.summary import print_summary  # the last thing printed: after pytest-benchmark's tables

        print_summary(self, terminalreporter)

    # -- the session's state ----------------------------------------------------------------------
    def interrupt(self, reason: str) -> None:
        """Stop after the running benchmark and mark the run interrupted: Ctrl-C, SIGTERM, or a DataLoader
        worker killed by the signal meant for the whole process group."""
        self.interrupted = True
        if self.session is not None:
            self.session.shouldstop = reason

    def final_state(self) -> tuple[bool, bool]:
        """(complete, interrupted) for files written at session end, pytest-benchmark's included."""
        return outcomes.final_state(self.session, self.interrupted)

    def has_results(self) -> bool:
        session = getattr(self.config, "_benchmarksession", None)
        if session is None or session.disabled:
            return False
        return bool(finished_benchmarks(self.config) or self.outcomes.failed)

    def save(self, complete: bool, interrupted: bool) -> None:
        if self.has_results():
            self.writer.save(complete, interrupted)

    def _set_exit_status(self, session, exitstatus) -> None:
        if self.writer.save_error is not None and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the run file, the main output, is missing
        elif self.interrupted:
            session.exitstatus = pytest.ExitCode.INTERRUPTED  # also when the KeyboardInterrupt itself was lost
        elif exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and self.config.getoption("benchmark_only") \
                and not self.config.getoption("collectonly") and not finished_benchmarks(self.config):
            self.measured_nothing = outcomes.why_nothing_was_measured(self.selected)
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED  # the main job must not end green empty-handed

    # -- what the benchmarks use (bench/timing.py, the bench_*.py tests) -----------------------------
    def workload_for(self, kind: str, config: BenchConfig):
        return self.yardsticks.workload_for(kind, config)

    def is_yardstick(self, kind: str, config: BenchConfig) -> bool:
        return self.yardsticks.is_yardstick(kind, config)

    def pairing_for(self, config: BenchConfig, kind: str) -> Pairing | None:
        return self.yardsticks.pairing_for(config, kind)

    def row_budget(self):
        return self.budget.row()

    @functools.cached_property
    def replayed_kernel_us(self) -> float | None:
        """The cost of one replayed CUDA graph kernel on this GPU, measured once per session."""
        return replayed_kernel_us(torch.device("cuda"))

    # -- what the terminal summary reads (bench/summary.py) -------------------------------------------
    @property
    def path(self):
        return self.writer.path

    @property
    def save_error(self) -> str | None:
        return self.writer.save_error

    @property
    def report_dir(self):
        return self.writer.report_dir

    @property
    def report_error(self) -> str | None:
        return self.writer.report_error

    @property
    def skipped(self) -> list[Outcome]:
        return self.outcomes.skipped

    @property
    def failed(self) -> list[Outcome]:
        return self.outcomes.failed

    def saved_run(self):
        """The run as saved (or as it would have been, when it could not be), from memory; None when none
        was written or it holds nothing a run may hold (the report then says why)."""
        try:
            return self.writer.run()
        except MnistBenchError:
            return None
