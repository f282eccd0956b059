"""Time-to-accuracy of the tutorial MLP: CPU vs GPU, dataloader vs resident (one timed run each)."""

from bench.replay import record_rounds
from bench.timing import sampled_gpu, telemetry_during
from mnist_core.core.devices import release_on_failure
from mnist_core.measure.accuracy import prepare_time_to_accuracy
from mnist_core.measure.telemetry import reset_torch_peak
from mnist_core.runs.rows import AccuracyRow


def test_time_to_accuracy(benchmark, accuracy_spec, session, gpu):
    benchmark.group = "accuracy"
    settings = session.settings
    reset_torch_peak(accuracy_spec.device)
    with release_on_failure(accuracy_spec.device):
        run = prepare_time_to_accuracy(accuracy_spec, settings.data, settings.accuracy_target,
                                       settings.profile.accuracy_max_epochs)
        with telemetry_during(accuracy_spec.device, sampled_gpu(accuracy_spec, gpu)) as window:
            result = run()
    record_rounds(benchmark, [result.seconds])  # one round: the whole run to the target
    row = AccuracyRow(name=benchmark.name, config=accuracy_spec, target_accuracy=result.target, reached=result.reached,
                      epochs=result.epochs, seconds=result.seconds,
                      seconds_to_target=result.seconds if result.reached else None,
                      train_seconds=result.train_seconds, val_accuracy=result.val_accuracy,
                      val_accuracy_by_epoch=tuple(record.val.accuracy for record in result.history),
                      train_samples=result.train_samples, telemetry=window.telemetry)
    benchmark.extra_info.update(row.to_info())
