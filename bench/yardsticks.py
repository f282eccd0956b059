"""The yardsticks: per device, the tutorial's setting built once and kept running, so every row on that device
takes its rounds in pairs with one of its rounds (see measure/rounds.py), and the workload each row times."""

from __future__ import annotations

import contextlib
import time

from mnist_core.core.config import BenchConfig, tutorial
from mnist_core.measure.rounds import Pairing, Timed
from mnist_core.measure.workload import Workload, build_workload
from mnist_core.runs.row_ids import row_id
from mnist_core.runs.sections import YardstickRecord

from bench.settings import BenchSettings
from bench.timing import timed


class Yardstick:
    """The tutorial's setting on one device, built once and kept running: every row on that device takes
    its rounds in pairs with one of this workload's rounds (see measure/rounds.py)."""

    def __init__(self, workload: Workload, gpu):
        self.workload = workload
        self.gpu = gpu
        self.name = row_id("train", workload.config.label())
        self.series: list[tuple[float, float]] = []  # (seconds into the session, samples/s) of every round

    def round(self, session_start: float) -> Timed:
        result = timed(self.workload, self.gpu)
        self.series.append((time.perf_counter() - session_start, result.rate))
        return result


class Yardsticks:
    """The session's yardsticks by device, each built on first use; a device whose yardstick cannot be built
    keeps the reason, and its rows run unpaired."""

    def __init__(self, settings: BenchSettings, session_start: float):
        self.settings = settings
        self.session_start = session_start  # perf_counter at the session's start: the series' zero
        self.gpu = None  # set by the gpu fixture: the NVML handle the CUDA yardstick's slowdowns are read from
        self._built: dict[str, Yardstick] = {}
        self._errors: dict[str, str] = {}

    def get(self, device: str) -> Yardstick | None:
        """The device's yardstick, built on first use; None when it cannot run (rows then go unpaired)."""
        if device in self._errors:
            return None
        if device not in self._built:
            config = tutorial(device, self.settings.dataset, samples_per_round=self.settings.profile.samples_per_round,
                              torch_threads=self.settings.torch_threads)
            try:
                workload = build_workload("train", config, self.settings.data)
                workload.warmup(self.settings.profile.warmup_rounds)
                workload.fit_rounds(*self.settings.profile.round_s)
            except Exception as exc:  # e.g. DataLoader workers that cannot start here: recorded, rows unpaired
                self._errors[device] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                raise
            self._built[device] = Yardstick(workload, self.gpu if device == "cuda" else None)
        return self._built[device]

    def is_yardstick(self, kind: str, config: BenchConfig) -> bool:
        return kind == "train" and config.reference and config.torch_threads == self.settings.torch_threads \
            and config.samples_per_round == self.settings.profile.samples_per_round

    @contextlib.contextmanager
    def workload_for(self, kind: str, config: BenchConfig):
        """The workload a row times: the yardstick itself for the tutorial's setting (kept open), else a new one."""
        yardstick = self.get(config.device) if self.is_yardstick(kind, config) else None
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
            yardstick = self.get(device)
        except Exception:  # noqa: BLE001  recorded in _errors; this row runs unpaired
            return None
        if yardstick is None:
            return None
        return Pairing.of(yardstick.name, lambda: yardstick.round(self.session_start))

    def record(self) -> dict[str, YardstickRecord]:
        """Per device, every round of its yardstick in session time, or why it could not be built: the run
        file's `drift` record. How far the machine drifted is one number, Run.drift (runs/runfile.py), computed
        from the rows' paired yardstick rounds by every reader, so it is not stored here a second way."""
        out = {device: YardstickRecord(yardstick.name, len(yardstick.series),
                                       tuple((round(t, 3), rate) for t, rate in yardstick.series))
               for device, yardstick in self._built.items()}
        for device, error in self._errors.items():
            out[device] = YardstickRecord(None, 0, (), error)
        return out

    def worker_processes(self) -> int:
        """The DataLoader workers the open yardsticks keep alive."""
        return sum(yardstick.workload.config.num_workers for yardstick in self._built.values()
                   if yardstick.workload.closers)

    def close(self) -> None:
        for yardstick in self._built.values():
            with contextlib.suppress(Exception):
                yardstick.workload.close()
