"""mnist-bench: the shared MNIST training core behind the benchmarks, reports and checks."""

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import DatasetLocation, MnistData, load_dataset
from mnist_core.core.devices import get_default_device, sync, to_device
from mnist_core.errors import ConfigError, DatasetError, MnistBenchError, RunFileError
from mnist_core.core.models import MnistCNN, MnistMLP, build_model, make_optimizer
from mnist_core.core.train import evaluate, fit, time_to_accuracy, train_epoch

__version__ = "0.1.0"

__all__ = [
    "BenchConfig", "ConfigError", "DatasetError", "DatasetLocation", "MnistBenchError", "MnistCNN", "MnistData",
    "MnistMLP", "RunFileError", "build_model", "evaluate", "fit", "get_default_device", "load_dataset",
    "make_optimizer", "sync", "time_to_accuracy", "to_device", "train_epoch",
]
