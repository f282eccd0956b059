"""CI runs the Colab notebook on the CPU under the quick profile (installation skipped), so it cannot rot."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import REPO_ROOT

# Installed by the [test] extra; skipped, not a collection error, where only the runtime is (a GPU box).
nbformat = pytest.importorskip("nbformat")
NotebookClient = pytest.importorskip("nbclient").NotebookClient

NOTEBOOK = REPO_ROOT / "notebooks" / "mnist_bench_colab.ipynb"
KERNEL_NAME = "mnist-bench-test"
CELL_TIMEOUT_S = 600


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch) -> str:
    """A kernelspec whose kernel is this interpreter (the venv's python), found through JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mnist-bench (test venv)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL_NAME


def _outputs(notebook, mime: str) -> list[str]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if mime in data:
                found.append(data[mime])
    return found


def _repo_results() -> set:
    folder = REPO_ROOT / "results"
    return {path.relative_to(folder) for path in folder.rglob("*")} if folder.is_dir() else set()


@pytest.mark.slow
def test_notebook_runs_the_quick_profile_and_shows_the_report(venv_kernel, fashion_dir, tmp_path, monkeypatch):
    results = tmp_path / "results"
    for name, value in {"MNIST_BENCH_SKIP_INSTALL": "1", "MNIST_BENCH_PROFILE": "quick",
                        "MNIST_BENCH_DATASET": "fashion-mnist", "MNIST_BENCH_DATA_ROOT": str(fashion_dir),
                        "MNIST_BENCH_RESULTS_DIR": str(results),
                        "CUDA_VISIBLE_DEVICES": ""}.items():  # the CPU view, as the other session tests
        monkeypatch.setenv(name, value)
    repo_results = _repo_results()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel starts in notebooks/, as when the notebook is opened there; it finds the checkout itself.
    NotebookClient(notebook, kernel_name=venv_kernel, timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    runs = sorted(results.glob("run-*.json"))
    assert len(runs) == 1
    report_dir = runs[0].with_suffix("")
    assert (report_dir / "report.md").is_file() and (report_dir / "report.html").is_file()
    assert _repo_results() == repo_results  # nothing written into the repository's results/

    markdown = _outputs(notebook, "text/markdown")
    assert any("## The answer" in text and "## Findings" in text for text in markdown)
    assert len(_outputs(notebook, "image/png")) == len(list(report_dir.glob("*.png"))) >= 2
    html = " ".join(_outputs(notebook, "text/html"))
    assert "samples_per_s" in html and "delta_pct_verdict" in html  # the DataFrame API's tables
    stdout = " ".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
                      if output.get("name") == "stdout")
    assert "installation skipped" in stdout and "--bench-profile=quick" in stdout
    assert f"python: {sys.executable}" in stdout  # the kernel ran the venv's interpreter
