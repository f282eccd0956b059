"""The suite's own cost: the reference and resident configs through the suite vs a bare loop, same process."""

import warnings

from mnist_core.overhead import bare_round_seconds
from mnist_core.overhead_check import overhead_row
from mnist_core.records import samples_per_s_rounds
from bench.timing import measure_throughput


def test_suite_overhead(benchmark, overhead_spec, bench_settings, gpu):
    rounds = bench_settings.profile.overhead_rounds
    data = bench_settings.data
    samples = overhead_spec.samples_per_round // overhead_spec.batch_size * overhead_spec.batch_size
    # Bare rounds before and after the suite's, so a drift in machine speed hits both sides.
    bare = bare_round_seconds(overhead_spec, data, rounds=(rounds + 1) // 2)
    row = measure_throughput(benchmark, "train", overhead_spec, bench_settings, gpu, rounds=rounds,
                             group="overhead")
    bare += bare_round_seconds(overhead_spec, data, rounds=(rounds + 1) // 2)
    result = overhead_row(row["samples_per_s_rounds"], samples_per_s_rounds(samples, bare))
    benchmark.extra_info.update(result)
    if result["overhead_verdict"] == "noise":
        warnings.warn(f"{overhead_spec.label()}: suite {result['overhead_pct']:.1f}% below the bare loop, "
                      "but the rounds overlap: too noisy to judge")
    assert result["overhead_verdict"] != "over", (
        f"the suite costs {result['overhead_pct']:.1f}% of samples/s (limit {result['overhead_limit_pct']}%)")
