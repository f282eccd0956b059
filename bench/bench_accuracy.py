"""Time-to-accuracy of the tutorial MLP: CPU vs GPU, dataloader vs resident (one timed run each)."""

from bench.timing import gpu_for, telemetry_during
from mnist_core.measure.accuracy import accuracy_row, prepare_time_to_accuracy
from mnist_core.core.devices import release_on_failure
from mnist_core.measure.telemetry import reset_torch_peak


def test_time_to_accuracy(benchmark, accuracy_spec, bench_settings, gpu):
    benchmark.group = "accuracy"
    reset_torch_peak(accuracy_spec.device)
    with release_on_failure(accuracy_spec.device):
        run = prepare_time_to_accuracy(accuracy_spec, bench_settings.data, bench_settings.accuracy_target,
                                       bench_settings.profile.accuracy_max_epochs)
        with telemetry_during(accuracy_spec.device, gpu_for(accuracy_spec, gpu)) as telemetry:
            result = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update({**accuracy_row(accuracy_spec, result), **telemetry.readings})
