"""The report's plots, each with the 95% intervals of what it compares: matplotlib's object API with the Agg
canvas (no pyplot, no global backend), so drawing works headless and never changes a notebook's backend.
Each function returns a Figure, or None when the run has no rows for it; `png_bytes` renders one.

Figures are sized for a page about 1,000 px wide at their saved resolution, so their text reads at the
size it is set in (no legend shrunk to a few pixels).
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from mnist_core.measure.effect import SETTINGS_THRESHOLD_PCT
from mnist_core.report.formatting import rate, size

DPI = 110
PIPELINE_COLOURS = {"DataLoader": "#6baed6", "resident": "#2171b5", "CUDA graph": "#08306b", "compiled": "#54278f"}
DEVICE_STYLES = {"CPU": ("--", "s"), "GPU": ("-", "o")}
VERDICT_COLOURS = {"faster": "#1a9850", "slower": "#d73027", "same": "#737373", "inconclusive": "#bdbdbd"}
MACHINE_ALPHA = (1.0, 0.55, 0.35, 0.25)

THROUGHPUT_PNG = "throughput_vs_batch.png"
SETTINGS_PNG = "dataloader_settings.png"
BANDWIDTH_PNG = "h2d_bandwidth.png"
PLOT_FILES = (THROUGHPUT_PNG, SETTINGS_PNG, BANDWIDTH_PNG)


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _batch_axis(axis, batches) -> None:
    axis.set_xscale("log", base=2)
    axis.xaxis.set_major_locator(FixedLocator(sorted(batches)))
    axis.xaxis.set_minor_locator(NullLocator())
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _family(setting: str) -> str:
    if "compiled" in setting:
        return "compiled"
    if "CUDA graph" in setting:
        return "CUDA graph"
    return "resident" if "resident" in setting else "DataLoader"


def throughput_figure(pipelines: pd.DataFrame) -> Figure | None:
    """Training samples/s vs batch size, one panel per model: per device and pipeline the best setting at each
    size, with its 95% interval; the tutorial's setting ringed."""
    if pipelines.empty:
        return None
    frame = pipelines.assign(family=pipelines["setting"].map(_family))
    models = list(dict.fromkeys(frame["model"]))
    machines = list(dict.fromkeys(frame["machine"]))
    figure = _figure(4.8 * len(models) + 0.6, 4.6)
    axes = figure.subplots(1, len(models), squeeze=False)[0]
    for axis, model in zip(axes, models):
        rows = frame[frame["model"] == model]
        for (machine, device, family), group in rows.groupby(["machine", "device", "family"], sort=False):
            best = group.loc[group.groupby("batch_size")["samples_per_s"].idxmax()].sort_values("batch_size")
            style, marker = DEVICE_STYLES.get(device, ("-", "o"))
            axis.errorbar(best["batch_size"], best["samples_per_s"],
                          yerr=[best["samples_per_s"] - best["samples_per_s_low"],
                                best["samples_per_s_high"] - best["samples_per_s"]],
                          linestyle=style, marker=marker, markersize=6, capsize=3,
                          color=PIPELINE_COLOURS.get(family, "grey"), alpha=MACHINE_ALPHA[machines.index(machine) % 4],
                          label=f"{device} · {family}" + (f" · {machine}" if len(machines) > 1 else ""))
        tutorial = rows[rows["tutorial"].astype(bool)]
        for _, row in tutorial.iterrows():
            axis.plot([row["batch_size"]], [row["samples_per_s"]], marker="o", markersize=16, markerfacecolor="none",
                      markeredgecolor="#e6550d", markeredgewidth=2, linestyle="none")
        _batch_axis(axis, set(rows["batch_size"]))
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: rate(value)))
        axis.set_xlabel("batch size (samples per step)")
        axis.set_ylabel("training samples/s (log scale)")
        axis.set_title(f"{model}: best setting per pipeline", fontsize=11)
        axis.grid(True, which="both", alpha=0.3)
        axis.margins(x=0.12, y=0.15)
        handles, labels = axis.get_legend_handles_labels()
        if not tutorial.empty:
            handles.append(Line2D([], [], marker="o", markersize=11, markerfacecolor="none", markeredgecolor="#e6550d",
                                  markeredgewidth=2, linestyle="none"))
            labels.append("the tutorial's setting")
        axis.legend(handles, labels, fontsize=9, loc="best")
    figure.suptitle("Training throughput vs batch size (bars: 95% interval of the median)", fontsize=12)
    return figure


def settings_figure(settings: pd.DataFrame) -> Figure | None:
    """Small multiples, one panel per device and batch size: each DataLoader setting's Δ vs the tutorial's
    setting with its 95% interval, coloured by verdict; ★ marks the best at that batch size."""
    if settings.empty:
        return None
    panels = list(settings.groupby(["machine", "device"], sort=False))
    batches = sorted(set(settings["batch_size"]))
    rows_per_panel = max(len(set(group["setting"])) for _, group in panels)
    figure = _figure(min(10.0, 2.3 * len(batches) + 2.6), 0.55 + len(panels) * (0.9 + 0.32 * rows_per_panel))
    axes = figure.subplots(len(panels), len(batches), squeeze=False, sharey="row", sharex="row")
    several = len({machine for (machine, _), _ in panels}) > 1
    for line, ((machine, device), group) in enumerate(panels):
        labels = list(dict.fromkeys(group.sort_values("reference", ascending=False)["setting"]))
        for column, batch in enumerate(batches):
            axis = axes[line][column]
            axis.axvspan(-SETTINGS_THRESHOLD_PCT, SETTINGS_THRESHOLD_PCT, color="#f0f0f0", zorder=0)
            axis.axvline(0, color="#636363", linewidth=1, zorder=1)
            cells = group[group["batch_size"] == batch]
            for _, row in cells.iterrows():
                y = labels.index(row["setting"])
                if row["reference"]:
                    axis.plot([0], [y], marker="o", markersize=8, markerfacecolor="none", markeredgecolor="#e6550d",
                              markeredgewidth=2, zorder=3)
                    continue
                low, high = row.get("delta_pct_low"), row.get("delta_pct_high")
                colour = VERDICT_COLOURS.get(row.get("delta_pct_verdict"), "grey")
                axis.errorbar([row["delta_pct"]], [y],
                              xerr=[[row["delta_pct"] - low], [high - row["delta_pct"]]] if pd.notna(low) else None,
                              marker="o", markersize=6, capsize=3, color=colour, zorder=3)
                if row["best"]:
                    axis.annotate("★", (row["delta_pct"], y), textcoords="offset points", xytext=(0, 6), ha="center",
                                  fontsize=11, color=colour)
            axis.set_yticks(range(len(labels)), labels, fontsize=9)
            axis.tick_params(axis="y", labelleft=column == 0)
            axis.set_ylim(len(labels) - 0.5, -0.7)
            axis.grid(True, axis="x", alpha=0.3)
            axis.set_title(f"{device} · batch {batch}" + (f"\n{machine}" if several and column == 0 else ""),
                           fontsize=10)
            axis.set_xlabel("Δ samples/s (%)", fontsize=9)
    legend = [Line2D([], [], marker="o", linestyle="none", color=colour, label=label)
              for label, colour in VERDICT_COLOURS.items()]
    legend.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor="#e6550d",
                         markeredgewidth=2, label="the tutorial's setting (0 by definition)"))
    figure.legend(handles=legend, loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    figure.suptitle("DataLoader settings vs the tutorial's (bars: 95% interval; grey band: "
                    f"±{SETTINGS_THRESHOLD_PCT:g}%, no reliable difference; ★ best)", fontsize=11)
    return figure


def bandwidth_figure(bandwidth: pd.DataFrame) -> Figure | None:
    """Host-to-device GB/s vs copy size, pinned vs pageable, with 95% intervals and the PCIe link's limit."""
    if bandwidth.empty:
        return None
    panels = list(bandwidth.groupby("machine", sort=False))
    figure = _figure(min(10.0, 5.5 * len(panels) + 0.5), 4.6)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for axis, (machine, group) in zip(axes, panels):
        for (pinned, non_blocking), line in group.groupby(["pin_memory", "non_blocking"], sort=False):
            line = line.sort_values("bytes")
            axis.errorbar(line["bytes"], line["gb_s"], yerr=[line["gb_s"] - line["gb_s_low"],
                                                             line["gb_s_high"] - line["gb_s"]],
                          linestyle="-" if non_blocking else "--", marker="o", capsize=3,
                          color="#2171b5" if pinned else "#e6550d",
                          label=f"{'pinned' if pinned else 'pageable'}, {'non_blocking' if non_blocking else 'blocking'}")
        limits = pd.to_numeric(group["pcie_theoretical_gb_s"], errors="coerce").dropna()
        if not limits.empty:
            axis.axhline(limits.max(), color="black", linestyle=":", label=f"PCIe theoretical ({limits.max():.1f} GB/s)")
        axis.set_xscale("log", base=2)
        sizes = sorted(set(group["bytes"]))
        axis.xaxis.set_major_locator(FixedLocator(sizes))
        axis.xaxis.set_minor_locator(NullLocator())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: size(value)))
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
        axis.set_xlabel("copy size")
        axis.set_ylabel("host→device GB/s")
        axis.set_ylim(0, max([*limits, *group["gb_s_high"]]) * 1.12)
        axis.set_title(f"Host→device copies · {machine}", fontsize=10)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="upper left")
    return figure


def draw_all(tables: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """filename -> PNG bytes for every plot the rows allow."""
    figures = {THROUGHPUT_PNG: throughput_figure(tables["pipelines"]),
               SETTINGS_PNG: settings_figure(tables["settings"]),
               BANDWIDTH_PNG: bandwidth_figure(tables["bandwidth"])}
    return {name: png_bytes(figure) for name, figure in figures.items() if figure is not None}


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    return buffer.getvalue()
