"""The benchmark matrix as pytest parameters: each parameter fixture's configurations for the profile, with
the rows that cannot run here marked skipped with their reason."""

from __future__ import annotations

import pytest

from mnist_core.core.devices import cuda_available
from mnist_core.measure import profiles

from bench.settings import BenchSettings

# parameter fixture -> (the benchmark kind it feeds, the matrix that makes its configurations)
MATRICES = {
    "train_spec": ("train", profiles.train_specs),
    "loader_spec": ("loader", profiles.loader_specs),
    "accuracy_spec": ("accuracy", profiles.accuracy_specs),
    "overhead_spec": ("overhead", profiles.overhead_specs),
}
PARAM_KINDS = {**{fixture: kind for fixture, (kind, _) in MATRICES.items()}, "transfer_case": "transfer"}
NO_ACCURACY_TARGET = ("the synthetic set is not a learning task: time to accuracy needs MNIST or Fashion-MNIST "
                      "(--dataset, --data-root) or an --accuracy-target")


def parametrize(metafunc, settings: BenchSettings) -> None:
    """pytest_generate_tests: every parameter fixture the test asks for, from the profile's matrices."""
    for fixture, (kind, matrix) in MATRICES.items():
        if fixture in metafunc.fixturenames:
            specs = matrix(settings.profile, settings.devices, settings.dataset)
            no_target = kind == "accuracy" and settings.accuracy_target is None
            metafunc.parametrize(fixture, [
                pytest.param(param.config, id=param.id, marks=_skip(param.skip or (NO_ACCURACY_TARGET if no_target
                                                                                  else None)))
                for param in profiles.params(specs, settings.profile, torch_threads=settings.torch_threads)])
    if "transfer_case" in metafunc.fixturenames:
        metafunc.parametrize("transfer_case", [
            pytest.param(case, id=profiles.transfer_label(case), marks=_skip(transfer_skip(settings.devices)))
            for case in profiles.transfer_cases(settings.profile)])


def transfer_skip(devices: tuple[str, ...]) -> str | None:
    """Why host-to-device copies cannot be measured in this session, or None."""
    if "cuda" not in devices:
        return "cuda not in --devices"
    if not cuda_available():
        return "host-to-device copies need a CUDA GPU; none is visible to torch"
    return None


def _skip(reason: str | None) -> list:
    return [pytest.mark.skip(reason=reason)] if reason else []
