"""The main job's command line: both ways of giving a path value, and a session that measured nothing fails.

pytest picks its rootdir before it knows the plugin's options, so `--data-root /abs/path` (a space, no '=')
can make it take the path for a test path, miss pyproject.toml, collect tests/ instead of bench/ and end
green with nothing measured (pytest-dev/pytest#8846).
"""

import subprocess
import sys

import pytest

from conftest import FASHION_DIR, REPO_ROOT, cpu_session_env, saved_runs
from mnist_core.runs.runfile import load_run

pytestmark = pytest.mark.slow


def session(cwd, *args, timeout_s=300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "--benchmark-only", "--bench-profile=quick", "--dataset=fashion-mnist",
               "--no-report", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=cpu_session_env())


def test_a_space_separated_path_that_misroots_pytest_is_refused_with_the_fix(tmp_path, fashion_dir):
    """The issue's own command, from the repository root: refused before anything runs, naming the '=' form."""
    results = tmp_path / "out"
    results.mkdir()
    completed = session(REPO_ROOT, "-k", "train and resident", "--data-root", str(FASHION_DIR),
                        "--results-dir", str(results))
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output
    (line,) = [line for line in output.splitlines() if line.strip()]
    assert line.startswith(f"ERROR: write --data-root={FASHION_DIR} (with '=')") and "pytest-dev/pytest#8846" in line
    assert list(results.iterdir()) == []


def test_the_equals_form_from_the_repository_root_measures_the_selected_row(tmp_path, fashion_dir):
    results = tmp_path / "out"
    completed = session(REPO_ROOT, "-k", "loader and resident", f"--data-root={FASHION_DIR}",
                        f"--results-dir={results}")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert f"rootdir: {REPO_ROOT}" in completed.stdout
    (path,) = saved_runs(results)
    assert [bench["name"] for bench in load_run(path)["benchmarks"]] == ["test_loader[cpu-mlp-resident-bs128]"]


@pytest.mark.parametrize("selection, reason", [
    (["-k", "cuda and resident", "--devices=cpu,cuda"], "selected benchmarks were skipped"),  # no GPU visible
    (["-k", "nosuchrow"], "no benchmark of"),
])
def test_a_benchmark_only_session_that_measured_nothing_fails_with_one_line(tmp_path, fashion_dir, selection, reason):
    results = tmp_path / "out"
    completed = session(REPO_ROOT, *selection, f"--data-root={FASHION_DIR}", f"--results-dir={results}")
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, output
    (line,) = [line for line in output.splitlines() if "measured nothing" in line]
    assert reason in line and "Traceback" not in output
    assert saved_runs(results) == []
