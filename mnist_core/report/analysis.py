"""The report's answers as data: every "faster", "best" and "× the CPU" it states, with its interval and its
verdict from the one comparison engine (measure/effect.py). Pure functions of one run's rows.

Settings and pipelines are judged against SETTINGS_THRESHOLD_PCT (measure/effect.py): a difference smaller than that
is not worth changing a setting for, so a row is "faster" only when its whole 95% interval lies above +5%.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.core.config import BenchConfig
from mnist_core.measure.effect import (SETTINGS_THRESHOLD_PCT, FASTER, INCONCLUSIVE, SLOWER, Effect, Verdict,
                                       combined, compare)
from mnist_core.measure.measurement import relative
from mnist_core.runs.rows import AccuracyRow, ThroughputRow, TransferRow
from mnist_core.runs.runfile import Run

TUTORIAL_BATCH = 128
DEVICE_NAME = {"cpu": "CPU", "cuda": "GPU"}


def setting_label(config: BenchConfig, *, with_batch: bool = False) -> str:
    """A configuration in plain words: '2 workers, pinned, non_blocking', 'data resident on the GPU'."""
    where = DEVICE_NAME.get(config.device, config.device)
    if config.loader == "dataloader":
        parts = [f"{config.num_workers} worker{'s' if config.num_workers != 1 else ''}"]
        if config.device == "cuda":
            parts.append("pinned" if config.pin_memory else "not pinned")
            parts.append("non_blocking" if config.non_blocking else "blocking copies")
        text = "DataLoader, " + ", ".join(parts)
    elif config.loader == "resident":
        text = f"data resident on the {where}"
    elif config.loader == "resident-graph":
        text = f"data resident on the {where}, step in a CUDA graph"
    else:
        replays = f", {config.steps_per_replay} steps per CUDA graph" if config.device == "cuda" else ""
        text = f"data resident on the {where}, step compiled{replays}"
    if config.model != "mlp":
        text = f"{config.model.upper()}, {text}"
    return f"{text}, batch {config.batch_size}" if with_batch else text


@dataclass(frozen=True)
class Judged:
    """A row against another, with the verdict at SETTINGS_THRESHOLD_PCT."""

    row: ThroughputRow
    against: ThroughputRow
    verdict: Verdict

    @property
    def effect(self) -> Effect:
        return self.verdict.effect


def judge(row: ThroughputRow, against: ThroughputRow, threshold_pct: float = SETTINGS_THRESHOLD_PCT) -> Judged:
    return Judged(row, against, compare(relative(row.measurement, against.measurement), threshold_pct))


def train_rows(run: Run, device: str | None = None) -> list[ThroughputRow]:
    return [row for row in run.rows if isinstance(row, ThroughputRow) and row.kind == "train"
            and (device is None or row.config.device == device)]


def devices(run: Run) -> list[str]:
    present = {row.config.device for row in train_rows(run)}
    return [device for device in ("cpu", "cuda") if device in present]


def tutorial_row(run: Run, device: str) -> ThroughputRow | None:
    return next((row for row in train_rows(run, device) if row.reference), None)


def vs_tutorial(run: Run, row: ThroughputRow) -> Verdict | None:
    """`row` against the tutorial's setting on its device: against that row when the run measured it, else
    (a run narrowed with -k) from the training row's rounds paired with the yardstick, which runs the tutorial's
    setting. None for the tutorial's row itself, or with neither."""
    tutorial = tutorial_row(run, row.config.device)
    if tutorial is row:
        return None
    if tutorial is not None:
        return judge(row, tutorial).verdict
    effect = row.measurement.vs_yardstick() if row.kind == "train" else None
    return compare(effect, SETTINGS_THRESHOLD_PCT) if effect is not None else None


@dataclass(frozen=True)
class Best:
    """The fastest of some candidates, and which others cannot be told apart from it."""

    row: ThroughputRow
    ties: tuple[ThroughputRow, ...]  # not reliably slower than `row`: a tie, named as such

    @property
    def tied(self) -> bool:
        return bool(self.ties)


def best_of(rows: list[ThroughputRow]) -> Best | None:
    if not rows:
        return None
    top = max(rows, key=lambda row: row.measurement.median)
    ties = tuple(row for row in rows if row is not top and judge(top, row).verdict.label != FASTER)
    return Best(top, ties)


@dataclass(frozen=True)
class DeviceAnswer:
    device: str
    tutorial: ThroughputRow | None
    best_setting: Best | None  # the fastest DataLoader setting at the tutorial's batch size
    setting_vs_tutorial: Judged | None
    fastest: ThroughputRow | None  # the fastest MLP configuration of any pipeline and batch size
    fastest_vs_tutorial: Verdict | None  # None when `fastest` is the tutorial's setting or nothing compares them
    fastest_ties: tuple[ThroughputRow, ...] = ()  # configurations not reliably slower than `fastest`


def device_answer(run: Run, device: str) -> DeviceAnswer:
    tutorial = tutorial_row(run, device)
    mlp = [row for row in train_rows(run, device) if row.config.model == "mlp"]
    settings = [row for row in mlp if row.config.loader == "dataloader" and row.config.batch_size == TUTORIAL_BATCH]
    best = best_of(settings)
    fastest = best_of(mlp)
    return DeviceAnswer(
        device, tutorial, best,
        judge(best.row, tutorial) if best and tutorial and best.row is not tutorial else None,
        fastest.row if fastest else None, vs_tutorial(run, fastest.row) if fastest else None,
        fastest.ties if fastest else ())


@dataclass(frozen=True)
class GpuVsCpu:
    what: str  # "tutorial setting" | "each device's fastest"
    gpu: ThroughputRow
    cpu: ThroughputRow
    verdict: Verdict


def gpu_vs_cpu(run: Run) -> list[GpuVsCpu]:
    """The GPU against the CPU at the tutorial's setting (paired rounds when the run took them) and at each
    device's fastest MLP configuration (each measured against its own device's tutorial setting)."""
    gpu_ref, cpu_ref = tutorial_row(run, "cuda"), tutorial_row(run, "cpu")
    if gpu_ref is None or cpu_ref is None:
        return []
    at_tutorial = relative(gpu_ref.measurement, cpu_ref.measurement)
    out = [GpuVsCpu("tutorial setting", gpu_ref, cpu_ref, compare(at_tutorial, SETTINGS_THRESHOLD_PCT))]
    gpu, cpu = device_answer(run, "cuda"), device_answer(run, "cpu")
    if gpu.fastest is not None and cpu.fastest is not None:
        parts = [at_tutorial]
        if gpu.fastest is not gpu_ref:
            parts.append(relative(gpu.fastest.measurement, gpu_ref.measurement))
        if cpu.fastest is not cpu_ref:
            parts.append(relative(cpu.fastest.measurement, cpu_ref.measurement).inverse())
        effect = parts[0] if len(parts) == 1 else combined(*parts)
        out.append(GpuVsCpu("each device's fastest", gpu.fastest, cpu.fastest, compare(effect, SETTINGS_THRESHOLD_PCT)))
    return out


def setting_grid(run: Run, device: str) -> list[Judged]:
    """Every DataLoader setting of the tutorial MLP at every batch size against the tutorial's setting."""
    tutorial = tutorial_row(run, device)
    if tutorial is None:
        return []
    return [judge(row, tutorial) for row in train_rows(run, device)
            if row.config.model == "mlp" and row.config.loader == "dataloader" and row is not tutorial]


# pipeline family -> the loaders whose best row stands for it when the GPU is set against the CPU
CROSSOVER_FAMILIES = (("DataLoader", ("dataloader",)), ("resident data", ("resident", "resident-graph")))


def crossover(run: Run) -> dict[str, list[tuple[int, Judged]]]:
    """Per pipeline family, the GPU's best MLP row against the CPU's at each batch size both devices measured
    (empty unless the run has both devices)."""
    if set(devices(run)) != {"cpu", "cuda"}:
        return {}
    out = {}
    for family, loaders in CROSSOVER_FAMILIES:
        cells = []
        for batch in sorted({row.config.batch_size for row in train_rows(run)}):
            best = {}
            for device in ("cpu", "cuda"):
                rows = [row for row in train_rows(run, device) if row.config.model == "mlp"
                        and row.config.loader in loaders and row.config.batch_size == batch]
                if rows:
                    best[device] = max(rows, key=lambda row: row.measurement.median)
            if len(best) == 2:
                cells.append((batch, judge(best["cuda"], best["cpu"])))
        if cells:
            out[family] = cells
    return out


def inconclusive(verdicts: list[Verdict]) -> list[Verdict]:
    return [verdict for verdict in verdicts if verdict.label == INCONCLUSIVE]


def slower(verdict: Verdict) -> bool:
    return verdict.label == SLOWER


def accuracy_rows(run: Run) -> list[AccuracyRow]:
    return [row for row in run.rows if isinstance(row, AccuracyRow)]


def copy_rows(run: Run) -> list[TransferRow]:
    return [row for row in run.rows if isinstance(row, TransferRow)]
