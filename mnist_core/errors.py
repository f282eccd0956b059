"""Typed errors. Each message is one line that names the problem and the fix."""


class MnistBenchError(Exception):
    """Base class: an error the CLI reports as one line with exit code 2."""


class ConfigError(MnistBenchError, ValueError):
    """A run configuration with an invalid field."""


class DatasetError(MnistBenchError):
    """Dataset files that are missing, truncated or malformed."""


class RunFileError(MnistBenchError):
    """A results file that is not a usable mnist-bench run."""


class BaselineError(MnistBenchError):
    """A baseline that is missing, corrupt or from other hardware."""


class OutputExistsError(MnistBenchError):
    """Refusing to overwrite something already saved."""
