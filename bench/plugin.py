"""The mnist-bench pytest plugin: its options, and the session object it registers.

Loaded through the package's `pytest11` entry point, so pytest knows the options before it reads the
command line: `--bench-profile quick` and `--bench-profile=quick` both work, from any folder. Values
are checked by `type=` parsers (a bad one is pytest's one-line usage error, exit code 4). The plugin
stays idle unless the benchmarks in bench/ are collected (e.g. `pytest tests` loads nothing): as an entry
point it loads into every pytest run in the environment, so torch and the measuring code are imported only
when a session of bench/ starts (pytest_configure).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mnist_core.errors import MnistBenchError
from mnist_core.measure import profiles
from mnist_core.runs.runfile import DEFAULT_RESULTS_DIR

from bench import BENCH_DIR, replay
from bench import settings as parse

if TYPE_CHECKING:
    from bench.session import BenchSession

SESSION_PLUGIN = "mnist-bench-session"
PROJECT_INI = BENCH_DIR.parent / "pyproject.toml"  # in a checkout or an editable install: testpaths = ["bench"]
PATH_OPTIONS = ("--data-root", "--results-dir")  # options whose values pytest may take for test paths


def pytest_addoption(parser):
    group = parser.getgroup("mnist-bench", "mnist-bench benchmark matrix")
    group.addoption("--bench-profile", type=parse.profile_name,
                    default=os.environ.get(profiles.ENV_VAR, profiles.DEFAULT_PROFILE),
                    help=f"matrix size: {' | '.join(profiles.PROFILES)} (env {profiles.ENV_VAR}; "
                         f"default: {profiles.DEFAULT_PROFILE})")
    group.addoption("--dataset", type=parse.dataset_name, default=None,
                    help="mnist | fashion-mnist | synthetic (default: MNIST, else an installed Fashion-MNIST, else "
                         "the synthetic set, with a note saying which ran and why)")
    group.addoption("--data-root", default=None,
                    help="folder with the four IDX files (default: ./data, then a download, then /usr/share/datasets)")
    group.addoption("--no-download", action="store_true", help="never try to download the dataset (default: off)")
    group.addoption("--devices", type=parse.device_list, default=None,
                    help="comma-separated devices to benchmark (default: the devices present; cuda rows given "
                         "without a GPU are listed as skipped)")
    group.addoption("--results-dir", default=DEFAULT_RESULTS_DIR,
                    help=f"where each session writes its run file and report (default: {DEFAULT_RESULTS_DIR})")
    group.addoption("--accuracy-target", type=parse.percentage, default=None,
                    help="validation accuracy (percent) for time-to-accuracy (default: mnist 95, fashion-mnist 84)")
    group.addoption("--torch-threads", type=parse.positive_int, default=None,
                    help="torch intra-op threads for every configuration (default: torch's own choice)")
    group.addoption("--no-report", action="store_true",
                    help="write only the run file, not the report next to it (default: off)")


def _collects_bench(args) -> bool:
    """Whether collecting `args` (paths or node ids) reaches the benchmarks in bench/."""
    for arg in args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == BENCH_DIR or BENCH_DIR in path.parents or path in BENCH_DIR.parents:
            return True
    return False


def pytest_load_initial_conftests(early_config, parser, args):
    """Refuse `--data-root /abs/path` where pytest, which picks its rootdir before it knows this plugin's
    options, took the value for a test path and so never read this project's pytest settings: it would
    collect tests/ instead of bench/ and measure nothing (pytest-dev/pytest#8846). `--data-root=/abs/path`
    works everywhere; so does the space form when bench/ is named or the path is inside the project."""
    namespace = early_config.known_args_namespace
    if (not PROJECT_INI.is_file() or early_config.inipath == PROJECT_INI or namespace.inifilename or namespace.rootdir
            or not _collects_bench(namespace.file_or_dir or [early_config.invocation_params.dir])):
        return
    for name, value in zip(args, args[1:]):
        if name in PATH_OPTIONS and Path(value).exists():
            raise pytest.UsageError(
                f"write {name}={value} (with '='): given as '{name} {value}', pytest took the path for a test path "
                f"when it chose its rootdir ({early_config.rootpath}) and did not read {PROJECT_INI} "
                "(pytest-dev/pytest#8846)")


def pytest_configure(config):
    if not _collects_bench(config.args):
        return  # e.g. `pytest tests`: the benchmark options are accepted but nothing is loaded
    from bench.session import BenchSession  # torch and the measuring code: only for a session of bench/

    try:
        settings = parse.BenchSettings.from_options(config.option)
    except MnistBenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    _replay_rounds_into_pytest_benchmark(config)
    session = BenchSession(config, settings)
    config.pluginmanager.register(session, SESSION_PLUGIN)
    _terminate_as_interrupt(session)


def bench_session(config) -> BenchSession:
    return config.pluginmanager.get_plugin(SESSION_PLUGIN)


def _replay_rounds_into_pytest_benchmark(config) -> None:
    """pytest-benchmark's timer becomes the replay clock (bench/replay.py) before pytest-benchmark reads it
    (its pytest_configure runs last). Another timer cannot apply: the rows time their own rounds."""
    chosen = config.getoption("benchmark_timer", None)
    if chosen not in (None, replay.PYTEST_BENCHMARK_DEFAULT_TIMER, replay.REPLAY_TIMER):
        raise pytest.UsageError(f"--benchmark-timer={chosen} cannot apply to bench/: mnist-bench times each round "
                                "itself (perf_counter, after a device sync) and replays it into pytest-benchmark; "
                                "drop --benchmark-timer")
    config.option.benchmark_timer = replay.REPLAY_TIMER


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter, config):
    """Above pytest-benchmark's tables: what their times are per."""
    session = bench_session(config)
    if session is not None and session.has_results():
        terminalreporter.write_line(f"mnist-bench: {replay.UNITS}")


def _terminate_as_interrupt(session: BenchSession):
    """SIGTERM ends the session like Ctrl-C, so the completed benchmarks are written out, marked interrupted.

    Either signal also stops the session after the running benchmark, even when the KeyboardInterrupt
    is lost on the way: `timeout` and a terminal's Ctrl-C signal the DataLoader workers too, and the
    "worker killed" error from closing the loader can replace the interrupt (seen on a GPU machine), or
    the signal can land where Python ignores exceptions (seen in logging's lock release). The session then
    still ends as interrupted (BenchSession.interrupt, and its exit status).
    """
    def handler(signum, frame):
        # First: once the workers die of the same signal, torch's SIGCHLD handler raises "worker killed"
        # wherever this process is (in here, or in pytest reporting the interrupt) and what it lands on is
        # lost. Mark the session, then stop hearing of the workers' deaths: the loader's own shutdown still
        # finds them.
        session.interrupt(f"interrupted by {signal.Signals(signum).name}")
        if hasattr(signal, "SIGCHLD"):
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C acts at once
        raise KeyboardInterrupt(f"signal {signum}")

    for name in ("SIGTERM", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)
