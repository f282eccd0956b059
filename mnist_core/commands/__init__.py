"""One module per `mnist-bench` subcommand."""
