"""Writing files that other processes may write at the same moment: the only module that creates them.

Three rules, for run files, baselines and reports alike:
  * a new name is claimed exclusively (O_CREAT | O_EXCL): two writers never get the same file;
  * content appears whole: written to a temporary file, flushed, then renamed (replace) or hard-linked
    (create-if-absent) into place, so a reader or a crash never sees half a file;
  * modes follow the user's umask, as any file a program writes (mkstemp alone would make them 0600).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mnist_core.errors import OutputExistsError


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~umask()


def folder_mode() -> int:
    return 0o777 & ~umask()


def claim_new(candidates: Iterator[Path]) -> Path:
    """Create the first of `candidates` that does not exist yet, empty, in one atomic step; return it.

    Never check-then-write: two processes asking at once (here or on another machine writing to the
    same shared folder) cannot both succeed for one name, so each gets its own file.
    """
    for path in candidates:
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, file_mode())
        except FileExistsError:
            continue
        os.close(handle)
        return path
    raise OutputExistsError("no free file name left")  # the candidates are endless in practice


def _write_temporary(folder: Path, name: str, write: Callable) -> Path:
    """A complete, flushed temporary file beside the target, with the umask's mode."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, file_mode())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def write_atomic(path: str | Path, write: Callable, *, overwrite: bool = True) -> Path:
    """Write `path` whole through `write(stream)`. overwrite=False creates it only if absent
    (OutputExistsError otherwise), atomically: of two writers racing for one name exactly one wins."""
    path = Path(path)
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path} already exists; pass --force to replace it")
    temporary = _write_temporary(path.parent, path.name, write)
    try:
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the name exists, whoever made it a moment ago
            except FileExistsError:
                raise OutputExistsError(f"{path} already exists; pass --force to replace it") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                    raise
                claim_new(iter([path]))  # a file system without hard links: claim the name, then fill it
                os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def write_json_atomic(path: str | Path, data: dict, *, overwrite: bool = True) -> Path:
    """JSON written whole (see write_atomic); a value json cannot encode is written as its repr."""
    return write_atomic(path, lambda stream: json.dump(data, stream, indent=1, default=_jsonable), overwrite=overwrite)


def json_copy(data: dict) -> dict:
    """`data` as a reader of the file write_json_atomic makes from it gets it back: JSON types only."""
    return json.loads(json.dumps(data, default=_jsonable))


def _jsonable(value):
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


@contextlib.contextmanager
def held_lock(path: str | Path, *, wait: bool = True, create: bool = True) -> Iterator[bool]:
    """An exclusive lock on the file or folder `path` for the block; yields whether it was taken.

    A missing file is created unless create=False. wait=False yields False at once when another process
    holds it. The kernel drops the lock when the holder exits, however it ends (SIGKILL included), so a
    dead writer never blocks anyone.
    """
    path = Path(path)
    if path.is_dir() or not create:
        handle = os.open(path, os.O_RDONLY)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_CREAT | os.O_RDWR, file_mode())
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def is_locked(path: str | Path) -> bool:
    """True while another process holds `path`'s lock (see held_lock)."""
    try:
        with held_lock(path, wait=False, create=False) as taken:
            return not taken
    except OSError:  # no lock file: nobody holds it
        return False
