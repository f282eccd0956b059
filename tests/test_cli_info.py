import subprocess
import sys

import pytest
import torch

from mnist_core.core.data import FILES
from mnist_core.core.idx import write_idx_images, write_idx_labels
from mnist_core.measure import hardware, nvml

from cli_helpers import assert_one_line_error, run_cli
from fake_nvml import FakeNvml
from test_data import write_small_dataset


def run_info(capsys, *args):
    return run_cli(capsys, "info", "--no-download", *args)


@pytest.fixture
def no_gpu(monkeypatch):
    """The view of a machine without an NVIDIA driver, on any machine: info asks NVML, not torch."""
    monkeypatch.setattr(nvml, "_pynvml", FakeNvml(init_fails=True))


@pytest.fixture
def fake_gpu(monkeypatch):
    """One fake GPU, and a torch built for CUDA 12.4."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(nvml, "_pynvml", FakeNvml())
    monkeypatch.setattr(hardware, "torch_cuda_build", lambda: "12.4")


def test_info_shows_machine_and_dataset(capsys, fashion_dir, no_gpu, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    code, out, err = run_info(capsys, "--dataset", "fashion-mnist", "--data-root", str(fashion_dir))
    assert code == 0, err
    assert "no CUDA GPU" in out and "fashion-mnist" in out and "60,000" in out and "10,000" in out
    assert "torch threads: its default" in out and "not read" in out  # said as what it is, not a number read
    assert torch.__version__ in out and f"CUDA build {torch.version.cuda or 'none'}" in out


def test_info_shows_the_gpu_nvml_sees_and_accepts_cuda(capsys, fake_gpu, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    code, out, err = run_info(capsys, "--device", "cuda", "--dataset", "synthetic")
    assert code == 0, err
    assert "Fake GPU 0 x1, 81920 MiB, driver 550.54.15 (CUDA 12.4)" in out
    assert "torch threads 3 (OMP_NUM_THREADS)" in out and "CUDA build 12.4" in out
    assert "cuda-mlp-dataloader" in out


def test_info_refuses_cuda_with_a_cpu_only_torch(capsys, fake_gpu, monkeypatch):
    monkeypatch.setattr(hardware, "torch_cuda_build", lambda: None)
    code, _, err = run_info(capsys, "--device", "cuda", "--dataset", "synthetic")
    assert_one_line_error(code, err, "no CUDA GPU")


@pytest.mark.parametrize("visible", ["", "-1", "none"])
def test_info_sees_no_gpu_when_cuda_visible_devices_hides_them(capsys, fake_gpu, monkeypatch, visible):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    code, out, _ = run_info(capsys, "--dataset", "synthetic")
    assert code == 0 and "no CUDA GPU" in out
    code, _, err = run_info(capsys, "--device", "cuda", "--dataset", "synthetic")
    assert_one_line_error(code, err, "no CUDA GPU")


def test_info_validates_the_files_and_gives_their_sizes(capsys, tmp_path, mnist_t10k):
    folder = write_small_dataset(tmp_path / "ds", mnist_t10k)
    code, out, err = run_info(capsys, "--data-root", str(folder))
    assert code == 0, err
    assert "train 600, test 200 images of 28x28, files validated" in out


@pytest.fixture
def broken_root(tmp_path, mnist_t10k):
    return write_small_dataset(tmp_path / "ds", mnist_t10k, gz=False)


def test_missing_folder(capsys, tmp_path):
    code, _, err = run_info(capsys, "--data-root", str(tmp_path / "missing"))
    assert_one_line_error(code, err, "does not exist")


def test_truncated_file(capsys, broken_root):
    path = broken_root / FILES["test_images"]
    path.write_bytes(path.read_bytes()[:-10])
    code, _, err = run_info(capsys, "--data-root", str(broken_root))
    assert_one_line_error(code, err, "truncated or padded")


def test_wrong_magic(capsys, broken_root, mnist_t10k):
    write_idx_labels(broken_root / FILES["train_images"], mnist_t10k[1][:600])
    code, _, err = run_info(capsys, "--data-root", str(broken_root))
    assert_one_line_error(code, err, "wrong magic number")


def test_label_out_of_range(capsys, broken_root, mnist_t10k):
    labels = mnist_t10k[1][:600].clone()
    labels[0] = 200
    write_idx_labels(broken_root / FILES["train_labels"], labels)
    code, _, err = run_info(capsys, "--data-root", str(broken_root))
    assert_one_line_error(code, err, "out of range 0-9")


def test_count_mismatch(capsys, broken_root, mnist_t10k):
    write_idx_images(broken_root / FILES["train_images"], mnist_t10k[0][:599])
    code, _, err = run_info(capsys, "--data-root", str(broken_root))
    assert_one_line_error(code, err, "599 images but")


@pytest.mark.parametrize("args, fragment", [
    (["--batch-size", "0"], "batch_size must be >= 1, got 0"),
    (["--num-workers", "-1"], "num_workers must be >= 0, got -1"),
    (["--device", "cuda"], "no CUDA GPU"),
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
])
def test_bad_settings(capsys, args, fragment, no_gpu):
    code, _, err = run_info(capsys, *args)
    assert_one_line_error(code, err, fragment)


def test_console_script_exit_code_and_debug(tmp_path):
    """The real entry point: exit 2 and one line; --debug shows the traceback."""
    command = [sys.executable, "-m", "mnist_core.commands.cli", "info", "--data-root", str(tmp_path / "nope")]
    plain = subprocess.run(command, capture_output=True, text=True)
    assert plain.returncode == 2 and plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    debug = subprocess.run(command[:3] + ["--debug"] + command[3:], capture_output=True, text=True)
    assert "Traceback" in debug.stderr and "DatasetError" in debug.stderr


def test_piped_output_is_wide_enough_for_whole_ids(monkeypatch):
    from mnist_core.commands.output import PIPED_WIDTH_COLUMNS, command_console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert command_console().width == PIPED_WIDTH_COLUMNS  # under pytest stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "100")
    assert command_console().width == 100  # the user's setting wins


def test_version_and_help_say_what_each_command_is_for(capsys):
    from mnist_core import __version__

    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"mnist-bench {__version__}"
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "pytest --benchmark-only" in " ".join(out.split())  # where the benchmarks are
    for command in (["info"], ["compare"], ["check"], ["report"], ["baseline"], ["baseline", "save"],
                    ["baseline", "show"]):
        code, out, _ = run_cli(capsys, *command, "--help")
        lines = [line for line in out.splitlines() if line.strip()]
        assert code == 0 and not lines[1].lstrip().startswith(("positional", "options")), (command, out)  # a purpose


def test_info_offline_without_any_dataset_still_shows_the_hardware(capsys, tmp_path, monkeypatch):
    from mnist_core.core import data as data_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data_module, "_download", lambda spec, root: "URLError: no network")
    code, out, err = run_info(capsys, "--dataset", "mnist")
    assert "CPU" in out and "torch" in out and "not found" in out  # the hardware, and the dataset row
    assert_one_line_error(code, err, "mnist not found", "put the four IDX files")
    code, out, err = run_info(capsys)  # no dataset named: the suite's fallbacks
    assert code == 0, err
    assert "why this dataset" in out
