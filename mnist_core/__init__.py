"""mnist-bench: the shared MNIST training core behind the benchmarks, reports and checks.

The names below are imported on first use (PEP 562): importing `mnist_core` or any of its reading
modules (runs, regress, report, commands) must not load torch, which costs seconds at every start.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "BenchConfig": "mnist_core.core.config",
    "DatasetLocation": "mnist_core.core.data",
    "MnistData": "mnist_core.core.data",
    "load_dataset": "mnist_core.core.data",
    "get_default_device": "mnist_core.core.devices",
    "sync": "mnist_core.core.devices",
    "to_device": "mnist_core.core.devices",
    "ConfigError": "mnist_core.errors",
    "DatasetError": "mnist_core.errors",
    "MnistBenchError": "mnist_core.errors",
    "RunFileError": "mnist_core.errors",
    "MnistCNN": "mnist_core.core.models",
    "MnistMLP": "mnist_core.core.models",
    "build_model": "mnist_core.core.models",
    "make_optimizer": "mnist_core.core.models",
    "evaluate": "mnist_core.core.train",
    "fit": "mnist_core.core.train",
    "time_to_accuracy": "mnist_core.core.train",
    "train_epoch": "mnist_core.core.train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
