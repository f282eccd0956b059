"""The report's plots, each with the 95% intervals of what it compares: matplotlib's object API with the Agg
canvas (no pyplot, no global backend), so drawing works headless and never changes a notebook's backend.
Each function returns a Figure, or None when the run has no rows for it.

Every plot is drawn twice: wide (WIDE_IN, for a page of 900 px and more; the PNG beside report.md) and
narrow (NARROW_IN, panels stacked, for a phone). report.html embeds both as vector SVG, text kept as text,
so its size on screen can be checked: at 72 pt per inch a figure W inches wide is 96·W CSS px, and its
smallest text (MIN_FONT_PT) stays at 9 CSS px or more down to a 390 px screen.

One extreme interval must not flatten a panel: each axis spans the medians and the intervals that reach
less than the medians' own spread beyond them (CLIP_REACH); a longer bar stops at the edge with an arrow
and its value.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from dataclasses import dataclass

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from mnist_core.core.pipelines import PIPELINES
from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT
from mnist_core.report.formatting import rate, signed_pct, size, times

DPI = 110
WIDE_IN, NARROW_IN = 10.0, 4.0  # figure widths (inches) for a page of 900+ px and for a phone
MIN_FONT_PT = 8.0  # the smallest text any plot sets (ticks, legends, clipped values)
CLIP_REACH = 1.0  # an interval may reach this share of the medians' spread beyond them before it is cut
SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "mnist-bench", "font.size": 10}
# distinct hues (Okabe-Ito), so no two series differ only in shade; each pipeline's own are in its record
MACHINE_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#f0e442")
CHARTED = {pipeline.family: pipeline for pipeline in PIPELINES.values()}  # a series' pipeline by its legend name
DEVICE_STYLES = {"CPU": ("--", "s"), "GPU": ("-", "o")}
VERDICT_COLOURS = {"faster": "#1a9850", "slower": "#d73027", "same": "#737373", "inconclusive": "#bdbdbd"}
TUTORIAL_COLOUR = "#000000"  # the ring around the tutorial's setting: no series has its colour

THROUGHPUT_PNG = "throughput_vs_batch.png"
CROSSOVER_PNG = "gpu_vs_cpu_by_batch.png"
SETTINGS_PNG = "dataloader_settings.png"
BANDWIDTH_PNG = "h2d_bandwidth.png"
PLOT_FILES = (CROSSOVER_PNG, THROUGHPUT_PNG, SETTINGS_PNG, BANDWIDTH_PNG)


@dataclass(frozen=True)
class Drawing:
    """One plot, rendered: the wide layout as PNG (beside report.md) and SVG, the narrow layout as SVG."""

    png: bytes
    svg: str
    svg_narrow: str


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _title(figure: Figure, text: str, fontsize: float = 11) -> None:
    """A title wrapped to the figure's width (about 0.55 em per character)."""
    figure.suptitle(textwrap.fill(text, int(figure.get_figwidth() * 72 / (0.55 * fontsize))), fontsize=fontsize)


def _grid(figure: Figure, panels: int, narrow: bool, **options):
    """`panels` axes side by side, or stacked in one column when narrow."""
    rows, columns = (panels, 1) if narrow else (1, panels)
    return list(figure.subplots(rows, columns, squeeze=False, **options).flat)


def _below(figure: Figure, handles, labels, narrow: bool, wide_columns: int = 3) -> None:
    """One legend for the whole figure, under its panels: never over the data. As many columns as its
    longest label leaves room for (about 0.55 em per character, plus the marker)."""
    unique = dict(zip(labels, handles))
    room = int(figure.get_figwidth() * 72 / (0.55 * 9)) // (max(map(len, unique)) + 8)
    figure.legend(unique.values(), unique.keys(), loc="outside lower center", frameon=False, fontsize=9,
                  ncols=max(1, min(1 if narrow else wide_columns, room, len(unique))))


def _machine_legend(machines: list[str], series: list[tuple[str, str]]) -> tuple[list, list[str]]:
    """With several machines: one entry per machine (its colour), then one per device and pipeline (its line and
    marker, in grey), instead of an entry for every machine x device x pipeline."""
    handles = [Line2D([], [], color=MACHINE_COLOURS[index % len(MACHINE_COLOURS)], linewidth=6)
               for index, _ in enumerate(machines)]
    labels = list(machines)
    for device, family in dict.fromkeys(series):
        style = _series_style(machines[0], device, family, machines)
        handles.append(Line2D([], [], color="#555555", linestyle=style["linestyle"], marker=style["marker"]))
        labels.append(f"{device} · {family}")
    return handles, labels


# clipping: one extreme interval must not flatten the rest of a panel --------------------------------------
def window(centres, lows, highs, *, log: bool = False, floor: float = 0.0) -> tuple[float, float]:
    """The span an axis shows: every median, and every interval end within CLIP_REACH x the medians' spread
    (at least `floor`) beyond the outermost median. On a log axis the spread is taken in log space."""
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    unscale = (lambda v: 10 ** v) if log else (lambda v: v)
    centres = [v for v in centres if pd.notna(v)]
    ends = [v for v in [*lows, *highs] if pd.notna(v)] + centres
    low, high = scale(min(centres)), scale(max(centres))
    reach = max(high - low, floor) * CLIP_REACH
    first, last = min(ends), max(ends)  # kept exact when not cut: a bar ending on the edge is not cut
    return (first if scale(first) >= low - reach else unscale(low - reach),
            last if scale(last) <= high + reach else unscale(high + reach))


def _clipped_bars(axis, positions, centres, lows, highs, span, *, vertical: bool, text, colour, **style) -> None:
    """Error bars cut at `span`; a cut end gets an arrow at the edge and its true value (`text`)."""
    low_edge, high_edge = span
    kept_low = [max(value, low_edge) if pd.notna(value) else centre for value, centre in zip(lows, centres)]
    kept_high = [min(value, high_edge) if pd.notna(value) else centre for value, centre in zip(highs, centres)]
    # max(0, ...): an interval need not hold the plotted point (a median beside its interval of a few rounds, or an
    # end cut at the span's edge), and matplotlib refuses a negative bar
    error = [[max(0.0, c - low) for c, low in zip(centres, kept_low)],
             [max(0.0, high - c) for c, high in zip(centres, kept_high)]]
    x, y = (positions, centres) if vertical else (centres, positions)
    axis.errorbar(x, y, **({"yerr": error} if vertical else {"xerr": error}), color=colour, **style)
    for position, low, high in zip(positions, lows, highs):
        for value, edge, beyond in ((high, high_edge, pd.notna(high) and high > high_edge),
                                    (low, low_edge, pd.notna(low) and low < low_edge)):
            if not beyond:
                continue
            upper = edge == high_edge
            point = (position, edge) if vertical else (edge, position)
            marker = ("^" if upper else "v") if vertical else (">" if upper else "<")
            axis.plot(*[[coordinate] for coordinate in point], marker=marker, markersize=7, color=colour,
                      linestyle="none", clip_on=False, zorder=4)
            offset = ((5, -4 if upper else 4) if vertical else (-6 if upper else 6, 5))
            axis.annotate(text(value), point, textcoords="offset points", xytext=offset, fontsize=MIN_FONT_PT,
                          color=colour, ha=("left" if vertical else ("right" if upper else "left")),
                          va=("top" if upper else "bottom") if vertical else "bottom")


def _padded(span: tuple[float, float], log: bool = False, share: float = 0.06) -> tuple[float, float]:
    low, high = (math.log10(span[0]), math.log10(span[1])) if log else span
    pad = (high - low) * share or 1.0
    low, high = low - pad, high + pad
    return (10 ** low, 10 ** high) if log else (low, high)


def _batch_axis(axis, batches) -> None:
    axis.set_xscale("log", base=2)
    axis.xaxis.set_major_locator(FixedLocator(sorted(batches)))
    axis.xaxis.set_minor_locator(NullLocator())
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _series_style(machine: str, device: str, family: str, machines: list[str]) -> dict:
    """One colour per machine when there are several (the pipeline then shows in the marker); with one
    machine, one colour per pipeline. The device shows in the line: dashed CPU, solid GPU."""
    line, device_marker = DEVICE_STYLES.get(device, ("-", "o"))
    if len(machines) > 1:
        return {"color": MACHINE_COLOURS[machines.index(machine) % len(MACHINE_COLOURS)], "linestyle": line,
                "marker": CHARTED[family].marker}
    return {"color": CHARTED[family].colour, "linestyle": line, "marker": device_marker}


def throughput_figure(pipelines: pd.DataFrame, narrow: bool = False) -> Figure | None:
    """Training samples/s vs batch size, one panel per model: per machine, device and pipeline the best setting
    at each size, with its 95% interval; the tutorial's setting ringed."""
    if pipelines.empty:
        return None
    frame = pipelines.assign(family=pipelines["loader"].map(lambda loader: PIPELINES[loader].family))
    models = list(dict.fromkeys(frame["model"]))
    machines = list(dict.fromkeys(frame["machine"]))
    legend_rows = math.ceil(len(frame.groupby(["machine", "device", "family"])) / (1 if narrow else 3)) + 1
    panel_in = 3.4 if narrow else 4.2
    height = panel_in * (len(models) if narrow else 1) + 0.6 + 0.2 * legend_rows
    figure = _figure(NARROW_IN if narrow else min(WIDE_IN, 4.8 * len(models) + 0.6), height)
    handles, labels, series = [], [], []
    for axis, model in zip(_grid(figure, len(models), narrow), models):
        rows = frame[frame["model"] == model]
        best = (rows.loc[rows.groupby(["machine", "device", "family", "batch_size"], sort=False)["samples_per_s"]
                .idxmax()].sort_values("batch_size"))
        span = window(best["samples_per_s"], best["samples_per_s_low"], best["samples_per_s_high"], log=True)
        for (machine, device, family), group in best.groupby(["machine", "device", "family"], sort=False):
            style = _series_style(machine, device, family, machines)
            label = f"{device} · {family}" + (f" · {machine}" if len(machines) > 1 else "")
            handles.append(axis.plot(group["batch_size"], group["samples_per_s"], markersize=6, label=label,
                                     **style)[0])
            labels.append(label)
            series.append((device, family))
            _clipped_bars(axis, list(group["batch_size"]), list(group["samples_per_s"]),
                          list(group["samples_per_s_low"]), list(group["samples_per_s_high"]), span, vertical=True,
                          text=rate, colour=style["color"], linestyle="none", capsize=3)
        tutorial = rows[rows["tutorial"].astype(bool)]
        for _, row in tutorial.iterrows():
            axis.plot([row["batch_size"]], [row["samples_per_s"]], marker="o", markersize=16, markerfacecolor="none",
                      markeredgecolor=TUTORIAL_COLOUR, markeredgewidth=2, linestyle="none")
        if len(machines) > 1:
            handles, labels = _machine_legend(machines, series)
        if not tutorial.empty:
            handles.append(Line2D([], [], marker="o", markersize=11, markerfacecolor="none",
                                  markeredgecolor=TUTORIAL_COLOUR, markeredgewidth=2, linestyle="none"))
            labels.append("the tutorial's setting")
        _batch_axis(axis, set(rows["batch_size"]))
        axis.set_yscale("log")
        axis.set_ylim(*_padded(span, log=True))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: rate(value)))
        axis.set_xlabel("batch size (samples per step)")
        axis.set_ylabel("training samples/s (log)")
        axis.set_title(f"{model}: best setting per pipeline", fontsize=10)
        axis.grid(True, which="both", alpha=0.3)
        axis.margins(x=0.12)
    _below(figure, handles, labels, narrow)
    _title(figure, "Training throughput vs batch size (bars: 95% interval of the median)")
    return figure


def crossover_figure(crossover: pd.DataFrame, narrow: bool = False) -> Figure | None:
    """GPU ÷ CPU samples/s by batch size, one line per pipeline, one panel per machine, with the 1× line:
    above it the GPU is faster. Empty without a run that has both devices."""
    if crossover.empty:
        return None
    panels = list(crossover.groupby("machine", sort=False))
    panel_in = 3.2 if narrow else 3.8
    height = panel_in * (len(panels) if narrow else 1) + 1.0
    figure = _figure(NARROW_IN if narrow else min(WIDE_IN, 5.2 * len(panels) + 0.6), height)
    handles, labels = [], []
    for axis, (machine, group) in zip(_grid(figure, len(panels), narrow), panels):
        span = window([*group["gpu_vs_cpu"], 1.0], group["gpu_vs_cpu_low"], group["gpu_vs_cpu_high"], log=True)
        axis.axhline(1.0, color="#404040", linewidth=1.2, zorder=1)
        for family, line in group.groupby("pipeline", sort=False):
            line = line.sort_values("batch_size")
            colour = PIPELINES[line["loader"].iloc[0]].colour  # the GPU side's pipeline (one per line)
            handles.append(axis.plot(line["batch_size"], line["gpu_vs_cpu"], marker="o", markersize=6, color=colour,
                                     label=family)[0])
            labels.append(f"with {family}")
            _clipped_bars(axis, list(line["batch_size"]), list(line["gpu_vs_cpu"]), list(line["gpu_vs_cpu_low"]),
                          list(line["gpu_vs_cpu_high"]), span, vertical=True, text=times, colour=colour,
                          linestyle="none", capsize=3)
        _batch_axis(axis, set(group["batch_size"]))
        axis.set_yscale("log")
        low, high = _padded(span, log=True, share=0.12)
        axis.set_ylim(min(low, 0.8), max(high, 1.25))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
        axis.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
        axis.annotate("1×: GPU = CPU", (0.99, 1.0), xycoords=("axes fraction", "data"), xytext=(-2, -3),
                      textcoords="offset points", ha="right", va="top", fontsize=MIN_FONT_PT, color="#404040")
        axis.set_xlabel("batch size (samples per step)")
        axis.set_ylabel("GPU ÷ CPU samples/s (log)")
        axis.set_title("above 1×, the GPU is faster" + (f"\n{machine}" if len(panels) > 1 else ""), fontsize=10)
        axis.grid(True, which="major", alpha=0.3)
        axis.margins(x=0.12)
    _below(figure, handles, labels, narrow)
    _title(figure, "GPU ÷ CPU training throughput by batch size (each device's best setting of the pipeline; "
                   "bars: 95% interval)")
    return figure


def settings_figure(settings: pd.DataFrame, narrow: bool = False) -> Figure | None:
    """Small multiples, one panel per device and batch size: each DataLoader setting's Δ vs the tutorial's
    setting with its 95% interval, coloured by verdict; ★ marks the best at that batch size. Narrow: the
    panels stacked, the settings' names wrapped."""
    if settings.empty:
        return None
    panels = list(settings.groupby(["machine", "device"], sort=False))
    batches = sorted(set(settings["batch_size"]))
    pitch_in = 0.34 if narrow else 0.32  # per setting: a wrapped name takes two lines
    heights = [0.9 + pitch_in * len(set(group["setting"])) for _, group in panels]  # a device's panels' height
    if narrow:
        heights = [height for height in heights for _ in batches]
        figure = _figure(NARROW_IN, 1.6 + sum(heights))
        stacked = figure.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0]
        axes = [stacked[line * len(batches):(line + 1) * len(batches)] for line in range(len(panels))]
    else:
        figure = _figure(min(WIDE_IN, 2.3 * len(batches) + 2.6), 1.1 + sum(heights))
        axes = figure.subplots(len(panels), len(batches), squeeze=False, height_ratios=heights)
    several = len({machine for (machine, _), _ in panels}) > 1
    for line, ((machine, device), group) in enumerate(panels):
        labels = list(dict.fromkeys(group.sort_values("reference", ascending=False)["setting"]))
        judged = group[~group["reference"].astype(bool)]
        span = window([0.0, *judged["delta_pct"]], judged["delta_pct_low"], judged["delta_pct_high"],
                      floor=4 * SETTINGS_THRESHOLD_PCT)
        for column, batch in enumerate(batches):
            axis = axes[line][column]
            axis.axvspan(-SETTINGS_THRESHOLD_PCT, SETTINGS_THRESHOLD_PCT, color="#f0f0f0", zorder=0)
            axis.axvline(0, color="#636363", linewidth=1, zorder=1)
            for _, row in group[group["batch_size"] == batch].iterrows():
                y = labels.index(row["setting"])
                if row["reference"]:
                    axis.plot([0], [y], marker="o", markersize=8, markerfacecolor="none",
                              markeredgecolor=TUTORIAL_COLOUR, markeredgewidth=2, zorder=3)
                    continue
                colour = VERDICT_COLOURS.get(row.get("delta_pct_verdict"), "grey")
                _clipped_bars(axis, [y], [row["delta_pct"]], [row.get("delta_pct_low")], [row.get("delta_pct_high")],
                              span, vertical=False, text=signed_pct, colour=colour, marker="o", markersize=6,
                              capsize=3, zorder=3)
                if row["best"]:
                    axis.annotate("★", (row["delta_pct"], y), textcoords="offset points", xytext=(0, 6), ha="center",
                                  fontsize=11, color=colour)
            names = [textwrap.fill(label, 22) for label in labels] if narrow else labels
            axis.set_yticks(range(len(labels)), names, fontsize=9 if not narrow else MIN_FONT_PT)
            axis.tick_params(axis="y", labelleft=narrow or column == 0)
            axis.tick_params(axis="x", labelsize=9)
            axis.set_ylim(len(labels) - 0.5, -0.7)
            axis.set_xlim(*_padded(span))
            axis.grid(True, axis="x", alpha=0.3)
            axis.set_title(f"{device} · batch {batch}" + (f"\n{machine}" if several and (narrow or column == 0)
                                                          else ""), fontsize=10)
            axis.set_xlabel("Δ samples/s (%)", fontsize=9)
    legend = [Line2D([], [], marker="o", linestyle="none", color=colour, label=label)
              for label, colour in VERDICT_COLOURS.items()]
    legend.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor=TUTORIAL_COLOUR,
                         markeredgewidth=2, label="the tutorial's setting (0 by definition)"))
    figure.legend(handles=legend, loc="outside lower center", ncols=2 if narrow else 3, fontsize=9, frameon=False)
    title = ("DataLoader settings vs the tutorial's (bars: 95% interval; grey band: "
             f"±{SETTINGS_THRESHOLD_PCT:g}%, no reliable difference; ★ best; ▶ a bar cut at the edge, with its end)")
    _title(figure, title, 10 if narrow else 11)
    return figure


def bandwidth_figure(bandwidth: pd.DataFrame, narrow: bool = False) -> Figure | None:
    """Host-to-device GB/s vs copy size, pinned vs pageable, with 95% intervals and the PCIe link's limit."""
    if bandwidth.empty:
        return None
    panels = list(bandwidth.groupby("machine", sort=False))
    figure = _figure(NARROW_IN if narrow else min(WIDE_IN, 5.5 * len(panels) + 0.5),
                     (3.6 * len(panels) if narrow else 3.9) + 0.9)
    handles, labels = [], []
    for axis, (machine, group) in zip(_grid(figure, len(panels), narrow), panels):
        for (pinned, non_blocking), line in group.groupby(["pin_memory", "non_blocking"], sort=False):
            line = line.sort_values("bytes")
            label = f"{'pinned' if pinned else 'pageable'}, {'non_blocking' if non_blocking else 'blocking'}"
            axis.errorbar(line["bytes"], line["gb_s"], yerr=[line["gb_s"] - line["gb_s_low"],
                                                             line["gb_s_high"] - line["gb_s"]],
                          linestyle="-" if non_blocking else "--", marker="o", capsize=3,
                          color="#0072b2" if pinned else "#d55e00", label=label)
        limits = pd.to_numeric(group["pcie_theoretical_gb_s"], errors="coerce").dropna()
        if not limits.empty:
            axis.axhline(limits.max(), color="black", linestyle=":", label=f"PCIe theoretical ({limits.max():.1f} GB/s)")
        axis.set_xscale("log", base=2)
        sizes = sorted(set(group["bytes"]))
        axis.xaxis.set_major_locator(FixedLocator(sizes))
        axis.xaxis.set_minor_locator(NullLocator())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: size(value)))
        axis.tick_params(axis="x", labelrotation=30, labelsize=MIN_FONT_PT)
        axis.set_xlabel("copy size")
        axis.set_ylabel("host→device GB/s")
        axis.set_ylim(0, max([*limits, *group["gb_s_high"]]) * 1.12)
        axis.set_title(f"Host→device copies · {machine}", fontsize=10)
        axis.grid(True, alpha=0.3)
        more_handles, more_labels = axis.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    _below(figure, handles, labels, narrow, wide_columns=2)
    return figure


FIGURES = {CROSSOVER_PNG: ("crossover", crossover_figure), THROUGHPUT_PNG: ("pipelines", throughput_figure),
           SETTINGS_PNG: ("settings", settings_figure), BANDWIDTH_PNG: ("bandwidth", bandwidth_figure)}


def draw_all(tables: dict[str, pd.DataFrame]) -> dict[str, Drawing]:
    """filename -> Drawing for every plot the rows allow."""
    drawings = {}
    for name, (table, draw) in FIGURES.items():
        with matplotlib.rc_context(SVG_STYLE):
            wide = draw(tables[table])
            if wide is None:
                continue
            drawings[name] = Drawing(png_bytes(wide), svg_text(wide), svg_text(draw(tables[table], narrow=True)))
    return drawings


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    return buffer.getvalue()


# matplotlib names a clip path after its object's id() as well, so the same plot drawn twice got other names
SVG_ID = re.compile(r'id="([a-z][0-9a-f]{10})"')


def svg_text(figure: Figure) -> str:
    """The figure as SVG with its text as text, no date, and its ids numbered in order of appearance: the same
    plot gives the same bytes."""
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    names = {old: f"{old[0]}{number}" for number, old in enumerate(dict.fromkeys(SVG_ID.findall(text)), start=1)}
    return re.sub(r"(?<=[\"#])([a-z][0-9a-f]{10})(?=[\")])", lambda match: names.get(match[1], match[1]), text)
