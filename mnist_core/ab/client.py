"""One side's worker process, seen from the session: start it, send requests, read replies, retire it."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from mnist_core.ab.sides import Side
from mnist_core.errors import MnistBenchError

EXIT_WAIT_S = 30.0


class WorkerError(MnistBenchError):
    """A side's worker failed: the row or the whole side cannot be measured."""


class WorkerProcess:
    """`python -m mnist_core.ab.worker` in the side's interpreter, tree and environment."""

    def __init__(self, side: Side, profile: str, devices: tuple[str, ...], dataset: str | None,
                 data_root: str | None):
        self.side = side
        command = [side.python, "-m", "mnist_core.ab.worker", "--profile", profile, "--devices", ",".join(devices)]
        if dataset:
            command += ["--dataset", dataset]
        if data_root:
            command += ["--data-root", str(Path(data_root).absolute())]
        self._log = tempfile.TemporaryFile(mode="w+", prefix=f"mnist-bench-ab-{side.name}-")
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                         text=True, bufsize=1, env=side.environment(), cwd=side.tree)
        self._hello: dict | None = None

    @property
    def hello(self) -> dict:
        """The worker's first line (its rows, dataset and versions), waited for on first use: both sides' workers
        start at once and load torch and the dataset side by side before either measures."""
        if self._hello is None:
            try:
                hello = self._read().get("hello")
            except BaseException:
                self.close()
                raise
            if not isinstance(hello, dict):
                self.close()
                raise WorkerError(f"the {self.side.name} side's worker did not say hello: {hello!r}")
            self._hello = hello
        return self._hello

    def _stderr_tail(self) -> str:
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().splitlines() if line.strip()]
        return lines[-1] if lines else "no message"

    def _read(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait(timeout=EXIT_WAIT_S)
            raise WorkerError(f"the {self.side.name} side's worker ({self.side.python}) exited with code {code}: "
                              f"{self._stderr_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"the {self.side.name} side's worker: {reply['error']}")
        return reply

    def request(self, op: str, **fields) -> dict:
        self._process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._process.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the worker to exit; kill it if it does not."""
        if self._process.poll() is None:
            try:
                self._process.stdin.write(json.dumps({"op": "exit"}) + "\n")
                self._process.stdin.close()
                self._process.wait(timeout=EXIT_WAIT_S)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._log.close()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
