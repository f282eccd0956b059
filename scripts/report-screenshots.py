"""Viewport screenshots (1400x900, 390x844) of the committed reports, for docs/evidence/screenshots/.

Usage: python scripts/report-screenshots.py OUT_DIR GPU_REPORT.html CPU_REPORT.html MACHINES_REPORT.html
(Debian's /usr/bin/chromium, driven by Playwright; never a downloaded browser)."""
import sys
from pathlib import Path
from playwright.sync_api import sync_playwright

out = Path(sys.argv[1])
shots = [  # (name, report, width, height, selector to scroll to or None)
    ("gpu-report-1400", sys.argv[2], 1400, 900, None),
    ("gpu-report-390", sys.argv[2], 390, 844, None),
    ("gpu-report-1400-crossover", sys.argv[2], 1400, 900, "#cpu-vs-gpu h2"),
    ("gpu-report-390-crossover", sys.argv[2], 390, 844, "#cpu-vs-gpu figure"),
    ("gpu-report-1400-settings", sys.argv[2], 1400, 900, "#settings h3"),
    ("gpu-report-390-settings", sys.argv[2], 390, 844, "#settings h3"),
    ("gpu-report-390-settings-chart", sys.argv[2], 390, 844, "#settings figure"),
    ("gpu-report-390-throughput", sys.argv[2], 390, 844, "#pipelines figure"),
    ("cpu-report-1400", sys.argv[3], 1400, 900, None),
    ("cpu-report-390", sys.argv[3], 390, 844, None),
    ("machines-report-1400-throughput", sys.argv[4], 1400, 900, "#pipelines figure"),
    ("machines-report-1400-side-by-side", sys.argv[4], 1400, 900, "#machines h2"),
    ("machines-report-390-side-by-side", sys.argv[4], 390, 844, "#machines h2"),
]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    for name, report, width, height, selector in shots:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(Path(report).resolve().as_uri())
        page.wait_for_load_state("load")
        if "side-by-side" in name:
            page.evaluate("document.querySelectorAll('#machines details').forEach(d => d.open = true)")
        if selector:
            page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(out / f"{name}.png"))
        page.close()
    browser.close()
