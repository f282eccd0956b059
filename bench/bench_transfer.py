"""Host-to-device copy bandwidth: pageable vs pinned source, blocking vs non_blocking (CUDA only)."""

from bench.timing import telemetry_during, warmup_min_s
from mnist_core.measure.telemetry import pcie_theoretical_gb_s, reset_torch_peak
from mnist_core.measure.transfer import build_transfer, transfer_row
from mnist_core.measure.workload import warm_up


def test_h2d_copy(benchmark, transfer_case, bench_settings, gpu):
    benchmark.group = "transfer"
    reset_torch_peak("cuda")  # this copy's peak, not the largest of the configurations before it
    size = {key: transfer_case[key] for key in ("batch_size", "block_mib") if key in transfer_case}
    workload = build_transfer("cuda", pinned=transfer_case["pinned"], non_blocking=transfer_case["non_blocking"],
                              **size)
    # At least 1 s of copies first: NVML's utilisation and power would otherwise still average the
    # kernels of the benchmark before this one.
    warm_up(workload.run_round, bench_settings.profile.warmup_rounds, min_seconds=warmup_min_s(gpu))
    with telemetry_during("cuda", gpu) as telemetry:
        benchmark.pedantic(workload.run_round, rounds=bench_settings.profile.rounds, iterations=1, warmup_rounds=0)
        telemetry.fill(workload.run_round)
    readings = telemetry.readings
    limit_gb_s = pcie_theoretical_gb_s(readings["pcie_link_gen"], readings["pcie_link_width"])
    row = transfer_row(workload, list(benchmark.stats.stats.data), limit_gb_s)
    row.update({**readings, "batch_size": transfer_case.get("batch_size")})
    benchmark.extra_info.update(row)
