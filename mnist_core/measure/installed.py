"""What torch and torchvision are installed, read from their files: importing torch costs seconds, and `info`
only has to name it."""

from __future__ import annotations

import ast
import importlib.util
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"


def _version_file_constants(package: str) -> dict[str, Any]:
    """The constants PACKAGE/version.py assigns (torch's and torchvision's hold __version__ and cuda), parsed,
    not run; {} when the package or the file is not there."""
    spec = importlib.util.find_spec(package)  # a top-level name: found, not imported
    if spec is None or not spec.submodule_search_locations:
        return {}
    try:
        tree = ast.parse((Path(spec.submodule_search_locations[0]) / "version.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:  # cuda: Optional[str] = '12.4'
            target = node.target
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                constants[target.id] = ast.literal_eval(node.value)
            except ValueError:  # not a literal: not a constant we read
                pass
    return constants


def installed_version(package: str) -> str | None:
    """The version the package reports once imported (torch's includes its build, e.g. 2.5.1+cu124), else the
    one its metadata gives; None when it is not installed."""
    reported = _version_file_constants(package).get("__version__")
    if isinstance(reported, str):
        return reported
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def torch_cuda_build() -> str | None:
    """The CUDA version torch was built for (torch.version.cuda): None for a CPU-only build, UNKNOWN when the
    installed torch does not say."""
    constants = _version_file_constants("torch")
    if "cuda" not in constants:
        return UNKNOWN
    cuda = constants["cuda"]
    return cuda if cuda is None or isinstance(cuda, str) else UNKNOWN
