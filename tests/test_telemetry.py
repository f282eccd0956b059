"""NvmlSampler summaries, torch peak memory, the PCIe ceiling, and machine_summary."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from fake_nvml import MIB, FakeNvml

from mnist_core.measure import hardware, nvml
from mnist_core.measure.nvml import NvmlGpu
from mnist_core.measure.telemetry import (
    TELEMETRY_KEYS,
    Telemetry,
    NvmlSampler,
    null_telemetry,
    pcie_theoretical_gb_s,
    reset_torch_peak,
    torch_memory_mib,
)

SAMPLER_KEYS = tuple(key for key in TELEMETRY_KEYS if not key.startswith("torch_") and key != "telemetry_untimed_rounds")
READING_KEYS = tuple(key for key in SAMPLER_KEYS if not key.startswith("telemetry_"))
# Long enough that the background thread never samples: the summary is deterministic.
NO_BACKGROUND_S = 60.0
# Event.wait timeout for background samples; generous, never asserted as a duration.
WAIT_S = 5.0


@pytest.fixture(autouse=True)
def _no_torch_uuid(monkeypatch):
    monkeypatch.setattr(nvml, "_torch_uuid", lambda torch_index: None)


def test_summary_means_and_maxes_over_the_fake_sequence():
    lib = FakeNvml(
        util_pct=[10, 30],
        mem_used_bytes=[512 * MIB, 1024 * MIB],
        power_mw=[100_000, 200_000],
        sm_clock_mhz=[1500, 1700],
        rx_kb_s=[2000, 4000],
        tx_kb_s=[1000, 3000],
    )
    with NvmlGpu(0, lib=lib) as gpu:
        with NvmlSampler(gpu, interval_s=NO_BACKGROUND_S) as sampler:
            sampler.sample()  # with the sample stop() takes: two readings of each series
        summary = sampler.summary()
    assert sampler.sample_count == 2
    assert set(summary) == set(SAMPLER_KEYS)
    assert summary["telemetry_samples"] == 2 and summary["telemetry_window_s"] >= 0
    assert summary["gpu_util_mean_pct"] == pytest.approx(20.0)
    assert summary["gpu_util_max_pct"] == pytest.approx(30.0)
    assert summary["gpu_mem_used_max_mib"] == pytest.approx(1024.0)
    assert summary["gpu_power_mean_w"] == pytest.approx(150.0)
    assert summary["gpu_sm_clock_mean_mhz"] == pytest.approx(1600.0)
    assert summary["pcie_rx_mean_mb_s"] == pytest.approx(3.0)
    assert summary["pcie_tx_mean_mb_s"] == pytest.approx(2.0)
    # The link's maximum, as machine_info has it, and apart from it the highest current link seen.
    assert (summary["pcie_link_gen"], summary["pcie_link_width"]) == (5, 16)
    assert (summary["pcie_link_gen_seen_max"], summary["pcie_link_width_seen_max"]) == (4, 16)


def test_no_sample_before_the_region_starts():
    """A start sample would read the idle time before the region; the only samples come after start()."""
    lib = FakeNvml(util_pct=[0])
    with NvmlGpu(0, lib=lib) as gpu:
        sampler = NvmlSampler(gpu, interval_s=NO_BACKGROUND_S).start()
        assert sampler.sample_count == 0 and lib.calls.get("nvmlDeviceGetUtilizationRates:util", 0) == 0
        sampler.stop()
    assert sampler.sample_count == 1


def test_background_thread_samples_until_stopped():
    lib = FakeNvml(util_pct=[50])
    lib.util_reads_target = 5
    with NvmlGpu(0, lib=lib) as gpu:
        sampler = NvmlSampler(gpu, interval_s=0.001).start()
        assert lib.util_reads_reached.wait(WAIT_S)
        sampler.stop()
        taken = sampler.sample_count
        assert taken >= 5
        assert sampler.summary()["gpu_util_mean_pct"] == pytest.approx(50.0)
    assert sampler.sample_count == taken  # nothing samples after stop
    sampler.stop()  # a second stop is harmless


def test_failing_reading_is_none_and_the_thread_keeps_running():
    lib = FakeNvml(failing={"nvmlDeviceGetPowerUsage"})
    lib.util_reads_target = 5
    with NvmlGpu(0, lib=lib) as gpu:
        sampler = NvmlSampler(gpu, interval_s=0.001).start()
        assert lib.util_reads_reached.wait(WAIT_S)
        assert sampler._thread is not None and sampler._thread.is_alive()
        sampler.stop()
    summary = sampler.summary()
    assert summary["gpu_power_mean_w"] is None
    assert summary["telemetry_errors"] == {"nvmlDeviceGetPowerUsage": "Not Supported"}  # which query, and why
    for key in SAMPLER_KEYS:
        if key not in ("gpu_power_mean_w", "telemetry_errors"):
            assert isinstance(summary[key], (int, float)), key


class _RaisingGpu:
    """A gpu whose readings raise outright, as a buggy wrapper might."""

    available = True

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name):
        def reading():
            self.calls += 1
            raise RuntimeError(f"{name} exploded")

        return reading


def test_raising_reading_never_kills_the_thread_or_the_caller():
    gpu = _RaisingGpu()
    sampler = NvmlSampler(gpu, interval_s=0.001)
    sampler.start()
    thread = sampler._thread
    assert thread is not None
    # Wait (bounded) until the background thread has sampled a few times.
    for _ in range(1000):
        if sampler.sample_count >= 5:
            break
        thread.join(0.005)
    assert thread.is_alive()
    sampler.stop()
    assert sampler.sample_count >= 5
    summary = sampler.summary()
    assert summary["telemetry_samples"] == sampler.sample_count  # it tried, and says how often ...
    assert {key: summary[key] for key in READING_KEYS} == dict.fromkeys(READING_KEYS)  # ... every reading null
    assert summary["telemetry_errors"]["utilization_pct"].startswith("unexpected")  # ... and why, per reading


@pytest.mark.parametrize("make_gpu", [lambda: None, lambda: NvmlGpu(0, lib=FakeNvml(init_fails=True))])
def test_no_gpu_means_no_thread_and_all_none(make_gpu):
    gpu = make_gpu()
    with NvmlSampler(gpu) as sampler:
        assert sampler._thread is None
    assert sampler.sample_count == 0
    assert sampler.summary() == dict.fromkeys(SAMPLER_KEYS)


def test_library_absent_sampler_all_none(monkeypatch):
    monkeypatch.setattr(nvml, "_pynvml", None)
    gpu = NvmlGpu(0)
    assert not gpu.available and gpu.init_error
    with NvmlSampler(gpu) as sampler:
        pass
    assert sampler.summary() == dict.fromkeys(SAMPLER_KEYS)


def test_null_telemetry_has_every_key_as_none():
    assert null_telemetry() == dict.fromkeys(TELEMETRY_KEYS)
    assert TELEMETRY_KEYS == tuple(field.name for field in dataclasses.fields(Telemetry))
    assert dataclasses.asdict(Telemetry()) == null_telemetry()


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_torch_memory_on_cpu_is_none(device):
    reset_torch_peak(device)  # no-op, must not raise
    assert torch_memory_mib(device) == {
        "torch_peak_allocated_mib": None,
        "torch_peak_reserved_mib": None,
    }


@pytest.mark.parametrize(
    ("gen", "width", "expected"),
    [
        (5, 16, 63.0),
        (3, 16, 15.75),
        (4, 16, 31.5),
        (1, 1, 0.25),
        (6, 16, 121.0),
        (4, 8, 15.75),
    ],
)
def test_pcie_theoretical_gb_s(gen, width, expected):
    assert pcie_theoretical_gb_s(gen, width) == pytest.approx(expected, rel=0.005)


@pytest.mark.parametrize(("gen", "width"), [(None, 16), (4, None), (None, None), (9, 16), (0, 16), (4, 0)])
def test_pcie_theoretical_gb_s_unknown_is_none(gen, width):
    assert pcie_theoretical_gb_s(gen, width) is None


def test_machine_summary_on_this_machine():
    summary = hardware.machine_summary()
    assert summary["cpu_cores_available"] >= 1
    assert summary["cpu_cores"] >= summary["cpu_cores_available"]
    assert summary["torch_version"] == torch.__version__
    assert isinstance(summary["cpu_model"], str) and summary["cpu_model"]
    if not torch.cuda.is_available():
        assert summary["cuda_available"] is False
        assert summary["gpu_name"] is None
        assert summary["gpu_count"] == 0
        for field in hardware.GPU_FIELDS:
            assert summary[field] is None, field
        assert "GPU: no CUDA GPU" in hardware.format_summary_lines(summary)


def test_summary_without_torch_agrees_with_machine_summary(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with_torch, without = hardware.machine_summary(), hardware.summary_without_torch()
    assert without.keys() == with_torch.keys()
    read_alike = ("cpu_model", "cpu_cores", "cpu_cores_available", "torch_version", "torchvision_version",
                  "python_version", "platform", "cuda_version")
    assert {key: without[key] for key in read_alike} == {key: with_torch[key] for key in read_alike}
    assert without["torch_threads"] is None  # torch's own default: not read


def test_summary_without_torch_reads_the_gpu_from_nvml(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(nvml, "_pynvml", FakeNvml(uuids=("GPU-a", "GPU-b")))
    monkeypatch.setattr(hardware, "torch_cuda_build", lambda: "12.4")
    summary = hardware.summary_without_torch()
    assert summary["cuda_available"] and summary["gpu_count"] == 2
    assert (summary["gpu_name"], summary["gpu_memory_mib"], summary["gpu_driver"], summary["gpu_cuda_driver"]) == \
        ("Fake GPU 0", 80 * 1024.0, "550.54.15", "12.4")
    monkeypatch.setattr(nvml, "_pynvml", FakeNvml(init_fails=True))
    summary = hardware.summary_without_torch()
    assert not summary["cuda_available"] and summary["gpu_count"] == 0 and summary["gpu_name"] is None


def test_format_summary_lines_with_a_gpu():
    summary = hardware.machine_summary()
    summary.update(
        cuda_available=True, gpu_name="NVIDIA H100 80GB HBM3", gpu_count=1,
        gpu_memory_mib=81559.0, gpu_driver="550.54.15", gpu_cuda_driver="12.4",
        pcie_link_gen=5, pcie_link_width=16, pcie_theoretical_gb_s=63.008,
    )
    lines = hardware.format_summary_lines(summary)
    assert any(line.startswith("GPU: NVIDIA H100") and "driver 550.54.15" in line for line in lines)
    assert any(line.startswith("PCIe: gen5 x16") and "63.0 GB/s" in line for line in lines)


def test_a_short_region_is_filled_with_untimed_rounds_until_nvml_sees_enough(monkeypatch):
    from bench import timing

    monkeypatch.setattr(timing, "MIN_TELEMETRY_WINDOW_S", 0.05)
    rounds = []
    with NvmlGpu(0, lib=FakeNvml()) as gpu:
        with timing.telemetry_during("cpu", gpu) as window:
            rounds.append("timed")  # a timed region far shorter than NVML's window
            window.fill(lambda: rounds.append("untimed"))
    readings = window.readings
    assert rounds.count("untimed") == readings["telemetry_untimed_rounds"] >= 1
    assert readings["telemetry_window_s"] >= 0.05 and readings["telemetry_samples"] >= 1


def test_no_gpu_means_no_untimed_rounds_and_null_telemetry():
    from bench import timing

    with timing.telemetry_during("cpu", None) as window:
        window.fill(lambda: pytest.fail("a CPU row must not run extra rounds"))
    assert window.readings == dict.fromkeys(TELEMETRY_KEYS)


def test_paused_sampler_takes_no_samples_and_resumes():
    lib = FakeNvml(util_pct=[50])
    lib.util_reads_target = 3
    with NvmlGpu(0, lib=lib) as gpu:
        sampler = NvmlSampler(gpu, interval_s=0.001).start()
        assert lib.util_reads_reached.wait(WAIT_S)
        with sampler.paused():
            during = sampler.sample_count
            for _ in range(50):  # ~50 sampling intervals, waited on the thread itself
                sampler._thread.join(0.001)
            assert sampler.sample_count == during
        lib.util_reads_reached.clear()
        lib.util_reads_target = during + 3
        assert lib.util_reads_reached.wait(WAIT_S)  # sampling again after the block
        sampler.stop()


def test_unsampled_work_runs_with_the_sampler_paused():
    from bench import timing

    seen = []
    with NvmlGpu(0, lib=FakeNvml()) as gpu:
        with timing.telemetry_during("cpu", gpu) as window:
            window.unsampled(lambda: seen.append(window.sampler._resumed.is_set()))()
            seen.append(window.sampler._resumed.is_set())
    assert seen == [False, True]
    assert window.unsampled(None) is None  # no setup: pytest-benchmark gets none


def test_paused_time_is_not_sampled_time(monkeypatch):
    from mnist_core.measure import telemetry

    clock = [100.0]
    monkeypatch.setattr(telemetry.time, "perf_counter", lambda: clock[0])
    with NvmlGpu(0, lib=FakeNvml()) as gpu:
        sampler = NvmlSampler(gpu, interval_s=NO_BACKGROUND_S).start()
        clock[0] += 1.0
        with sampler.paused():
            clock[0] += 2.0  # e.g. the overhead benchmark's bare round
        clock[0] += 1.0
        assert sampler.elapsed_s() == pytest.approx(2.0)
        sampler.stop()
    assert sampler.window_s == pytest.approx(2.0)
