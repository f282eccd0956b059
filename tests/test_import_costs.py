"""What is imported costs every user seconds: the commands that read run files, and `info` short of a download,
never load torch, and the benchmark plugin, loaded into every pytest run in the environment (a `pytest11` entry
point), loads it only for a session of bench/. Each check runs in a fresh interpreter, since this one has torch
loaded already.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest

from conftest import REPO_ROOT
from test_data import write_small_dataset

PAIR = REPO_ROOT / "docs" / "evidence" / "cpu-amd-epyc-2core" / "aa" / "quick-2"
ENTRY_POINT_INSTALLED = any(entry.value == "bench.plugin" for entry in entry_points(group="pytest11"))


def modules_after(code: str, cwd) -> tuple[int, set[str]]:
    """(what `code` returned, the top-level modules loaded) in a fresh interpreter."""
    script = textwrap.dedent(f"""
        import json, sys
        result = {code}
        print(json.dumps([result, sorted({{name.split('.')[0] for name in sys.modules}})]))
    """)
    completed = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result, modules = json.loads(completed.stdout.strip().splitlines()[-1])
    return result, set(modules)


def test_the_reading_commands_never_import_torch(tmp_path, mnist_t10k):
    """Each command in turn, in one fresh interpreter, torch looked for after each (the first to load it is named)."""
    results = tmp_path / "results"
    results.mkdir()
    first, second = sorted(PAIR.glob("run-*.json"))
    shutil.copy(first, results)
    dataset = write_small_dataset(tmp_path / "dataset", mnist_t10k)
    commands = [
        ["info", "--no-download", "--data-root", dataset],
        ["info", "--no-download", "--dataset", "synthetic"],
        ["info", "--no-download"],  # whatever this machine has, or the synthetic set
        ["baseline", "save", "--results-dir", results],
        ["baseline", "show", "--results-dir", results],
        ["check", second, "--results-dir", results],
        ["compare", first, second],
        ["report", first, "--out", tmp_path / "report"],
        ["report", "--results-dir", results, "--force"],
    ]
    code = f"""[(' '.join(command), main(command), 'torch' in sys.modules)
                for main in [__import__('mnist_core.commands.cli').commands.cli.main]
                for command in {[[str(part) for part in command] for command in commands]!r}]"""
    ran, modules = modules_after(code, tmp_path)
    assert [(command, exit_code) for command, exit_code, _ in ran if exit_code not in (0, 1)] == []  # 1: a regression
    assert [command for command, _, torch_loaded in ran if torch_loaded] == []
    assert "torchvision" not in modules


def test_importing_the_package_and_its_reading_modules_loads_no_torch(tmp_path):
    modules = ["mnist_core", "mnist_core.runs.runfile", "mnist_core.regress.comparison", "mnist_core.report",
               "mnist_core.commands.cli", "bench.plugin", "bench.settings"]
    _, loaded = modules_after(f"[__import__(name) for name in {modules!r}] and 0", tmp_path)
    assert "torch" not in loaded


def test_the_package_still_exports_its_training_api_on_first_use(tmp_path):
    """`from mnist_core import BenchConfig, load_dataset, fit` (the README's example) still works."""
    names, loaded = modules_after("[name for name in ('BenchConfig', 'load_dataset', 'fit') "
                                  "if callable(getattr(__import__('mnist_core'), name))]", tmp_path)
    assert names == ["BenchConfig", "load_dataset", "fit"] and "torch" in loaded


@pytest.mark.skipif(not ENTRY_POINT_INSTALLED, reason="the package is not installed (pip install -e .): its pytest11 "
                                                      "entry point is what this checks")
def test_the_plugin_costs_a_foreign_pytest_run_no_torch(tmp_path):
    """Someone else's one-test project in the same environment: our plugin loads (its options are known) but
    torch does not."""
    (tmp_path / "test_theirs.py").write_text(textwrap.dedent("""
        import sys

        def test_theirs(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("mnist-bench")  # our entry point loaded
            assert "torch" not in sys.modules, "the mnist-bench plugin imported torch"
    """))
    completed = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "1 passed" in completed.stdout
