"""Owner-only files for the tablet's data: the data dir 0700, its files 0600.

Created so from the start (`os.open` with a mode, `mkdir(mode=0o700)`), not opened to
everyone and narrowed later; a file or dir an older version left readable is narrowed
when it is next opened. SQLite gives `-wal` and `-shm` the mode of the database file.
On Windows the modes mean little: the data dir's ACL (the user's profile) protects it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_dir(path: Path) -> Path:
    """Make `path` (and any missing parents) a directory only its owner can enter."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & _OTHERS:
        os.chmod(path, DIR_MODE)  # a data dir an older version made readable
    return path


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it is missing; narrow it if it is readable."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        if os.name == "posix" and os.fstat(fd).st_mode & _OTHERS:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically; the file is 0600 from its first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
