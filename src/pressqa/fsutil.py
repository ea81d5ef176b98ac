"""Crash-safe file writes and the archive's write lock."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from types import TracebackType

from pressqa.errors import ArchiveLockedError

# Descriptors of the locks this process holds, so that a forked child can close its copies.
_held: set[int] = set()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class WriteLock:
    """An exclusive ``flock`` on ``ARCHIVE/.lock`` held while an ingest or delete writes.

    The kernel drops the lock when the process dies, so a killed ingest never leaves a
    stale lock behind.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ArchiveLockedError(
                f"archive {self.path.parent} is being written by another process (pid {holder}); "
                "wait for it to finish and run the command again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        _held.add(fd)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            _held.discard(self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def close_inherited_locks() -> None:
    """In a forked child: close its copies of the parent's lock descriptors, so that a child
    outliving a killed parent cannot keep the archive locked (closing a copy, unlike
    ``LOCK_UN``, leaves the parent's lock in place)."""
    for fd in list(_held):
        os.close(fd)
    _held.clear()
