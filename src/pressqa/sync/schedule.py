"""Syncing on a schedule (``serve --sync``) and watching folder sources (``sync --watch``)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from pressqa.errors import PressQAError
from pressqa.sync.book import SourceBook
from pressqa.types import SyncReport

log = logging.getLogger(__name__)

MAX_SLEEP_S = 60.0  # how often the schedule looks for sources added meanwhile

Reported = Callable[[SyncReport], None]


class Syncable(Protocol):
    """What the schedule needs of an archive."""

    @property
    def sources(self) -> SourceBook: ...

    def sync(
        self, source: str | None = None, *, due_only: bool = False, stop: threading.Event | None = None
    ) -> list[SyncReport]: ...

    def sync_paths(self, source: str, paths: Iterable[Path]) -> SyncReport: ...


def seconds_to_next(book: SourceBook, now: dt.datetime) -> float:
    """Seconds until a web source is next due (at most ``MAX_SLEEP_S``)."""
    waits = [source.due_in(now) for source in book.list() if source.kind == "web"]
    return min([MAX_SLEEP_S, *waits])


def run_due(archive: Syncable, stop: threading.Event, reported: Reported) -> None:
    """Sync each web source when its ``every`` has passed, until ``stop`` is set.  A failing
    sync is logged and tried again when next due; it never ends the loop."""
    while not stop.is_set():
        try:
            for report in archive.sync(due_only=True, stop=stop):
                reported(report)
        except Exception:  # the schedule outlives any one failure; the next pass tries again
            log.exception("scheduled sync failed")
        stop.wait(max(1.0, seconds_to_next(archive.sources, dt.datetime.now(dt.UTC))))


def watch(archive: Syncable, stop: threading.Event, reported: Reported) -> None:
    """Ingest files added to or changed in folder sources as they appear, and sync web
    sources on their schedule, until ``stop`` is set."""
    import watchfiles

    folders = {source.location: source.name for source in archive.sources.list() if source.kind == "folder"}
    schedule = threading.Thread(target=run_due, args=(archive, stop, reported), name="pressqa-sync", daemon=True)
    schedule.start()
    try:
        if not folders:
            stop.wait()
        # On Ctrl-C watchfiles stops quietly (raise_interrupt=False), ending the loop.
        for changes in watchfiles.watch(*folders, stop_event=stop, raise_interrupt=False) if folders else ():
            changed: dict[str, set[Path]] = defaultdict(set)
            for change, path in changes:
                file = Path(path)
                if change != watchfiles.Change.deleted and file.is_file() and not file.name.startswith("."):
                    folder = next(folder for folder in folders if file.is_relative_to(folder))
                    changed[folders[folder]].add(file)
            for name, files in changed.items():
                try:
                    reported(archive.sync_paths(name, sorted(files)))
                except PressQAError as err:
                    log.warning("sync of %s failed: %s", name, err)
    finally:
        stop.set()
        schedule.join()
