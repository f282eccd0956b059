"""The benchmark session, registered as a pytest plugin: the matrix, the yardsticks, the budget, the run file.

One object carries the session's state and implements the hooks that need it. The run file is written
through pytest-benchmark's own generate/update JSON hooks (a user's conftest changes reach it as they
reach --benchmark-json), claimed under its own name at the start and rewritten atomically after every
benchmark, so an interrupted or crashed session still leaves every completed result, marked partial.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import torch

from mnist_core.core.config import BenchConfig, tutorial
from mnist_core.core.devices import cuda_available, cuda_context_seconds
from mnist_core.errors import MnistBenchError
from mnist_core.measure import profiles
from mnist_core.measure.hardware import machine_summary
from mnist_core.measure.launches import replayed_kernel_us
from mnist_core.measure.machine_state import StateProbe
from mnist_core.measure.measurement import drift_pct
from mnist_core.measure.rounds import Pairing, Timed
from mnist_core.measure.workload import Workload, build_workload
from mnist_core.runs.files import held_lock, write_json_atomic
from mnist_core.runs.runfile import (FORMAT_VERSION, SECTION, check_run_data, claim_run_path, read_run, typed_run,
                                     writer_lock)

from bench import BENCH_DIR
from bench.settings import BenchSettings
from bench.timing import timed

# parameter fixture -> (the benchmark kind it feeds, the matrix that makes its configurations)
MATRICES = {
    "train_spec": ("train", profiles.train_specs),
    "loader_spec": ("loader", profiles.loader_specs),
    "accuracy_spec": ("accuracy", profiles.accuracy_specs),
    "overhead_spec": ("overhead", profiles.overhead_specs),
}
PARAM_KINDS = {**{fixture: kind for fixture, (kind, _) in MATRICES.items()}, "transfer_case": "transfer"}
BUDGETED = ("train_spec", "loader_spec", "overhead_spec", "transfer_case")  # rows whose rounds share the budget
# torch's error for a DataLoader worker that died of SIGTERM or SIGINT: the signal meant for the whole process
# group (`timeout`, a terminal's Ctrl-C) reached the workers, whatever became of it in this process.
WORKER_SIGNALLED = re.compile(r"DataLoader worker \(pid \d+\) is killed by signal: (Terminated|Interrupt)")
# pytest-benchmark's table, narrowed by default to what this suite's rows are about
COLUMNS = ["median", "iqr", "rounds"]
PYTEST_BENCHMARK_COLUMNS = ["min", "max", "mean", "stddev", "median", "iqr", "outliers", "ops", "rounds", "iterations"]
NO_ACCURACY_TARGET = ("the synthetic set is not a learning task: time to accuracy needs MNIST or Fashion-MNIST "
                      "(--dataset, --data-root) or an --accuracy-target")


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


class Yardstick:
    """The tutorial's setting on one device, built once and kept running: every row on that device takes
    its rounds in pairs with one of this workload's rounds (see measure/rounds.py)."""

    def __init__(self, workload: Workload, gpu):
        self.workload = workload
        self.gpu = gpu
        self.name = f"train/{workload.config.label()}"
        self.series: list[tuple[float, float]] = []  # (seconds into the session, samples/s) of every round

    def round(self, session_start: float) -> Timed:
        result = timed(self.workload, self.gpu)
        self.series.append((time.perf_counter() - session_start, result.rate))
        return result


class BenchSession:
    def __init__(self, config, settings: BenchSettings):
        self.config = config
        self.settings = settings
        self.skipped: list[dict] = []
        self.failed: list[dict] = []
        self.path: Path | None = None
        self.started_at = datetime.now(timezone.utc)
        self.clock_start = time.perf_counter()
        self.session = None  # set at pytest_sessionstart; its exitstatus is final by pytest_sessionfinish
        self.cuda_init_s: float | None = None
        self.interrupted = False  # set the moment Ctrl-C or SIGTERM arrives, before any file is written
        self.save_error: str | None = None  # why the run file could not be written, if it could not
        self.report_dir: Path | None = None
        self.report_error: str | None = None
        self._machine_info = None
        self._commit_info = None
        self._finished = False
        self._saved_once = False
        self._writing: tuple[bool, bool] | None = None  # (complete, interrupted) of the file being generated
        self._last_run: dict | None = None
        self._lock = contextlib.ExitStack()  # the writer lock, held from the claim to the end of the session
        self.rows_left = 0
        self.budget_spent_s = 0.0
        self.gpu = None  # set by the gpu fixture: the NVML handle throttling is read from
        self._yardsticks: dict[str, Yardstick] = {}
        self._yardstick_errors: dict[str, str] = {}
        self.state_probe = StateProbe()  # read before every round: the machine's fast or slow state
        self.selected = 0  # benchmarks of bench/ left to run after -k/-m deselection
        self.measured_nothing: str | None = None  # why a --benchmark-only session measured nothing, if it did

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
        self.claim()
        if "cuda" in self.settings.devices:
            # Before anything else touches CUDA: context creation is paid once, not by the first benchmark.
            self.cuda_init_s = cuda_context_seconds()

    def pytest_generate_tests(self, metafunc):
        settings = self.settings
        for fixture, (kind, matrix) in MATRICES.items():
            if fixture in metafunc.fixturenames:
                specs = matrix(settings.profile, settings.devices, settings.dataset)
                no_target = kind == "accuracy" and settings.accuracy_target is None
                metafunc.parametrize(fixture, [
                    pytest.param(param.config, id=param.id, marks=_skip(param.skip or (NO_ACCURACY_TARGET if no_target
                                                                                      else None)))
                    for param in profiles.params(specs, settings.profile, torch_threads=settings.torch_threads)])
        if "transfer_case" in metafunc.fixturenames:
            metafunc.parametrize("transfer_case", [
                pytest.param(case, id=profiles.transfer_label(case), marks=_skip(self._transfer_skip()))
                for case in profiles.transfer_cases(settings.profile)])

    def pytest_collection_finish(self, session):
        """The rows that will share the time budget: what runs after -k and the skips."""
        self.rows_left = sum(1 for item in session.items if _budgeted(item))
        self.selected = sum(1 for item in session.items if BENCH_DIR in Path(item.path).parents)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        self.record_report(item, call, outcome.get_result())

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        # After pytest-benchmark's fixture teardown has stored the stats: save what is complete so far.
        self.save()

    def interrupt(self, reason: str) -> None:
        """Stop after the running benchmark and mark the run interrupted: Ctrl-C, SIGTERM, or a DataLoader
        worker killed by the signal meant for the whole process group."""
        self.interrupted = True
        if self.session is not None:
            self.session.shouldstop = reason

    def pytest_keyboard_interrupt(self, excinfo):
        # Ctrl-C, SIGTERM or pytest.exit(): recorded now, before pytest-benchmark's
        # sessionfinish hookwrapper writes --benchmark-json / --benchmark-autosave.
        self.interrupted = True

    def pytest_benchmark_update_machine_info(self, config, machine_info):
        machine_info.update(machine_summary())

    def pytest_benchmark_update_json(self, config, benchmarks, output_json):
        """--benchmark-json, --benchmark-autosave and the run file all carry the mnist_bench section."""
        complete, interrupted = self._writing or self.final_state()
        output_json[SECTION] = self.section(complete=complete, interrupted=interrupted)

    def pytest_sessionfinish(self, session, exitstatus):
        self.finish()
        for yardstick in self._yardsticks.values():
            with contextlib.suppress(Exception):
                yardstick.workload.close()
        if self.save_error is not None and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the run file, the main output, is missing
        elif self.interrupted:
            session.exitstatus = pytest.ExitCode.INTERRUPTED  # also when the KeyboardInterrupt itself was lost
        elif exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and self.config.getoption("benchmark_only") \
                and not self.config.getoption("collectonly") and not self._finished_benchmarks():
            self.measured_nothing = self._why_nothing_was_measured()
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED  # the main job must not end green empty-handed

    def _why_nothing_was_measured(self) -> str:
        if not self.selected:
            return (f"mnist-bench: --benchmark-only measured nothing: no benchmark of {BENCH_DIR} was selected "
                    f"(pytest collected other files, or -k/-m left none); run `pytest {BENCH_DIR} --benchmark-only`")
        return (f"mnist-bench: --benchmark-only measured nothing: all {self.selected} selected benchmarks were "
                "skipped (skips above); select rows that can run on this machine")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        from bench.summary import print_summary  # the last thing printed: after pytest-benchmark's tables

        print_summary(self, terminalreporter)

    # -- measuring support ------------------------------------------------------------------------
    def yardstick(self, device: str) -> Yardstick | None:
        """The device's yardstick, built on first use; None when it cannot run (rows then go unpaired)."""
        if device in self._yardstick_errors:
            return None
        if device not in self._yardsticks:
            config = tutorial(device, self.settings.dataset, samples_per_round=self.settings.profile.samples_per_round,
                              torch_threads=self.settings.torch_threads)
            try:
                workload = build_workload("train", config, self.settings.data)
                workload.warmup(self.settings.profile.warmup_rounds)
                workload.fit_rounds(*self.settings.profile.round_s)
            except Exception as exc:  # e.g. DataLoader workers that cannot start here: recorded, rows unpaired
                self._yardstick_errors[device] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                raise
            self._yardsticks[device] = Yardstick(workload, self.gpu if device == "cuda" else None)
        return self._yardsticks[device]

    def is_yardstick(self, kind: str, config: BenchConfig) -> bool:
        return kind == "train" and config.reference and config.torch_threads == self.settings.torch_threads \
            and config.samples_per_round == self.settings.profile.samples_per_round

    @contextlib.contextmanager
    def workload_for(self, kind: str, config: BenchConfig):
        """The workload a row times: the yardstick itself for the tutorial's setting (kept open), else a new one."""
        yardstick = self.yardstick(config.device) if self.is_yardstick(kind, config) else None
        if yardstick is not None:
            yield yardstick.workload
            return
        # A yardstick that failed to build is built again here: the row then fails with its real reason.
        with build_workload(kind, config, self.settings.data) as workload:
            yield workload

    def pairing_for(self, config: BenchConfig, kind: str) -> Pairing | None:
        """What a row's rounds are paired with: its device's yardstick; the tutorial's setting on the GPU is
        paired with the CPU's (the GPU-vs-CPU answer); the CPU's own tutorial row with nothing."""
        device = config.device
        if self.is_yardstick(kind, config):
            if device != "cuda" or "cpu" not in self.settings.devices:
                return None
            device = "cpu"
        try:
            yardstick = self.yardstick(device)
        except Exception:  # noqa: BLE001  recorded in _yardstick_errors; this row runs unpaired
            return None
        if yardstick is None:
            return None
        return Pairing.of(yardstick.name, lambda: yardstick.round(self.clock_start))

    @contextlib.contextmanager
    def row_budget(self):
        """The next row's round policy (its share of the profile's time budget); its time is counted."""
        profile = self.settings.profile
        policy = profile.row_policy(profile.budget_s - self.budget_spent_s, self.rows_left)
        start = time.perf_counter()
        try:
            yield policy
        finally:
            self.budget_spent_s += time.perf_counter() - start
            self.rows_left = max(0, self.rows_left - 1)

    @functools.cached_property
    def replayed_kernel_us(self) -> float | None:
        """The cost of one replayed CUDA graph kernel on this GPU, measured once per session."""
        return replayed_kernel_us(torch.device("cuda"))

    def _transfer_skip(self) -> str | None:
        if "cuda" not in self.settings.devices:
            return "cuda not in --devices"
        if not cuda_available():
            return "host-to-device copies need a CUDA GPU; none is visible to torch"
        return None

    # -- outcomes -------------------------------------------------------------------------------
    def final_state(self) -> tuple[bool, bool]:
        """(complete, interrupted) for files written at session end, pytest-benchmark's included."""
        session = self.session
        exitstatus = getattr(session, "exitstatus", pytest.ExitCode.OK)
        interrupted = self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
        stopped_early = bool(getattr(session, "shouldfail", False) or getattr(session, "shouldstop", False))  # -x
        complete = not (interrupted or stopped_early or exitstatus == pytest.ExitCode.INTERNAL_ERROR)
        return complete, interrupted

    def record_report(self, item, call, report) -> None:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        fixture = next((name for name in PARAM_KINDS if name in params), None)
        config = params.get(fixture)
        entry = {
            "id": f"{PARAM_KINDS.get(fixture, item.originalname)}/{callspec.id if callspec else item.name}",
            "nodeid": item.nodeid,
            "kind": PARAM_KINDS.get(fixture),
            "config": config.asdict() if hasattr(config, "asdict") else config,
        }
        if report.skipped and report.when in ("setup", "call"):
            self.skipped.append({**entry, "reason": _skip_reason(report)})
        elif report.failed and call.excinfo is not None:
            self.failed.append({**entry, "when": report.when, "reason": one_line_reason(call.excinfo)})
            if WORKER_SIGNALLED.search(str(call.excinfo.value)):
                self.interrupt("a DataLoader worker was killed by the signal meant for the session")

    # -- the run file ---------------------------------------------------------------------------
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

    def _machine(self) -> dict:
        if self._machine_info is None:
            self._machine_info = self.config._benchmarksession.get_machine_info()
        return self._machine_info

    def _commit(self) -> dict:
        if self._commit_info is None:  # git is asked once per session, not after every benchmark
            self._commit_info = self.config.hook.pytest_benchmark_generate_commit_info(config=self.config)
        return self._commit_info

    def drift(self) -> dict:
        """How much each device's yardstick (the tutorial's setting) varied over the session."""
        out = {}
        for device, yardstick in self._yardsticks.items():
            rates = [rate for _, rate in yardstick.series]
            out[device] = {"yardstick": yardstick.name, "rounds": len(rates), "spread_pct": drift_pct(rates),
                           "series": [[round(t, 3), rate] for t, rate in yardstick.series]}
        for device, error in self._yardstick_errors.items():
            out[device] = {"yardstick": None, "rounds": 0, "spread_pct": None, "series": [], "error": error}
        return out

    def section(self, complete: bool, interrupted: bool) -> dict:
        data = self.settings.data
        return {
            "format_version": FORMAT_VERSION,
            "profile": self.settings.profile.name,
            "devices": list(self.settings.devices),
            "devices_note": self.settings.devices_note,
            "dataset": {**data.location.asdict(), "train_size": data.sizes["train"], "test_size": data.sizes["test"]},
            "accuracy_target": self.settings.accuracy_target,
            "started_at": self.started_at.isoformat(),
            "wall_s": round(time.perf_counter() - self.clock_start, 1),
            "budget_s": self.settings.profile.budget_s,
            "cuda_init_s": self.cuda_init_s,  # CUDA context creation, once per session; null without a GPU
            "drift": self.drift(),
            "complete": complete,
            "interrupted": interrupted,
            "skipped": self.skipped,
            "failed": self.failed,
            "command": " ".join(sys.argv),
            # DataLoader workers (or any child process) still alive besides the yardsticks' own.
            "child_processes_alive": max(0, len(multiprocessing.active_children()) - self._yardstick_workers()),
        }

    def _yardstick_workers(self) -> int:
        return sum(yardstick.workload.config.num_workers for yardstick in self._yardsticks.values()
                   if yardstick.workload.closers)

    def run_json(self, complete: bool, interrupted: bool) -> dict:
        hook = self.config.hook
        benchmarks = self._finished_benchmarks()
        output = hook.pytest_benchmark_generate_json(config=self.config, benchmarks=benchmarks, include_data=True,
                                                     machine_info=self._machine(), commit_info=self._commit())
        self._writing = (complete, interrupted)
        try:
            hook.pytest_benchmark_update_json(config=self.config, benchmarks=benchmarks, output_json=output)
        finally:
            self._writing = None
        return output

    def _finished_benchmarks(self) -> list:
        """Benchmarks that stored their row; one cut off by an interrupt has stats but no row."""
        session = self.config._benchmarksession
        return [bench for bench in session.benchmarks if not bench.has_error and bench.extra_info.get("kind")]

    def has_results(self) -> bool:
        session = getattr(self.config, "_benchmarksession", None)
        if session is None or session.disabled:
            return False
        return bool(self._finished_benchmarks() or self.failed)

    def save(self, complete: bool = False, interrupted: bool | None = None) -> None:
        """Rewrite the run file. A folder that stops being writable is reported once, at the end, not
        raised from every benchmark's teardown: pytest-benchmark's own outputs still get every result."""
        if self._finished or not self.has_results() or self.path is None:
            return
        self._last_run = self.run_json(complete, self.interrupted if interrupted is None else interrupted)
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
                self.path.unlink(missing_ok=True)
                self.path = None
        except OSError:  # the folder itself is gone or unwritable: that is reported as save_error already
            pass

    def _write_report(self) -> Path | None:
        from mnist_core.report import write_report

        out_dir = self.path.with_suffix("")  # results/run-...-machine/ beside results/run-...-machine.json
        try:
            write_report([self.path], out_dir)
        except (MnistBenchError, OSError) as exc:  # the run is saved either way; `mnist-bench report` redoes it
            self.report_error = f"{type(exc).__name__}: {exc}"
            return None
        return out_dir

    def saved_run(self):
        """The run as saved, or, when it could not be saved, as it would have been (from memory)."""
        if self.save_error is None and self.path is not None:
            return read_run(self.path)
        if self._last_run is None:
            return None
        data = json.loads(json.dumps(self._last_run, default=str))
        return typed_run(self.path or Path("unsaved-run.json"), check_run_data(self.path, data))


def _budgeted(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (callspec is not None and any(name in callspec.params for name in BUDGETED)
            and item.get_closest_marker("skip") is None)


def _skip(reason: str | None) -> list:
    return [pytest.mark.skip(reason=reason)] if reason else []
