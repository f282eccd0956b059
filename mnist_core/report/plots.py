"""The report's plots: matplotlib's object API with the Agg canvas (no pyplot, no global backend),
so drawing works headless and never changes a notebook's backend. Each function returns a Figure,
or None when the run has no rows for it; `save_png` is the only I/O."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from mnist_core.report.formatting import rate, signed_pct, size
from mnist_core.report.tables import flag, measured

DEVICE_NAME = {"cpu": "CPU", "cuda": "GPU"}
LOADER_COLOURS = {("cpu", "dataloader"): "#9ecae1", ("cpu", "resident"): "#2171b5",
                  ("cuda", "dataloader"): "#fdae6b", ("cuda", "resident"): "#e6550d",
                  ("cuda", "resident-graph"): "#a63603"}
MODEL_MARKERS = {"mlp": "o", "cnn": "s"}
MACHINE_STYLES = ("-", "--", ":", "-.")
MAX_ANNOTATED_BARS = 24
MAX_LABELLED_POINTS = 12

THROUGHPUT_PNG = "throughput_vs_batch.png"
TRANSFER_PNG = "transfer_settings.png"
BANDWIDTH_PNG = "h2d_bandwidth.png"
PLOT_FILES = (THROUGHPUT_PNG, TRANSFER_PNG, BANDWIDTH_PNG)


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _batch_axis(axis, batches) -> None:
    axis.set_xscale("log", base=2)
    axis.xaxis.set_major_locator(FixedLocator(sorted(batches)))
    axis.xaxis.set_minor_locator(NullLocator())
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def throughput_figure(frame: pd.DataFrame) -> Figure | None:
    """Training samples/s vs batch size, log-log: one line per device/pipeline/model (and machine)."""
    train = measured(frame, "train")
    if train.empty:
        return None
    machines = list(dict.fromkeys(train["machine"]))
    several = len(machines) > 1
    figure = _figure(9, 5.5)
    axis = figure.add_subplot()
    lines = list(train.groupby(["machine", "device", "loader", "model"], sort=False))
    label_points = sum(group["batch_size"].nunique() for _, group in lines) <= MAX_LABELLED_POINTS
    for (machine, device, loader, model), group in lines:
        # Per batch size the best row of this pipeline (the DataLoader has several settings per size).
        best = group.loc[group.groupby("batch_size")["samples_per_s"].idxmax()].sort_values("batch_size")
        label = f"{DEVICE_NAME.get(device, device)} · {loader} · {model.upper()}" + (f" · {machine}" if several else "")
        axis.plot(best["batch_size"], best["samples_per_s"], MACHINE_STYLES[machines.index(machine) % len(MACHINE_STYLES)],
                  marker=MODEL_MARKERS.get(model, "D"), markersize=7, color=LOADER_COLOURS.get((device, loader), "grey"),
                  label=label)
        if label_points:
            for x, y in zip(best["batch_size"], best["samples_per_s"]):
                axis.annotate(rate(y), (x, y), textcoords="offset points", xytext=(9, 3), fontsize=8)
    references = train[flag(train["reference"])]
    for _, row in references.iterrows():
        axis.plot([row["batch_size"]], [row["samples_per_s"]], marker="*", markersize=20, markerfacecolor="none",
                  markeredgecolor="black", linestyle="none")
    for batch, group in references.groupby("batch_size"):  # one label for the references at one size
        names = ", ".join(f"{DEVICE_NAME.get(device, device)} {rate(value)}"
                          for device, value in zip(group["device"], group["samples_per_s"]))
        axis.annotate(f"tutorial reference ({names})" if not several else "tutorial reference",
                      (batch, group["samples_per_s"].min()), textcoords="offset points", xytext=(9, -14), fontsize=8)
    _batch_axis(axis, set(train["batch_size"]))
    axis.set_yscale("log")
    axis.set_xlabel("batch size (samples per step, log scale)")
    axis.set_ylabel("training throughput (samples/s, log scale)")
    axis.set_title("Training throughput vs batch size\n(best setting per pipeline at each size; ☆ = tutorial reference)",
                   fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.margins(x=0.15, y=0.1)
    axis.legend(fontsize=8, loc="best")
    return figure


def _combo(row) -> str:
    parts = [f"{int(row['num_workers'])} workers"]
    if row["pin_memory"] is not None and not pd.isna(row["pin_memory"]):
        parts.append("pin" if row["pin_memory"] else "no pin")
        parts.append("non_blocking" if row["non_blocking"] else "blocking")
    return ", ".join(parts)


def transfer_settings_figure(settings: pd.DataFrame) -> Figure | None:
    """Grouped bars: per batch size, samples/s of each workers x pin_memory x non_blocking combination."""
    if settings.empty:
        return None
    panels = list(settings.groupby(["machine", "device"], sort=False))
    bars = sum(len(group) for _, group in panels)
    figure = _figure(max(8.0, min(18.0, 2.5 + 0.45 * bars)), 4.4 * len(panels))
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    annotate = bars <= MAX_ANNOTATED_BARS
    for axis, ((machine, device), group) in zip(axes, panels):
        group = group.assign(combo=[_combo(row) for _, row in group.iterrows()])
        combos = list(dict.fromkeys(group["combo"]))
        batches = sorted(set(group["batch_size"]))
        span = min(0.8, 0.25 * len(combos))  # one bar need not fill its group
        width = span / len(combos)
        colours = [f"C{index % 10}" for index in range(len(combos))]
        for index, combo in enumerate(combos):
            for position, batch in enumerate(batches):
                cell = group[(group["combo"] == combo) & (group["batch_size"] == batch)]
                if cell.empty:
                    continue
                row = cell.iloc[0]
                x = position - span / 2 + width * (index + 0.5)
                axis.bar(x, row["samples_per_s"], width * 0.92, color=colours[index],
                         hatch="//" if row["reference"] else None, edgecolor="black" if row["best"] else "white",
                         linewidth=2 if row["best"] else 0.5)
                if annotate:
                    note = "ref" if row["reference"] else (signed_pct(row["delta_vs_reference_pct"])
                                                           if not pd.isna(row["delta_vs_reference_pct"]) else "")
                    axis.annotate(note + (" ★" if row["best"] else ""), (x, row["samples_per_s"]),
                                  textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
        axis.set_xticks(range(len(batches)), [str(int(batch)) for batch in batches])
        axis.set_xlabel("batch size (samples per step)")
        axis.set_ylabel("training throughput (samples/s)")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: rate(value)))
        axis.margins(y=0.15)
        note = "" if device == "cuda" else "\npin_memory and non_blocking cannot act on the CPU: workers only"
        axis.set_title(f"DataLoader settings · tutorial MLP · {DEVICE_NAME.get(device, device)} · {machine}\n"
                       "hatched = tutorial reference · thick edge, ★ = best at that batch size · label = Δ vs reference"
                       f"{note}", fontsize=9)
        axis.set_xlim(-0.6, len(batches) - 0.4)
        axis.grid(True, axis="y", alpha=0.3)
        axis.legend(handles=[Patch(facecolor=colour, label=combo) for colour, combo in zip(colours, combos)],
                    fontsize=7, ncols=min(4, len(combos)), loc="upper left")
    return figure


def bandwidth_figure(bandwidth: pd.DataFrame) -> Figure | None:
    """Host-to-device GB/s vs copy size, pinned vs pageable, with the PCIe link's theoretical limit."""
    if bandwidth.empty:
        return None
    panels = list(bandwidth.groupby("machine", sort=False))
    figure = _figure(7.5 * len(panels), 5.5)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for axis, (machine, group) in zip(axes, panels):
        for (pinned, non_blocking), line in group.groupby(["pin_memory", "non_blocking"], sort=False):
            line = line.sort_values("bytes")
            axis.plot(line["bytes"], line["gb_s"], "-" if non_blocking else "--", marker="o",
                      color="#2171b5" if pinned else "#e6550d",
                      label=f"{'pinned' if pinned else 'pageable'}, {'non_blocking' if non_blocking else 'blocking'}")
        limits = pd.to_numeric(group["pcie_theoretical_gb_s"], errors="coerce").dropna()
        if not limits.empty:
            link = group["pcie_link"].dropna()
            axis.axhline(limits.max(), color="black", linestyle=":",
                         label=f"PCIe {link.iloc[0] if not link.empty else ''} theoretical ({limits.max():.1f} GB/s)")
        axis.set_xscale("log", base=2)
        sizes = sorted(set(group["bytes"]))
        axis.xaxis.set_major_locator(FixedLocator(sizes))
        axis.xaxis.set_minor_locator(NullLocator())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: size(value)))
        axis.set_xlabel("copy size (bytes, log scale)")
        axis.set_ylabel("host→device bandwidth (GB/s, 10⁹ bytes/s)")
        top = max([*limits, *pd.to_numeric(group["gb_s"], errors="coerce").dropna()])
        axis.set_ylim(0, top * 1.12)
        axis.margins(x=0.08)
        axis.set_title(f"Host→device copies · {machine}")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3)
    return figure


def draw_all(frame: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> dict[str, Figure]:
    """filename -> Figure for every plot the rows allow."""
    figures = {
        THROUGHPUT_PNG: throughput_figure(frame),
        TRANSFER_PNG: transfer_settings_figure(tables["transfer_settings"]),
        BANDWIDTH_PNG: bandwidth_figure(tables["bandwidth"]),
    }
    return {name: figure for name, figure in figures.items() if figure is not None}


def save_png(figure: Figure, path: Path, dpi: int = 110) -> Path:
    figure.savefig(path, dpi=dpi, format="png")
    return path


__all__ = ["PLOT_FILES", "bandwidth_figure", "draw_all", "save_png", "throughput_figure",
           "transfer_settings_figure"]
