"""The report's plots as drawn: one extreme interval cut at the edge (not flattening the panel), the GPU ÷ CPU
crossover with its 1× line, one colour per machine with the legend off the data, and SVG text sized for a phone."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from matplotlib.lines import Line2D

from conftest import REPO_ROOT
from mnist_core.report import load_runs, report_tables
from mnist_core.report.analysis import crossover
from mnist_core.report.plots import (CROSSOVER_PNG, MIN_FONT_PT, NARROW_IN, WIDE_IN, crossover_figure, draw_all,
                                     settings_figure, throughput_figure, window)

from report_data import gpu_run, relabelled

H100_RUN = REPO_ROOT / "docs/evidence/gpu-nvidia-h100-16core/run-20261126T163617Z-nvidia-h100-80gb-hbm3.json"
CPU_RUN = REPO_ROOT / "docs/evidence/cpu-amd-epyc-2core/run-20261126T154405Z-amd-epyc.json"


def _setting(setting: str, batch: int, delta: float, low: float | None, high: float | None, verdict: str | None,
             reference: bool = False) -> dict:
    return {"machine": "m", "device": "CPU", "setting": setting, "batch_size": batch, "samples_per_s": 1000.0,
            "delta_pct": delta, "delta_pct_low": low, "delta_pct_high": high, "delta_pct_verdict": verdict,
            "reference": reference, "best": False}


def _settings_with_one_wild_interval() -> pd.DataFrame:
    """The shape the issue reported: moderate effects, and one row whose interval reaches +673.3%."""
    return pd.DataFrame([
        _setting("2 workers", 128, 0.0, None, None, None, reference=True),
        _setting("0 workers", 128, -20.0, -30.0, -10.0, "slower"),
        _setting("2 workers", 32, -40.0, -50.0, -30.0, "slower"),
        _setting("0 workers", 32, 144.5, 115.0, 673.3, "faster"),
        _setting("2 workers", 512, 30.0, 20.0, 45.0, "faster"),
        _setting("0 workers", 512, 10.0, -5.0, 25.0, "inconclusive"),
    ])


def test_window_is_exact_when_nothing_reaches_far():
    assert window([0.0, 50.0], [-10.0, 40.0], [10.0, 70.0]) == (-10.0, 70.0)
    assert window([2.0, 8.0], [1.5, 7.0], [2.5, 9.5], log=True) == (1.5, 9.5)


def test_window_cuts_an_interval_that_reaches_past_the_medians_spread():
    low, high = window([-40.0, 0.0, 144.5], [-50.0, 115.0], [-30.0, 673.3])
    assert low == -50.0 and high == pytest.approx(144.5 + (144.5 + 40.0))  # the spread of the medians again
    low, high = window([1.0, 10.0], [0.9, 0.01], [1.1, 12.0], log=True)  # one decade spread: cut a decade below
    assert low == pytest.approx(0.1) and high == 12.0


def test_one_extreme_interval_cannot_flatten_the_settings_chart():
    settings = _settings_with_one_wild_interval()
    figure = settings_figure(settings)
    axes = figure.axes
    right_edges = {axis.get_xlim()[1] for axis in axes}
    assert len(right_edges) == 1  # one scale per device, so panels compare
    right = right_edges.pop()
    assert 144.5 < right < 673.3 / 1.5, f"the axis runs to {right:.0f}%"
    others = settings[settings["delta_pct_high"] < 673.3].dropna(subset=["delta_pct_high"])
    assert right > others["delta_pct_high"].max() and axes[0].get_xlim()[0] < others["delta_pct_low"].min()
    texts = [text.get_text() for axis in axes for text in axis.texts]
    assert "+673.3%" in texts  # the cut end says where it really ends
    arrows = [line for axis in axes for line in axis.lines if line.get_marker() == ">"]
    assert len(arrows) == 1 and arrows[0].get_xdata()[0] == pytest.approx(window(
        [0.0, *settings["delta_pct"]], settings["delta_pct_low"], settings["delta_pct_high"], floor=20.0)[1])


def test_no_arrow_when_every_interval_fits():
    settings = _settings_with_one_wild_interval()
    settings.loc[settings["delta_pct_high"] == 673.3, "delta_pct_high"] = 180.0
    figure = settings_figure(settings)
    assert not [line for axis in figure.axes for line in axis.lines if line.get_marker() in (">", "<")]
    assert max(axis.get_xlim()[1] for axis in figure.axes) > 180.0


def test_the_crossover_chart_plots_gpu_over_cpu_with_the_one_line():
    tables = report_tables(H100_RUN)
    run = load_runs([H100_RUN])[0].run
    cells = crossover(run)
    figure = crossover_figure(tables["crossover"])
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in axis.lines)  # the 1x line
    plotted = {line.get_label(): list(line.get_ydata()) for line in axis.lines if not line.get_label().startswith("_")}
    assert plotted == {family: [judged.effect.ratio for _, judged in judged_cells]
                       for family, judged_cells in cells.items()}
    assert set(plotted) == {"DataLoader (each device's fastest setting)", "resident data, eager step",
                            "CUDA graph on the GPU vs resident data on the CPU"}
    colours = {line.get_color() for line in axis.lines if not line.get_label().startswith("_")}
    assert len(colours) == len(plotted)  # one colour per pipeline, never the grey of an unknown family
    low, high = axis.get_ylim()
    assert low < 1.0 < high


def test_no_crossover_chart_without_both_devices():
    tables = report_tables(CPU_RUN)
    assert tables["crossover"].empty and CROSSOVER_PNG not in draw_all(tables)


def test_several_machines_one_colour_each_and_the_legend_off_the_data(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(gpu_run()))
    second.write_text(json.dumps(relabelled(gpu_run(), cpu_model="AMD EPYC 9654", gpu_name="NVIDIA A100-SXM4-40GB")))
    pipelines = report_tables(first, second)["pipelines"]
    figure = throughput_figure(pipelines)
    series = [line for axis in figure.axes for line in axis.lines if not line.get_label().startswith("_")]
    machines = list(dict.fromkeys(pipelines["machine"]))
    colours = {machine: {line.get_color() for line in series if line.get_label().endswith(machine)}
               for machine in machines}
    assert all(len(found) == 1 for found in colours.values()), colours
    assert len({found.pop() for found in colours.values()}) == len(machines)
    assert all(axis.get_legend() is None for axis in figure.axes) and len(figure.legends) == 1
    figure.canvas.draw()
    legend = figure.legends[0].get_window_extent()
    assert all(not legend.overlaps(axis.get_window_extent()) for axis in figure.axes)


def _svg_fonts(svg: str) -> tuple[float, list[float]]:
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    return width, [float(size) for size in re.findall(r"font-size: ([\d.]+)px", svg)]


@pytest.mark.parametrize("layout, width_in", [("svg", WIDE_IN), ("svg_narrow", NARROW_IN)])
def test_svg_keeps_its_text_as_text_no_smaller_than_the_minimum(layout, width_in, tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(gpu_run()))
    drawings = draw_all(report_tables(path))
    assert set(drawings) >= {CROSSOVER_PNG}
    for name, drawing in drawings.items():
        width_pt, fonts = _svg_fonts(getattr(drawing, layout))
        assert width_pt <= width_in * 72 + 1e-6, name
        assert fonts and min(fonts) >= MIN_FONT_PT, (name, min(fonts))
        assert drawing.png.startswith(b"\x89PNG")


def test_svg_bytes_do_not_change_between_draws(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(gpu_run()))
    tables = report_tables(path)
    assert {name: drawing.svg for name, drawing in draw_all(tables).items()} == \
        {name: drawing.svg for name, drawing in draw_all(tables).items()}


def test_legend_labels_are_real_series():
    """The settings legend names each verdict colour once (a guard against a legend of stray artists)."""
    figure = settings_figure(_settings_with_one_wild_interval())
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels[:4] == ["faster", "slower", "same", "inconclusive"] and len(labels) == 5
    assert all(isinstance(handle, Line2D) for handle in figure.legends[0].legend_handles)


def test_a_point_outside_its_own_interval_still_draws():
    """A median beside the interval of a few rounds can lie outside it (a real quick run did): the bar is drawn
    from the point to the interval's near end, never as a negative length (matplotlib refuses those)."""
    settings = _settings_with_one_wild_interval()
    settings.loc[settings["delta_pct"] == 30.0, ["delta_pct_low", "delta_pct_high"]] = [35.0, 45.0]
    settings.loc[settings["delta_pct"] == -20.0, ["delta_pct_low", "delta_pct_high"]] = [-30.0, -25.0]
    figure = settings_figure(settings)
    assert figure.axes


def test_the_same_plot_drawn_twice_gives_the_same_svg_bytes():
    """matplotlib names clip paths after their objects' id() too: two drawings of one plot differed in a name."""
    from matplotlib.figure import Figure

    from mnist_core.report.plots import svg_text

    def drawing():
        figure = Figure(figsize=(3, 2))
        axis = figure.add_subplot()
        axis.plot([1, 2, 3], [3, 1, 2], marker="o")
        axis.bar([1, 2], [1, 2])
        return svg_text(figure)

    first, second = drawing(), drawing()
    assert 'clip-path="url(#p' in first and not re.search(r'"[a-z][0-9a-f]{10}"', first)
    assert first == second
