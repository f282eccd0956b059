"""The suite's own cost: the reference and resident configs through the suite vs a bare loop, same process."""

import warnings

from bench.timing import measure_throughput
from mnist_core.core.devices import release_on_failure
from mnist_core.measure.bare_loop import BareLoop
from mnist_core.measure.overhead_check import overhead_row
from mnist_core.runs.records import samples_per_s_rounds


def test_suite_overhead(benchmark, overhead_spec, bench_settings, gpu):
    profile = bench_settings.profile
    with release_on_failure(overhead_spec.device), \
            BareLoop(overhead_spec, bench_settings.data, warmup_rounds=profile.warmup_rounds) as bare:
        # A bare round right before each suite round (the NVML sampler paused for it): drift in
        # machine speed hits both sides alike, and only the suite's rounds carry the suite's costs.
        row = measure_throughput(benchmark, "train", overhead_spec, bench_settings, gpu,
                                 rounds=profile.overhead_rounds, group="overhead", before_each_round=bare.timed_round)
    bare_rounds = samples_per_s_rounds(overhead_spec.steps_per_round * overhead_spec.batch_size, bare.round_seconds)
    result = overhead_row(row["samples_per_s_rounds"], bare_rounds)
    # Both loops held their model and data at once: the peak is not this configuration's alone.
    result.update(torch_peak_allocated_mib=None, torch_peak_reserved_mib=None)
    benchmark.extra_info.update(result)
    if result["overhead_verdict"] == "noise":
        warnings.warn(f"{overhead_spec.label()}: suite {result['overhead_pct']:.1f}% below the bare loop, "
                      "but the rounds overlap: too noisy to judge")
    assert result["overhead_verdict"] != "over", (
        f"the suite costs {result['overhead_pct']:.1f}% of samples/s (limit {result['overhead_limit_pct']}%)")
