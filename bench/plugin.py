"""pytest wiring for the benchmark matrix: options, parameters, outcomes, the run file, the summary.

The measuring logic lives in mnist_core; this file only connects it to pytest and
pytest-benchmark.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from mnist_core.measure import profiles
from mnist_core.core.config import label_for
from mnist_core.core.data import DATASET_NAMES
from mnist_core.errors import ConfigError, MnistBenchError
from mnist_core.measure.nvml import NvmlGpu
from mnist_core.core.devices import cuda_available, cuda_context_seconds
from mnist_core.measure.hardware import machine_summary
from mnist_core.runs.runfile import SECTION

from bench.run_recorder import RunRecorder
from bench.session_settings import BenchSettings

SETTINGS_KEY = pytest.StashKey[BenchSettings]()
RECORDER_KEY = pytest.StashKey[RunRecorder]()

# fixture name -> function building that benchmark's configurations
MATRICES = {
    "train_spec": profiles.train_specs,
    "loader_spec": profiles.loader_specs,
    "accuracy_spec": profiles.accuracy_specs,
    "overhead_spec": profiles.overhead_specs,
}


def pytest_addoption(parser):
    group = parser.getgroup("mnist-bench", "mnist-bench benchmark matrix")
    group.addoption("--bench-profile", default=os.environ.get(profiles.ENV_VAR, profiles.DEFAULT_PROFILE),
                    help=f"matrix size: {' | '.join(profiles.PROFILES)} (env {profiles.ENV_VAR}; "
                         f"default: {profiles.DEFAULT_PROFILE})")
    group.addoption("--dataset", default=None,
                    help=f"{' | '.join(DATASET_NAMES)} (default: MNIST, else an installed Fashion-MNIST, else the "
                         "synthetic set, with a note saying which ran and why)")
    group.addoption("--data-root", default=None,
                    help="folder with the four IDX files (default: ./data, then a download, then /usr/share/datasets)")
    group.addoption("--no-download", action="store_true", help="never try to download the dataset (default: off)")
    group.addoption("--devices", default="cpu,cuda",
                    help="comma-separated devices to benchmark; cuda rows skip without a GPU (default: cpu,cuda)")
    group.addoption("--results-dir", default="results",
                    help="where each session writes its run file and report (default: results)")
    group.addoption("--accuracy-target", type=float, default=None,
                    help="validation accuracy (percent) for time-to-accuracy (default: mnist 95, fashion-mnist 84)")
    group.addoption("--torch-threads", type=int, default=None,
                    help="torch intra-op threads for every configuration (default: torch's own choice)")
    group.addoption("--no-report", action="store_true",
                    help="write only the run file, not the report next to it (default: off)")


def _collects_bench(config) -> bool:
    bench_dir = Path(__file__).resolve().parent
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == bench_dir or bench_dir in path.parents or path in bench_dir.parents:
            return True
    return False


def pytest_configure(config):
    if not _collects_bench(config):
        return  # e.g. `pytest tests`: the benchmark options are accepted but nothing is loaded
    try:
        settings = BenchSettings.from_options(config.option)
    except MnistBenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS_KEY] = settings
    recorder = RunRecorder(config, settings)
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(_InterruptWatcher(recorder), "mnist-bench-interrupts")
    _terminate_as_interrupt(recorder)


def _terminate_as_interrupt(recorder: RunRecorder):
    """SIGTERM ends the session like Ctrl-C, so the completed benchmarks are written out, marked interrupted.

    Either signal also stops the session after the running benchmark, even when the KeyboardInterrupt
    is lost on the way: `timeout` and a terminal's Ctrl-C signal the DataLoader workers too, and the
    "worker killed" error from closing the loader can replace the interrupt (seen on a GPU machine).
    """
    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C acts at once
        recorder.mark_interrupted()
        if recorder.session is not None:
            recorder.session.shouldstop = f"interrupted by {signal.Signals(signum).name}"
        raise KeyboardInterrupt(f"signal {signum}")

    for name in ("SIGTERM", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


def pytest_report_header(config):
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return None
    location = settings.data.location
    line = f"mnist-bench: dataset {location.name}"
    if location.path:
        line += f" from {location.path}"
    return f"{line} ({location.reason})" if location.reason else line


def pytest_sessionstart(session):
    recorder = session.config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.session = session
        recorder.claim()
        if "cuda" in recorder.settings.devices:
            # Before anything else touches CUDA: context creation is paid once, not by the first benchmark.
            recorder.cuda_init_s = cuda_context_seconds()


class _InterruptWatcher:
    """pytest_keyboard_interrupt has no config argument: this plugin object carries the recorder."""

    def __init__(self, recorder: RunRecorder):
        self.recorder = recorder

    def pytest_keyboard_interrupt(self, excinfo):
        # Ctrl-C, SIGTERM (above) or pytest.exit(): recorded now, before pytest-benchmark's
        # sessionfinish hookwrapper writes --benchmark-json / --benchmark-autosave.
        self.recorder.mark_interrupted()


def pytest_generate_tests(metafunc):
    settings = metafunc.config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return
    for fixture, matrix in MATRICES.items():
        if fixture in metafunc.fixturenames:
            specs = matrix(settings.profile, settings.devices, settings.dataset)
            no_target = fixture == "accuracy_spec" and settings.accuracy_target is None
            metafunc.parametrize(fixture, [_param({**spec, "torch_threads": settings.torch_threads},
                                                  skip=NO_ACCURACY_TARGET if no_target else None)
                                           for spec in specs])
    if "transfer_case" in metafunc.fixturenames:
        metafunc.parametrize("transfer_case", [_transfer_param(case, settings)
                                               for case in profiles.transfer_cases(settings.profile)])


NO_ACCURACY_TARGET = ("the synthetic set is not a learning task: time to accuracy needs MNIST or Fashion-MNIST "
                      "(--dataset, --data-root) or an --accuracy-target")


def _param(spec: dict, skip: str | None = None):
    try:
        config = profiles.build_config(spec)
    except ConfigError as exc:  # e.g. cuda on a CPU-only machine: a visible skip, with the reason
        return pytest.param(None, id=label_for(spec), marks=pytest.mark.skip(reason=str(exc)))
    marks = [pytest.mark.skip(reason=skip)] if skip else []
    return pytest.param(config, id=config.label(), marks=marks)


def _transfer_param(case: dict, settings: BenchSettings):
    label = profiles.transfer_label(case)
    if "cuda" not in settings.devices:
        return pytest.param(case, id=label, marks=pytest.mark.skip(reason="cuda not in --devices"))
    if not cuda_available():
        return pytest.param(case, id=label, marks=pytest.mark.skip(
            reason="host-to-device copies need a CUDA GPU; none is visible to torch"))
    return pytest.param(case, id=label)


@pytest.fixture(scope="session")
def bench_settings(pytestconfig) -> BenchSettings:
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def bench_data(bench_settings):
    return bench_settings.data


@pytest.fixture(scope="session")
def gpu(bench_settings):
    """NVML for the benchmarked GPU, or None; never fails a benchmark."""
    if "cuda" not in bench_settings.devices or not cuda_available():
        yield None
        return
    handle = NvmlGpu(0)
    yield handle
    handle.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    recorder = item.config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.record_report(item, call, outcome.get_result())


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    # After pytest-benchmark's fixture teardown has stored the stats: save what is complete so far.
    recorder = item.config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.save(complete=False)


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(machine_summary())


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """--benchmark-json and --benchmark-autosave files carry the mnist_bench section too."""
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is not None and SECTION not in output_json:
        complete, interrupted = recorder.final_state()  # pytest-benchmark saves at session end only
        output_json[SECTION] = recorder.section(complete=complete, interrupted=interrupted)


def pytest_sessionfinish(session, exitstatus):
    recorder = session.config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.finish()
        if recorder.save_error is not None and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the run file, the main output, is missing


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.print_summary(terminalreporter)
