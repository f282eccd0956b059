"""The input pipeline alone, no model: dataloader (workers, pin_memory) vs resident, in samples/s."""

from bench.timing import measure_throughput


def test_loader(benchmark, loader_spec, session, gpu):
    measure_throughput(benchmark, "loader", loader_spec, session, gpu)
