"""Time-to-accuracy of the tutorial MLP: CPU vs GPU, dataloader vs resident (one timed run each)."""

from mnist_core.accuracy import accuracy_row, prepare_time_to_accuracy


def test_time_to_accuracy(benchmark, accuracy_spec, bench_settings):
    benchmark.group = "accuracy"
    run = prepare_time_to_accuracy(accuracy_spec, bench_settings.data, bench_settings.accuracy_target,
                                   bench_settings.profile.accuracy_max_epochs)
    result = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(accuracy_row(accuracy_spec, result))
