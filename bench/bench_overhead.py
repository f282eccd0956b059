"""The suite's own cost: the reference and resident configs through the suite vs a bare loop written the
way a user writes it (measure/bare_loop.py), rounds taken in pairs in the same process."""

import warnings

from bench.timing import measure_throughput
from mnist_core.measure.effect import INCONCLUSIVE, SLOWER


def test_suite_overhead(benchmark, overhead_spec, session, gpu):
    row = measure_throughput(benchmark, "train", overhead_spec, session, gpu, group="overhead", bare_loop=True)
    verdict = row.overhead() if row is not None else None
    if verdict is None:
        return
    if verdict.label == INCONCLUSIVE:
        warnings.warn(f"{overhead_spec.label()}: suite vs bare loop {verdict.why}: too noisy to judge against the "
                      f"{verdict.threshold_pct:g}% limit")
    assert verdict.label != SLOWER, f"the suite is slower than a bare loop by more than {verdict.threshold_pct:g}%: {verdict.why}"
