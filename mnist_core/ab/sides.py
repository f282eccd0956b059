"""The two sides of an ab session: which interpreter, which code tree and which environment variables each runs.

A side is an interpreter (a venv's python), a code tree put first on PYTHONPATH (this checkout, or a git
revision of it checked out in a temporary worktree) and environment variables set for its processes only.
Unset, a side is this checkout with this interpreter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mnist_core.errors import ConfigError

BASELINE, CURRENT = "baseline", "current"
SIDES = (BASELINE, CURRENT)
WORKER_FILE = Path("mnist_core") / "ab" / "worker.py"


@dataclass(frozen=True)
class SideSpec:
    """What the command line said about one side."""

    name: str
    python: str | None = None
    ref: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Side:
    """A side ready to start processes: a real interpreter and a real code tree."""

    name: str
    python: str
    tree: Path
    env: dict[str, str]  # the side's own variables (PYTHONPATH entries are relative to `tree`)
    ref: str | None
    commit: str | None

    def environment(self, inherited: dict[str, str] | None = None) -> dict[str, str]:
        """The worker's environment: the inherited one, the side's variables, and PYTHONPATH = the side's tree,
        then the side's own PYTHONPATH entries (relative to the tree), then the inherited ones."""
        env = dict(os.environ if inherited is None else inherited)
        own_path = self.env.get("PYTHONPATH", "")
        env.update({key: value for key, value in self.env.items() if key != "PYTHONPATH"})
        entries = [str(self.tree)] + [str(self.tree / part) for part in own_path.split(os.pathsep) if part]
        entries += [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))
        return env

    def describe(self) -> dict:
        return {"python": self.python, "tree": str(self.tree), "ref": self.ref, "commit": self.commit, "env": self.env}


def env_assignment(text: str) -> tuple[str, str]:
    """KEY=VALUE from the command line (argparse type)."""
    import argparse

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE; e.g. --current-env MNIST_BENCH_INJECT=...")
    return key.strip(), value


def checkout_root() -> Path:
    """This checkout: the tree this mnist_core was imported from."""
    return Path(__file__).resolve().parents[2]


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed; install git to use --baseline-ref/--current-ref") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise ConfigError(f"git {' '.join(args)} in {root}: {detail}; give a revision of this checkout "
                          "(a commit, branch or tag, e.g. --baseline-ref HEAD~1)")
    return done.stdout.strip()


def _interpreter(spec: SideSpec) -> str:
    if spec.python is None:
        return sys.executable
    path = shutil.which(spec.python) or spec.python
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        raise ConfigError(f"--{spec.name}-python {spec.python!r} is not an executable interpreter; give a venv's "
                          "python, e.g. --baseline-python ../old-venv/bin/python")
    return str(Path(path).absolute())


@contextlib.contextmanager
def prepared_sides(specs: list[SideSpec], root: Path | None = None) -> Iterator[list[Side]]:
    """The sides, with each git revision checked out in a temporary worktree that is removed afterwards."""
    root = root or checkout_root()
    with contextlib.ExitStack() as stack:
        sides = []
        for spec in specs:
            python = _interpreter(spec)
            if spec.ref is None:
                sides.append(Side(spec.name, python, root, dict(spec.env), None, _head(root)))
                continue
            commit = _git(root, "rev-parse", "--verify", f"{spec.ref}^{{commit}}")
            tree = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"mnist-bench-ab-{spec.name}-")))
            tree = tree / "tree"
            _git(root, "worktree", "add", "--detach", str(tree), commit)
            stack.callback(_git, root, "worktree", "remove", "--force", str(tree))
            if not (tree / WORKER_FILE).is_file():
                raise ConfigError(f"--{spec.name}-ref {spec.ref} ({commit[:10]}) predates `mnist-bench ab` (it has no "
                                  f"{WORKER_FILE}); give a revision that has it, or use --{spec.name}-python with a "
                                  "venv of the old version")
            sides.append(Side(spec.name, python, tree, dict(spec.env), spec.ref, commit))
        yield sides


def _head(root: Path) -> str | None:
    """This checkout's commit, with '+dirty' when it has uncommitted changes; None outside git."""
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except ConfigError:
        return None
    return commit + ("+dirty" if dirty else "")
