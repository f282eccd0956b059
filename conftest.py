# The benchmark plugin (options, matrix, run files) lives in bench/; it stays idle unless bench/ is collected.
pytest_plugins = ["bench.plugin"]
