import sys

import torch
import torchvision

from mnist_core.measure import installed
from mnist_core.measure.installed import UNKNOWN, installed_version, torch_cuda_build


def test_the_files_say_what_the_imported_packages_say():
    assert installed_version("torch") == torch.__version__
    assert installed_version("torchvision") == torchvision.__version__
    assert torch_cuda_build() == torch.version.cuda


def test_a_version_file_is_parsed_not_run(tmp_path, monkeypatch):
    package = tmp_path / "fake_torch_like"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "version.py").write_text("from typing import Optional\n__version__ = '1.2.3+cu999'\n"
                                        "cuda: Optional[str] = '9.9'\ngit_version = compute()\nhip = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_version("fake_torch_like") == "1.2.3+cu999"
    assert installed._version_file_constants("fake_torch_like") == {"__version__": "1.2.3+cu999", "cuda": "9.9",
                                                                    "hip": None}
    assert "fake_torch_like" not in sys.modules


def test_missing_is_none_and_an_unreadable_build_unknown(monkeypatch):
    assert installed_version("no_such_package_anywhere") is None
    monkeypatch.setattr(installed, "_version_file_constants", lambda package: {})
    assert torch_cuda_build() == UNKNOWN
