"""The sources an archive syncs from, and what each URL answered last (``ARCHIVE/sources.sqlite3``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pressqa.errors import ConfigError, StoreError
from pressqa.types import IngestProblem, SourceKind, SyncReport, SyncSource

SOURCES_FILE = "sources.sqlite3"
DEFAULT_EVERY = 3600
_EVERY = re.compile(r"(\d+)\s*([smhd])", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY, location TEXT NOT NULL, kind TEXT NOT NULL, every INTEGER NOT NULL,
    issuer TEXT, found TEXT, last_sync TEXT, last_report TEXT
);
-- What each URL answered when last fetched: validators for a conditional request, the
-- release it became (pages), its body (listings, read again when they answer 304) and
-- when that body last changed (listings: pages fetched since need not be asked for again).
CREATE TABLE IF NOT EXISTS documents (
    url TEXT PRIMARY KEY, source TEXT NOT NULL, etag TEXT, last_modified TEXT, fetched TEXT NOT NULL,
    doc_id TEXT, body BLOB, changed TEXT
);
"""


def parse_every(text: str) -> int:
    """Seconds in ``90s``, ``30m``, ``1h``, ``1h30m`` or ``2d``."""
    parts = _EVERY.findall(text)
    if not parts or _EVERY.sub("", text).strip():
        raise ConfigError(f"--every {text!r}: expected a duration such as 90s, 30m, 1h, 1h30m or 2d")
    seconds = sum(int(count) * _UNITS[unit.lower()] for count, unit in parts)
    if seconds < 1:
        raise ConfigError(f"--every {text!r}: a source is synced at most once a second")
    return seconds


def every_label(seconds: int) -> str:
    """``3600`` -> ``1h``; ``5400`` -> ``1h30m``."""
    parts = []
    for unit in "dhms":
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


@dataclass(frozen=True, slots=True)
class Known:
    """What a URL answered when last fetched."""

    etag: str | None
    last_modified: str | None
    fetched: dt.datetime
    doc_id: str | None
    body: bytes | None
    changed: dt.datetime | None


class SourceBook:
    """The archive's sources and fetch state, safe to use from several threads."""

    def __init__(self, root: Path, *, read_only: bool = False) -> None:
        self._path = root / SOURCES_FILE
        self._read_only = read_only
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            if not self._read_only:
                self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
                self._db.execute("PRAGMA journal_mode=WAL")
            elif self._path.exists():
                # As the registry does: on a read-only file system nothing changes the file, and
                # SQLite may read a WAL database without the lock files it would make.
                immutable = "&immutable=1" if os.statvfs(self._path.parent).f_flag & os.ST_RDONLY else ""
                self._db = sqlite3.connect(
                    f"{self._path.resolve().as_uri()}?mode=ro{immutable}", uri=True, check_same_thread=False
                )
            else:  # a read-only archive that never had sources
                self._db = sqlite3.connect(":memory:", check_same_thread=False)
            if not self._read_only or not self._path.exists():
                self._db.executescript(_SCHEMA)
        return self._db

    def _write(self, sql: str, *args: object) -> None:
        self._write_all([(sql, args)])

    def _write_all(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        """Run ``statements`` in one transaction."""
        if self._read_only:
            raise StoreError(f"archive {self._path.parent} is read-only: its sources cannot be changed or synced")
        with self._lock, self._conn() as connection:
            connection.execute("BEGIN")
            for sql, args in statements:
                connection.execute(sql, args)

    def add(self, location: str, *, name: str | None = None, every: int | str = DEFAULT_EVERY,
            issuer: str | None = None) -> SyncSource:  # fmt: skip
        """Add a web address (feed, sitemap, listing or home page) or a folder, synced every
        ``every`` seconds (or "30m", "1h", "2d"); releases keep ``issuer`` if given."""
        kind, location = _checked(location)
        every = parse_every(every) if isinstance(every, str) else every
        if every < 1:
            raise ConfigError(f"every={every}: a source is synced at most once a second")
        name = (name or "").strip() or self._free_name(_default_name(kind, location))
        if self.get(name) is not None:
            raise ConfigError(f"a source named {name!r} exists already; give another --name")
        for source in self.list():
            if source.location == location:
                raise ConfigError(f"{location} is already the source {source.name!r}")
        self._write(
            "INSERT INTO sources (name, location, kind, every, issuer) VALUES (?, ?, ?, ?, ?)",
            name, location, kind, every, (issuer or "").strip() or None,
        )  # fmt: skip
        added = self.get(name)
        assert added is not None
        return added

    def remove(self, name: str) -> SyncSource:
        source = self.named(name)
        self._write_all(
            [("DELETE FROM sources WHERE name = ?", (name,)), ("DELETE FROM documents WHERE source = ?", (name,))]
        )
        return source

    def list(self) -> list[SyncSource]:
        with self._lock:
            rows = self._conn().execute("SELECT * FROM sources ORDER BY name").fetchall()
        return [_source(row) for row in rows]

    def get(self, name: str) -> SyncSource | None:
        with self._lock:
            row = self._conn().execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        return _source(row) if row else None

    def named(self, name: str) -> SyncSource:
        source = self.get(name)
        if source is None:
            names = ", ".join(source.name for source in self.list()) or "none yet (pressqa sources add URL)"
            raise ConfigError(f"no source named {name!r}; the archive's sources: {names}")
        return source

    def found(self, name: str, url: str) -> None:
        """Remember the feed or sitemap found for a source's home page."""
        self._write("UPDATE sources SET found = ? WHERE name = ?", url, name)

    def synced(self, report: SyncReport, at: dt.datetime) -> None:
        self._write(
            "UPDATE sources SET last_sync = ?, last_report = ? WHERE name = ?",
            at.isoformat(), json.dumps(dataclasses.asdict(report)), report.source,
        )  # fmt: skip

    def known(self, url: str) -> Known | None:
        sql = "SELECT etag, last_modified, fetched, doc_id, body, changed FROM documents WHERE url = ?"
        with self._lock:
            row = self._conn().execute(sql, (url,)).fetchone()
        if row is None:
            return None
        changed = dt.datetime.fromisoformat(row[5]) if row[5] else None
        return Known(row[0], row[1], dt.datetime.fromisoformat(row[2]), row[3], row[4], changed)

    def remember(self, url: str, source: str, *, etag: str | None, last_modified: str | None, at: dt.datetime,
                 doc_id: str | None = None, body: bytes | None = None,
                 changed: dt.datetime | None = None) -> None:  # fmt: skip
        self._write(
            "INSERT OR REPLACE INTO documents (url, source, etag, last_modified, fetched, doc_id, body, changed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            url, source, etag, last_modified, at.isoformat(), doc_id, body, changed.isoformat() if changed else None,
        )  # fmt: skip

    def _free_name(self, base: str) -> str:
        taken = {source.name for source in self.list()}
        return next(name for name in _numbered(base) if name not in taken)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _numbered(base: str) -> Iterator[str]:
    yield base
    number = 2
    while True:
        yield f"{base}-{number}"
        number += 1


def _checked(location: str) -> tuple[SourceKind, str]:
    location = location.strip()
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ConfigError(f"{location!r} has no host name")
        return "web", location
    if parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive, not a scheme
        raise ConfigError(f"{location!r}: only http:// and https:// addresses, and folders, can be sources")
    folder = Path(location).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"{location!r} is neither a web address (http:// or https://) nor a folder")
    return "folder", str(folder.resolve())


def _default_name(kind: SourceKind, location: str) -> str:
    if kind == "folder":
        return Path(location).name or "folder"
    return urlsplit(location).hostname or "web"


def _source(row: tuple[object, ...]) -> SyncSource:
    name, location, kind, every, issuer, found, last_sync, last_report = row
    report = None
    if last_report:
        data = json.loads(str(last_report))
        data["failed"] = tuple(IngestProblem(**problem) for problem in data["failed"])
        fields: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        report = SyncReport(**fields)
    return SyncSource(
        name=str(name),
        location=str(location),
        kind="folder" if kind == "folder" else "web",
        every=int(str(every)),
        issuer=str(issuer) if issuer else None,
        found=str(found) if found else None,
        last_sync=dt.datetime.fromisoformat(str(last_sync)) if last_sync else None,
        last_report=report,
    )
