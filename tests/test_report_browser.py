"""report.html as a user sees it, in a real browser: Debian's headless Chromium, driven by Playwright.

Each report is copied alone into an empty folder first (as when downloaded from Colab), so a picture that
is not embedded would show as broken. Checked on the rendered page: no broken image, the answer block
within the first 900 px of a 1400x900 window, and no horizontal overflow at 800 px.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mnist_core.report import write_report

from report_data import gpu_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
MEASURE = """() => ({
  scroll_width: document.documentElement.scrollWidth,
  width: window.innerWidth,
  answer_bottom: document.getElementById("answer").getBoundingClientRect().bottom + window.scrollY,
  images: Array.from(document.images).map(image => ({complete: image.complete, width: image.naturalWidth})),
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
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        return page.evaluate(MEASURE)
    finally:
        page.close()


@pytest.fixture(scope="module")
def reports(quick_run, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("browser")
    gpu = root / "run-gpu.json"
    gpu.write_text(json.dumps(gpu_run()))
    return {"cpu": write_report([quick_run], root / "cpu").out_dir, "gpu": write_report([gpu], root / "gpu").out_dir}


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
def test_the_report_reads_alone_in_a_browser(browser, reports, tmp_path, kind):
    page = alone(reports[kind], tmp_path / "downloaded")
    wide = measure(browser, page, 1400)
    assert wide["images"] and all(image["complete"] and image["width"] > 0 for image in wide["images"]), wide["images"]
    assert wide["answer_bottom"] <= 900, f"the answer ends at {wide['answer_bottom']:.0f} px"
    assert wide["scroll_width"] <= wide["width"]
    narrow = measure(browser, page, 800)
    assert narrow["scroll_width"] <= narrow["width"], f"{narrow['scroll_width']} px wide in an 800 px window"
