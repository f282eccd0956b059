"""The report's answers as data: every "faster", "best" and "× the CPU" it states, with its interval and its
verdict from the one comparison engine (measure/effect.py). Pure functions of one run's rows.

One estimate per row, so that every ratio the report prints can be recomputed from the throughputs printed
beside it: a row's *adjusted* samples/s is the median of the root row (the tutorial's setting on the CPU, else on
the GPU) times the row's ratio to its device's tutorial setting and, on the other device, that setting's ratio to
the root, each estimated from rounds paired with the other where the run took them (Hodges-Lehmann; machine
drift divided out). Every comparison of two rows is the ratio of their adjusted samples/s, its interval combining
the ratios that differ (`judge`); a row's plain median is printed too, labelled as such.

Settings and pipelines are judged against SETTINGS_THRESHOLD_PCT (measure/effect.py): a difference smaller than that
is not worth changing a setting for, so a row is "faster" only when its whole 95% interval lies above +5%.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.core.config import SETTINGS, BenchConfig
from mnist_core.core.pipelines import PIPELINES
from mnist_core.measure.effect import (SETTINGS_THRESHOLD_PCT, FASTER, INCONCLUSIVE, SLOWER, Effect, Verdict,
                                       combined, compare)
from mnist_core.measure.measurement import relative
from mnist_core.runs.rows import AccuracyRow, ThroughputRow, TransferRow
from mnist_core.runs.runfile import Run

TUTORIAL_BATCH = 128
DEVICE_NAME = {"cpu": "CPU", "cuda": "GPU"}


# each setting that can act, in words
SETTING_WORDS = {
    "num_workers": lambda workers: f"{workers} worker{'s' if workers != 1 else ''}",
    "pin_memory": lambda pinned: "pinned" if pinned else "not pinned",
    "non_blocking": lambda non_blocking: "non_blocking" if non_blocking else "blocking copies",
    "steps_per_replay": lambda steps: f"{steps} steps per CUDA graph",
}


def settings_words(config: BenchConfig) -> list[str]:
    """The settings that can act in this configuration, in plain words: ['2 workers', 'pinned', 'non_blocking']."""
    return [SETTING_WORDS[name](getattr(config, name)) for name in SETTINGS if name not in config.inert_fields]


def setting_label(config: BenchConfig, *, with_batch: bool = False) -> str:
    """A configuration in plain words: 'DataLoader, 2 workers, pinned, non_blocking', 'data resident on the GPU'."""
    text = ", ".join([config.pipeline.words.format(where=DEVICE_NAME.get(config.device, config.device)),
                      *settings_words(config)])
    if config.model != "mlp":
        text = f"{config.model.upper()}, {text}"
    return f"{text}, batch {config.batch_size}" if with_batch else text


@dataclass(frozen=True)
class Judged:
    """A row against another, with the verdict at SETTINGS_THRESHOLD_PCT."""

    row: ThroughputRow
    against: ThroughputRow
    verdict: Verdict
    rates: tuple[float, float] | None = None  # the adjusted samples/s of row and against: their ratio is the effect's

    @property
    def effect(self) -> Effect:
        return self.verdict.effect




def train_rows(run: Run, device: str | None = None) -> list[ThroughputRow]:
    return [row for row in run.rows if isinstance(row, ThroughputRow) and row.kind == "train"
            and (device is None or row.config.device == device)]


def devices(run: Run) -> list[str]:
    present = {row.config.device for row in train_rows(run)}
    return [device for device in ("cpu", "cuda") if device in present]


def tutorial_row(run: Run, device: str) -> ThroughputRow | None:
    return next((row for row in train_rows(run, device) if row.reference), None)


def _tutorial_effect(run: Run, row: ThroughputRow) -> Effect | None:
    """`row` against the tutorial's setting on its device: against that row when the run measured it (paired
    rounds where the run took them), else (a run narrowed with -k) from the training row's rounds paired with the
    yardstick, which runs the tutorial's setting. None for the tutorial's row itself, or with neither."""
    tutorial = tutorial_row(run, row.config.device)
    if tutorial is row:
        return None
    if tutorial is not None:
        return relative(row.measurement, tutorial.measurement)
    return row.measurement.vs_yardstick() if row.kind == "train" else None


def root_row(run: Run) -> ThroughputRow | None:
    """The row every adjusted samples/s is scaled from: the tutorial's setting on the CPU (what a GPU run pairs its
    own tutorial's setting with), else on the GPU."""
    return next((row for row in (tutorial_row(run, "cpu"), tutorial_row(run, "cuda")) if row is not None), None)


def _device_effect(run: Run, device: str) -> Effect | None:
    """The tutorial's setting on `device` against the root row (paired rounds when the run took them); None on
    the root's device, or without a tutorial's setting on `device`."""
    root, mine = root_row(run), tutorial_row(run, device)
    return None if mine is None or mine is root else relative(mine.measurement, root.measurement)


def _factors(run: Run, row: ThroughputRow, across: bool) -> list[Effect] | None:
    """adjusted(row) / root median as factors: the row's ratio to its device's tutorial setting and, `across`
    devices, that setting's ratio to the root row. None when the row has no tutorial's setting to anchor it."""
    if tutorial_row(run, row.config.device) is None:
        return None
    parts = [] if row.reference else [_tutorial_effect(run, row)]
    device = _device_effect(run, row.config.device) if across else None
    return parts + ([device] if device is not None else [])


def adjusted_rate(run: Run, row: ThroughputRow) -> float | None:
    """The row's samples/s as the report's comparisons read it: the root row's median x the row's ratios to its
    tutorial's setting and on to the root (the root row: its median). In a run narrowed past the tutorial's row,
    the yardstick's median beside the row x the row's ratio to it. None when nothing anchors it."""
    factors = _factors(run, row, across=True)
    if factors is None:
        effect = _tutorial_effect(run, row)
        anchor = row.measurement.yardstick_median
        return anchor * effect.ratio if effect is not None and anchor is not None else None
    value = root_row(run).measurement.median
    for factor in factors:
        value *= factor.ratio
    return value


def is_root(run: Run, row: ThroughputRow) -> bool:
    """True for the row whose adjusted samples/s is its own median."""
    return root_row(run) is row


def judge(run: Run, row: ThroughputRow, against: ThroughputRow,
          threshold_pct: float = SETTINGS_THRESHOLD_PCT) -> Judged:
    """`row` against `against`: the ratio of their adjusted samples/s, so it agrees with the throughputs printed
    beside it, its interval combining the factors that differ (a comparison with the tutorial's setting is the
    paired estimate itself). Rows nothing anchors (no tutorial's setting on the device) are compared by their
    own rounds."""
    across = row.config.device != against.config.device
    mine, theirs = _factors(run, row, across), _factors(run, against, across)
    parts = None if mine is None or theirs is None else mine + [factor.inverse() for factor in theirs]
    if not parts:
        return Judged(row, against, compare(relative(row.measurement, against.measurement), threshold_pct))
    effect = parts[0] if len(parts) == 1 else combined(*parts)
    return Judged(row, against, compare(effect, threshold_pct), (adjusted_rate(run, row), adjusted_rate(run, against)))


def vs_tutorial(run: Run, row: ThroughputRow) -> Verdict | None:
    """The verdict on `row` against the tutorial's setting on its device (None for that row itself, or with
    nothing to compare)."""
    effect = _tutorial_effect(run, row)
    return compare(effect, SETTINGS_THRESHOLD_PCT) if effect is not None else None


@dataclass(frozen=True)
class Best:
    """The fastest of some candidates, and which others cannot be told apart from it."""

    row: ThroughputRow
    ties: tuple[ThroughputRow, ...]  # not reliably slower than `row`: a tie, named as such

    @property
    def tied(self) -> bool:
        return bool(self.ties)


def _rank_rate(run: Run, row: ThroughputRow) -> float:
    adjusted = adjusted_rate(run, row)
    return adjusted if adjusted is not None else row.measurement.median


def best_of(run: Run, rows: list[ThroughputRow]) -> Best | None:
    """The row with the highest adjusted samples/s (the same number the report prints as its speed)."""
    if not rows:
        return None
    top = max(rows, key=lambda row: _rank_rate(run, row))
    ties = tuple(row for row in rows if row is not top and judge(run, top, row).verdict.label != FASTER)
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
    settings = [row for row in mlp if row.config.pipeline.dataloader and row.config.batch_size == TUTORIAL_BATCH]
    best = best_of(run, settings)
    fastest = best_of(run, mlp)
    return DeviceAnswer(
        device, tutorial, best,
        judge(run, best.row, tutorial) if best and tutorial and best.row is not tutorial else None,
        fastest.row if fastest else None, vs_tutorial(run, fastest.row) if fastest else None,
        fastest.ties if fastest else ())


@dataclass(frozen=True)
class GpuVsCpu:
    what: str  # "tutorial setting" | "each device's fastest"
    gpu: ThroughputRow
    cpu: ThroughputRow
    verdict: Verdict
    rates: tuple[float, float] | None  # the GPU's and the CPU's adjusted samples/s (see judge)


def gpu_vs_cpu(run: Run) -> list[GpuVsCpu]:
    """The GPU against the CPU at the tutorial's setting (the ratio of the two medians) and at each device's
    fastest MLP configuration (the ratio of their adjusted samples/s)."""
    gpu_ref, cpu_ref = tutorial_row(run, "cuda"), tutorial_row(run, "cpu")
    if gpu_ref is None or cpu_ref is None:
        return []
    pairs = [("tutorial setting", gpu_ref, cpu_ref)]
    gpu, cpu = device_answer(run, "cuda"), device_answer(run, "cpu")
    if gpu.fastest is not None and cpu.fastest is not None:
        pairs.append(("each device's fastest", gpu.fastest, cpu.fastest))
    out = []
    for what, gpu_row, cpu_row in pairs:
        judged = judge(run, gpu_row, cpu_row)
        out.append(GpuVsCpu(what, gpu_row, cpu_row, judged.verdict, judged.rates))
    return out


def setting_grid(run: Run, device: str) -> list[Judged]:
    """Every DataLoader setting of the tutorial MLP at every batch size against the tutorial's setting."""
    tutorial = tutorial_row(run, device)
    if tutorial is None:
        return []
    return [judge(run, row, tutorial) for row in train_rows(run, device)
            if row.config.model == "mlp" and row.config.pipeline.dataloader and row is not tutorial]


def undecided_why(verdict: Verdict) -> str:
    """Why a verdict is neither faster, slower nor same: too few rounds for a 95% interval (even one lying wholly
    beyond the threshold decides nothing then), or an interval reaching across the threshold."""
    effect = verdict.effect
    if not effect.reliable:
        return f"too few rounds ({effect.pairs}) for a 95% interval"
    return f"its 95% interval reaches across ±{verdict.threshold_pct:g}%"


# (what, GPU pipeline, CPU pipeline): each crossover compares exactly these, never a CUDA graph under "resident"
CROSSOVER_FAMILIES = tuple((pipeline.crossover, pipeline.name, pipeline.cpu_stand_in or pipeline.name)
                           for pipeline in PIPELINES.values() if pipeline.crossover)


def crossover(run: Run) -> dict[str, list[tuple[int, Judged]]]:
    """Per pipeline family, the GPU's best MLP row against the CPU's at each batch size both devices measured
    (empty unless the run has both devices)."""
    if set(devices(run)) != {"cpu", "cuda"}:
        return {}
    out = {}
    for family, gpu_loader, cpu_loader in CROSSOVER_FAMILIES:
        cells = []
        for batch in sorted({row.config.batch_size for row in train_rows(run)}):
            best = {}
            for device, loader in (("cuda", gpu_loader), ("cpu", cpu_loader)):
                rows = [row for row in train_rows(run, device) if row.config.model == "mlp"
                        and row.config.loader == loader and row.config.batch_size == batch]
                if rows:
                    best[device] = max(rows, key=lambda row: adjusted_rate(run, row) or row.measurement.median)
            if len(best) == 2:
                cells.append((batch, judge(run, best["cuda"], best["cpu"])))
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
