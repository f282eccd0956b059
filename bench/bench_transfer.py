"""Host-to-device copy bandwidth: pageable vs pinned source, blocking vs non_blocking (CUDA only)."""

from bench.timing import measure_copies, telemetry_during, warmup_min_s
from mnist_core.measure.telemetry import pcie_theoretical_gb_s, reset_torch_peak
from mnist_core.measure.transfer import build_transfer
from mnist_core.measure.workload import warm_up
from mnist_core.runs.rows import TransferRow


def test_h2d_copy(benchmark, transfer_case, session, gpu):
    benchmark.group = "transfer"
    reset_torch_peak("cuda")  # this copy's peak, not the largest of the configurations before it
    size = {key: transfer_case[key] for key in ("batch_size", "block_mib") if key in transfer_case}
    workload = build_transfer("cuda", pinned=transfer_case["pinned"], non_blocking=transfer_case["non_blocking"],
                              **size)
    # At least 1 s of copies first: NVML's utilisation and power would otherwise still average the
    # kernels of the benchmark before this one.
    warm_up(workload.run_round, session.settings.profile.warmup_rounds, min_seconds=warmup_min_s(gpu))
    with session.row_budget() as policy, telemetry_during("cuda", gpu) as window:
        measurement = measure_copies(benchmark, workload, gpu, policy)
        window.fill(workload.run_round)
    telemetry = window.telemetry
    row = TransferRow(name=benchmark.name, device="cuda", transfer=workload.label, bytes=workload.nbytes,
                      pin_memory=workload.pinned, non_blocking=workload.non_blocking,
                      copies_per_round=workload.copies_per_round, batch_size=transfer_case.get("batch_size"),
                      measurement=measurement, telemetry=telemetry,
                      pcie_theoretical_gb_s=pcie_theoretical_gb_s(telemetry.pcie_link_gen, telemetry.pcie_link_width))
    benchmark.extra_info.update(row.to_info())
