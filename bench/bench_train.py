"""Training throughput: device x batch size x num_workers x pin_memory x non_blocking, plus resident pipelines and the CNN."""

from bench.timing import measure_throughput


def test_train(benchmark, train_spec, session, gpu):
    measure_throughput(benchmark, "train", train_spec, session, gpu)
