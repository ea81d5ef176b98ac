"""Crash-safe file writes and the archive's write lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from pressqa.errors import ArchiveLockedError, PressQAError, StoreError

# Free space under which a failed write is taken to have run out of it: Chroma reports a
# full disk as "Error in compaction", without a word of space.
LOW_SPACE_BYTES = 64 << 20

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

    def __init__(self, root: Path, *, wait: bool = False) -> None:
        self.path = root / ".lock"
        self.wait = wait  # wait for the writer holding it, instead of raising ArchiveLockedError
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise StoreError(
                f"archive {self.path.parent} cannot be written ({err.strerror}): it can be searched and asked, "
                "but ingest, delete and repair need a folder this user can write"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            writer = (
                "this process (a sync or an upload)"
                if holder == str(os.getpid())
                else f"another process (pid {holder})"
            )
            raise ArchiveLockedError(
                f"archive {self.path.parent} is being written by {writer}; wait for it to finish and try again"
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


@contextlib.contextmanager
def out_of_space_named(root: Path) -> Iterator[None]:
    """Turn a write that failed for want of disk space, however the library below words it,
    into a ``StoreError`` that says so."""
    try:
        yield
    except PressQAError:
        raise
    except Exception as err:
        full = out_of_space(root, err)
        if full is None:
            raise
        raise full from err


def out_of_space(root: Path, err: BaseException) -> StoreError | None:
    """The error to raise if ``err`` came of a full disk under ``root``, else None."""
    free = shutil.disk_usage(root).free
    if not (_says_no_space(err) or free < LOW_SPACE_BYTES):
        return None
    return StoreError(
        f"the disk holding archive {root} is full ({free / 1e6:.1f} MB free; {type(err).__name__}: {err}). "
        "Free some space and run the command again: what was written before is kept, and a write that was "
        "cut short is rolled back when the archive is next opened"
    )


def _says_no_space(err: BaseException | None) -> bool:
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        if "disk is full" in str(err) or "No space left" in str(err):
            return True
        err = err.__cause__ or err.__context__
    return False
