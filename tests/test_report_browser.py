"""report.html as a user sees it, in a real browser: Debian's headless Chromium, driven by Playwright.

Each report is copied alone into an empty folder first (as when downloaded from Colab), so a picture that
is not embedded would show as broken. Checked on the rendered page: no broken image, the answer block
within the first 900 px of a 1400x900 window; at 1400, 800 and 390 px (a phone, 390x844) no horizontal
overflow of the page nor of any table inside its box, and every plot's smallest text at MIN_TEXT_PX or more
as shown (its SVG's font size scaled by the width it is drawn at); on the phone the answer's first line
within the first screen.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from mnist_core.report import write_report

from report_data import gpu_run, relabelled

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
MIN_TEXT_PX = 9.0
PHONE = (390, 844)
MEASURE = """() => ({
  scroll_width: document.documentElement.scrollWidth,
  width: window.innerWidth,
  answer_bottom: document.getElementById("answer").getBoundingClientRect().bottom + window.scrollY,
  first_answer_bottom: document.querySelector("#answer li").getBoundingClientRect().bottom + window.scrollY,
  tables_overflowing: Array.from(document.querySelectorAll(".table"))
    .filter(box => box.getClientRects().length && box.scrollWidth > box.clientWidth + 1)
    .map(box => box.closest("section").id),
  images: Array.from(document.images).map(image => {
    const svg = atob(image.currentSrc.split(",")[1]);
    const width = parseFloat(svg.match(/viewBox="0 0 ([0-9.]+) /)[1]);
    const sizes = Array.from(svg.matchAll(/font-size: ([0-9.]+)px/g), match => parseFloat(match[1]));
    const shown = image.getBoundingClientRect().width;
    return {complete: image.complete, width: image.naturalWidth, alt: image.alt,
            smallest_text_px: Math.min(...sizes) * shown / width};
  }),
})"""


@pytest.fixture(scope="module")
def browser():
    missing = ("needs Debian's chromium (apt-get install chromium) and playwright (pip install -e '.[test]')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if CHROMIUM is None or sync_playwright is None:
        if os.environ.get("MNIST_BENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def alone(report_dir: Path, empty: Path) -> Path:
    empty.mkdir()
    return Path(shutil.copy(report_dir / "report.html", empty / "report.html"))


def measure(browser, page_path: Path, width: int, height: int = 900) -> dict:
    """The page's layout at `width`, with every plot's SVG read back from the source the browser chose."""
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        return page.evaluate(MEASURE)
    finally:
        page.close()


H100_RUN = REPO_ROOT / "docs/evidence/gpu-nvidia-h100-16core/run-20261126T163617Z-nvidia-h100-80gb-hbm3.json"


@pytest.fixture(scope="module")
def report_dir(request, tmp_path_factory):
    """The report folder of one kind: this machine's real quick run (cpu), the committed H100 run with both
    devices (h100), a made-up H100 run (gpu), and two made-up machines side by side (machines)."""
    def write(kind: str) -> Path:
        root = tmp_path_factory.mktemp(kind)
        if kind == "cpu":
            return write_report([request.getfixturevalue("quick_run")], root / "report").out_dir
        if kind == "h100":
            return write_report([H100_RUN], root / "report").out_dir
        gpu = root / "run-gpu.json"
        gpu.write_text(json.dumps(gpu_run()))
        runs = [gpu]
        if kind == "machines":
            other = root / "run-other-gpu.json"
            other.write_text(json.dumps(relabelled(gpu_run(), cpu_model="AMD EPYC 9654",
                                                   gpu_name="NVIDIA A100-SXM4-40GB")))
            runs.append(other)
        return write_report(runs, root / "report").out_dir
    return write


def check_layout(found: dict, width: int) -> None:
    assert found["images"] and all(image["complete"] and image["width"] > 0 for image in found["images"]), \
        found["images"]
    assert found["scroll_width"] <= found["width"], f"{found['scroll_width']} px wide in a {width} px window"
    assert not found["tables_overflowing"], f"tables wider than the page at {width} px: {found['tables_overflowing']}"
    small = [(image["alt"], round(image["smallest_text_px"], 1)) for image in found["images"]
             if image["smallest_text_px"] < MIN_TEXT_PX]
    assert not small, f"plot text under {MIN_TEXT_PX} px at {width} px: {small}"


@pytest.mark.parametrize("kind", ["cpu", "h100", "gpu", "machines"])
def test_the_report_reads_alone_in_a_browser(browser, report_dir, tmp_path, kind):
    page = alone(report_dir(kind), tmp_path / "downloaded")
    wide = measure(browser, page, 1400)
    check_layout(wide, 1400)
    if kind != "machines":  # the answers of several machines run longer than one screen
        assert wide["answer_bottom"] <= 900, f"the answer ends at {wide['answer_bottom']:.0f} px"
    check_layout(measure(browser, page, 800), 800)
    phone = measure(browser, page, *PHONE)
    check_layout(phone, PHONE[0])
    assert phone["first_answer_bottom"] <= PHONE[1], f"the answer starts below the first screen on a phone"
