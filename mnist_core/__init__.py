"""mnist-bench: the shared MNIST training core behind the benchmarks, reports and checks."""

from .config import BenchConfig
from .data import DatasetLocation, MnistData, load_dataset
from .devices import get_default_device, sync, to_device
from .errors import ConfigError, DatasetError, MnistBenchError, RunFileError
from .models import MnistCNN, MnistMLP, build_model
from .train import evaluate, fit, make_optimizer, time_to_accuracy, train_epoch

__version__ = "0.1.0"

__all__ = [
    "BenchConfig", "ConfigError", "DatasetError", "DatasetLocation", "MnistBenchError", "MnistCNN", "MnistData",
    "MnistMLP", "RunFileError", "build_model", "evaluate", "fit", "get_default_device", "load_dataset",
    "make_optimizer", "sync", "time_to_accuracy", "to_device", "train_epoch",
]
