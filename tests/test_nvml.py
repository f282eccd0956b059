"""NvmlGpu against a fake pynvml: unit conversion, one failing reading, no library at all."""

from __future__ import annotations

import pytest
from fake_nvml import MIB, FakeNvml

from mnist_core.measure import nvml
from mnist_core.measure.nvml import NvmlGpu

READINGS = (
    "name",
    "driver_version",
    "cuda_driver_version",
    "memory_total_mib",
    "memory_used_mib",
    "utilization_pct",
    "power_w",
    "sm_clock_mhz",
    "pcie_rx_mb_s",
    "pcie_tx_mb_s",
    "pcie_link_gen",
    "pcie_link_width",
    "pcie_link_gen_current",
    "pcie_link_width_current",
)


@pytest.fixture(autouse=True)
def _no_torch_uuid(monkeypatch):
    # Keep handle lookup independent of whether the test machine has a GPU.
    monkeypatch.setattr(nvml, "_torch_uuid", lambda torch_index: None)


def test_working_fake_converts_units():
    lib = FakeNvml(
        util_pct=[37], mem_used_bytes=[1536 * MIB], power_mw=[123_456],
        sm_clock_mhz=[1980], rx_kb_s=[2500], tx_kb_s=[750],
    )
    with NvmlGpu(0, lib=lib) as gpu:
        assert gpu.available and gpu.init_error is None
        assert gpu.name() == "Fake GPU 0"
        assert gpu.driver_version() == "550.54.15"
        assert gpu.cuda_driver_version() == "12.4"
        assert gpu.memory_total_mib() == pytest.approx(80 * 1024)
        assert gpu.memory_used_mib() == pytest.approx(1536.0)  # bytes -> MiB
        assert gpu.utilization_pct() == pytest.approx(37.0)
        assert gpu.power_w() == pytest.approx(123.456)  # mW -> W
        assert gpu.sm_clock_mhz() == pytest.approx(1980.0)
        assert gpu.pcie_rx_mb_s() == pytest.approx(2.5)  # KB/s -> MB/s
        assert gpu.pcie_tx_mb_s() == pytest.approx(0.75)
        assert (gpu.pcie_link_gen(), gpu.pcie_link_width()) == (5, 16)
        assert (gpu.pcie_link_gen_current(), gpu.pcie_link_width_current()) == (4, 16)
    assert lib.init_count == 1 and lib.shutdown_count == 1


def test_bytes_from_old_bindings_are_decoded():
    gpu = NvmlGpu(0, lib=FakeNvml(bytes_strings=True))
    assert gpu.name() == "Fake GPU 0"
    assert gpu.driver_version() == "550.54.15"
    gpu.close()


def test_one_failing_reading_is_none_and_the_rest_are_numbers():
    gpu = NvmlGpu(0, lib=FakeNvml(failing={"nvmlDeviceGetPowerUsage"}))
    assert gpu.available
    assert gpu.power_w() is None  # unsupported is None, never 0
    for reading in ("memory_used_mib", "utilization_pct", "sm_clock_mhz", "pcie_rx_mb_s"):
        assert isinstance(getattr(gpu, reading)(), float), reading
    gpu.close()


def test_unexpected_exception_is_a_none_reading_too():
    lib = FakeNvml()
    lib.nvmlDeviceGetClockInfo = lambda handle, clock: (_ for _ in ()).throw(OSError("boom"))
    gpu = NvmlGpu(0, lib=lib)
    assert gpu.sm_clock_mhz() is None
    assert gpu.utilization_pct() is not None
    gpu.close()


def _assert_unavailable(gpu: NvmlGpu) -> None:
    assert gpu.available is False
    assert gpu.init_error
    for reading in READINGS:
        assert getattr(gpu, reading)() is None, reading
    gpu.close()
    gpu.close()  # idempotent


def test_init_failure_is_stored_not_raised():
    lib = FakeNvml(init_fails=True)
    gpu = NvmlGpu(0, lib=lib)
    assert "nvmlInit failed" in gpu.init_error
    assert "Library Not Found" in gpu.init_error
    _assert_unavailable(gpu)
    assert lib.shutdown_count == 0  # nothing to shut down after a failed init


def test_library_absent(monkeypatch):
    monkeypatch.setattr(nvml, "_pynvml", None)
    monkeypatch.setattr(nvml, "_IMPORT_ERROR", "pynvml not importable: test")
    gpu = NvmlGpu(0, lib=None)
    assert gpu.init_error == "pynvml not importable: test"
    _assert_unavailable(gpu)


def test_index_without_device_reads_only_system_values():
    lib = FakeNvml()
    gpu = NvmlGpu(3, lib=lib)
    assert gpu.available is False
    assert "torch index 3" in gpu.init_error
    # Driver readings are system-wide, so they survive a missing device.
    assert gpu.driver_version() == "550.54.15"
    assert gpu.cuda_driver_version() == "12.4"
    for reading in READINGS:
        if reading not in ("driver_version", "cuda_driver_version"):
            assert getattr(gpu, reading)() is None, reading
    gpu.close()
    assert lib.shutdown_count == 1  # init succeeded, so it is paired with a shutdown
    assert gpu.driver_version() is None  # closed


def test_torch_uuid_picks_the_nvml_device(monkeypatch):
    # CUDA_VISIBLE_DEVICES=1: torch index 0 is NVML index 1, found by its UUID.
    uuids = ("GPU-aaaaaaaa-0000-0000-0000-000000000000", "GPU-bbbbbbbb-0000-0000-0000-000000000000")
    monkeypatch.setattr(nvml, "_torch_uuid", lambda i: nvml._normalized_uuid("BBBBBBBB-0000-0000-0000-000000000000"))
    gpu = NvmlGpu(0, lib=FakeNvml(uuids=uuids))
    assert gpu.name() == "Fake GPU 1"
    gpu.close()


def test_without_asking_torch_the_index_is_nvmls(monkeypatch):
    def torch_asked(torch_index):
        raise AssertionError("asked torch")

    monkeypatch.setattr(nvml, "_torch_uuid", torch_asked)
    with NvmlGpu(1, lib=FakeNvml(uuids=("GPU-a", "GPU-b")), ask_torch=False) as gpu:
        assert gpu.name() == "Fake GPU 1" and gpu.device_count() == 2


def test_unknown_uuid_falls_back_to_index(monkeypatch):
    monkeypatch.setattr(nvml, "_torch_uuid", lambda i: "deadbeef-0000-0000-0000-000000000000")
    gpu = NvmlGpu(0, lib=FakeNvml())
    assert gpu.name() == "Fake GPU 0"
    gpu.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GPU-ABCD-1", "abcd-1"),
        (b"GPU-abcd-1", "abcd-1"),
        ("MIG-abcd-1", "abcd-1"),
        ("abcd-1", "abcd-1"),
    ],
)
def test_normalized_uuid(raw, expected):
    assert nvml._normalized_uuid(raw) == expected


def test_real_pynvml_on_this_machine_never_raises():
    # Real library: unavailable on a CPU-only machine, readable on a GPU one.
    with NvmlGpu(0) as gpu:
        for reading in READINGS:
            getattr(gpu, reading)()
        assert gpu.available or gpu.init_error


def test_fake_matches_real_pynvml_names():
    pynvml = pytest.importorskip("pynvml")
    for name in dir(FakeNvml):
        if name.startswith(("nvml", "NVML")):
            assert hasattr(pynvml, name), name
            if name.startswith("NVML_"):
                assert getattr(FakeNvml, name) == getattr(pynvml, name), name


def test_each_failed_query_is_recorded_with_its_error():
    lib = FakeNvml(failing={"nvmlDeviceGetPowerUsage"})
    lib.nvmlDeviceGetClockInfo = lambda handle, clock: (_ for _ in ()).throw(OSError("boom"))
    with NvmlGpu(0, lib=lib) as gpu:
        assert gpu.power_w() is None and gpu.sm_clock_mhz() is None and gpu.utilization_pct() is not None
        assert gpu.failures == {"nvmlDeviceGetPowerUsage": "Not Supported",  # NVML's own words
                                "nvmlDeviceGetClockInfo": "unexpected OSError: boom"}  # a binding that broke


@pytest.mark.parametrize("reasons, expected", [
    (0, ""), (0x1 | 0x4, ""),  # idle and the software power cap are normal operation
    (0x8, "hardware slowdown"), (0x20 | 0x40, "software thermal slowdown, hardware thermal slowdown"),
])
def test_slowdown_names_the_reasons_that_slow_the_gpu(reasons, expected):
    with NvmlGpu(0, lib=FakeNvml(event_reasons=reasons)) as gpu:
        assert gpu.slowdown() == expected


def test_slowdown_unreadable_is_none():
    with NvmlGpu(0, lib=FakeNvml(failing={"nvmlDeviceGetCurrentClocksEventReasons"})) as gpu:
        assert gpu.slowdown() is None
