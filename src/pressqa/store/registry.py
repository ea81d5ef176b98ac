"""The release registry: one SQLite row per release (metadata, hashes, duplicate links),
the pending marks of writes under way, and the generation the keyword index follows."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pressqa.errors import ReleaseNotFoundError
from pressqa.types import (
    UNKNOWN_ISSUER,
    Chunk,
    DuplicateKind,
    DuplicateLink,
    Release,
    SearchFilters,
    make_chunk_id,
    origin_file,
)

REGISTRY_FILE = "releases.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT,
    date TEXT,
    url TEXT,
    language TEXT,
    origin TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    minhash BLOB NOT NULL,
    n_chunks INTEGER NOT NULL,
    canonical_id TEXT,
    duplicate_kind TEXT,
    similarity REAL,
    distributed_at TEXT
);
CREATE INDEX IF NOT EXISTS releases_canonical ON releases(canonical_id);
CREATE INDEX IF NOT EXISTS releases_content ON releases(content_hash);
CREATE INDEX IF NOT EXISTS releases_origin ON releases(origin);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
"""


# Which release of a duplicate group came first: earliest date, then earliest wire
# distribution on that day; undated last.  The first is the group's canonical release.
_OLDEST_FIRST = "date IS NULL, date, distributed_at IS NULL, distributed_at, doc_id"

#: (doc_id, matched doc_id, kind, similarity): a release found to copy one already seen.
DuplicateMatch = tuple[str, str, DuplicateKind, float]


@dataclass(frozen=True, slots=True)
class StoredRelease:
    """A release as ingested: what is needed to write it, and its fingerprints."""

    release: Release
    chunks: tuple[Chunk, ...]
    content_hash: str
    text_hash: str
    minhash: bytes

    @property
    def version(self) -> str:
        return version_of(self.content_hash)


def version_of(content_hash: str) -> str:
    """The short version tag that chunk ids and chunk metadata carry."""
    return content_hash[:12]


class Registry:
    """One SQLite row per release; each write bumps ``generation``, which the keyword index follows."""

    def __init__(self, path: Path | str, *, read_only: bool = False, immutable: bool = False) -> None:
        self.writable = not read_only
        if read_only:
            # On a read-only file system nothing can change the file under us (``immutable``):
            # SQLite may read it without the lock files a WAL database otherwise makes.
            self._db = sqlite3.connect(
                f"{Path(path).resolve().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        self._summary: tuple[int, dict[str, Any]] | None = None

    def manifest(self) -> str | None:
        """The copy of ``pressqa.json`` kept here, from which a damaged one is rewritten."""
        row = self._db.execute("SELECT value FROM meta WHERE key='manifest'").fetchone()
        return str(row[0]) if row else None

    def keep_manifest(self, text: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('manifest', ?)", (text,))

    def close(self) -> None:
        self._db.close()

    @property
    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def content_hash(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT content_hash FROM releases WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def fingerprints(self) -> Iterator[tuple[str, str, bytes]]:
        """(doc_id, text_hash, minhash) of every release, for the duplicate index."""
        yield from self._db.execute("SELECT doc_id, text_hash, minhash FROM releases ORDER BY rowid")

    def release(self, doc_id: str) -> Release:
        row = self._db.execute(f"SELECT {_RELEASE_FIELDS} FROM releases WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise ReleaseNotFoundError(f"no release with id {doc_id!r} in the archive")
        return _release(row)

    def releases(self, filters: SearchFilters | None = None, doc_ids: Sequence[str] | None = None) -> list[Release]:
        """Every release (or those of ``doc_ids``) that ``filters`` admit, oldest first (undated last)."""
        clauses: list[str] = []
        values: list[Any] = []
        if filters is not None and (filters.since or filters.until):
            clauses.append("date IS NOT NULL")  # an undated release cannot be shown to fall in a range
            if filters.since:
                clauses.append("date >= ?")
                values.append(filters.since.isoformat())
            if filters.until:
                clauses.append("date <= ?")
                values.append(filters.until.isoformat())
        if filters is not None and filters.sources:
            clauses.append(f"source IN ({','.join('?' * len(filters.sources))})")
            values.extend(filters.sources)
        if doc_ids is None:
            where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = self._db.execute(f"SELECT {_RELEASE_FIELDS} FROM releases {where} ORDER BY {_OLDEST_FIRST}", values)
            return [_release(row) for row in rows]
        found: list[Any] = []
        for batch in _batches(doc_ids):
            where = " AND ".join([*clauses, f"doc_id IN ({','.join('?' * len(batch))})"])
            found += self._db.execute(
                f"SELECT {_RELEASE_FIELDS}, {_AGE} FROM releases WHERE {where}", [*values, *batch]
            )
        return [_release(row) for row in sorted(found, key=lambda row: row[len(_RELEASE_FIELDS.split(",")) :])]

    def recent(self, per_issuer: int) -> list[Release]:
        """The ``per_issuer`` newest releases (originals, not copies) of each issuer, the
        issuers with most releases first."""
        rows = self._db.execute(
            "SELECT doc_id FROM (SELECT doc_id, source, date, ROW_NUMBER() OVER "
            "(PARTITION BY source ORDER BY date DESC, doc_id) AS position, COUNT(*) OVER (PARTITION BY source) AS size "
            "FROM releases WHERE canonical_id IS NULL AND date IS NOT NULL) "
            "WHERE position <= ? ORDER BY size DESC, source, position",
            (per_issuer,),
        )
        return [self.release(doc_id) for (doc_id,) in rows.fetchall()]

    def moved(self, content_hash: str, origin: str, taken: Container[str]) -> str | None:
        """Where the file read now from ``origin`` was before it moved (a folder moved or
        mounted elsewhere): a release not among ``taken`` read from a file of the same name
        that is gone, with the same title, issuer, date, link and text (``content_hash``).
        A copy with another name, title or issuer is a duplicate, not a move."""
        name = Path(origin_file(origin)).name
        rows = self._db.execute(
            "SELECT doc_id, origin FROM releases WHERE content_hash=? ORDER BY doc_id", (content_hash,)
        )
        for doc_id, was in rows.fetchall():
            place = Path(origin_file(was, member=False))
            if (
                doc_id not in taken
                and Path(origin_file(was)).name == name
                and place.is_absolute()
                and not place.exists()
            ):
                return str(doc_id)
        return None

    def at_origin(self, origin: str) -> str | None:
        """The release last read from ``origin``."""
        row = self._db.execute("SELECT doc_id FROM releases WHERE origin=?", (origin,)).fetchone()
        return str(row[0]) if row else None

    def set_origin(self, doc_id: str, origin: str) -> None:
        self._db.execute("UPDATE releases SET origin=? WHERE doc_id=?", (origin, doc_id))

    def find(self, reference: str) -> list[str]:
        """Releases a reference names: its id, or the file it was read from (a path, or the
        end of one: "doj/2021-01-07-boeing.txt")."""
        rows = self._db.execute(
            "SELECT doc_id FROM releases WHERE doc_id = ? OR origin = ? OR origin LIKE ? ESCAPE '\\'",
            (reference, reference, "%/" + reference.replace("%", "\\%").replace("_", "\\_")),
        )
        return [doc_id for (doc_id,) in rows]

    def duplicate_of(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT canonical_id FROM releases WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def copies_of(self, doc_id: str) -> list[str]:
        """The releases linked to ``doc_id`` as its copies, oldest first (undated last)."""
        return [
            row[0]
            for row in self._db.execute(
                f"SELECT doc_id FROM releases WHERE canonical_id=? ORDER BY {_OLDEST_FIRST}", (doc_id,)
            )
        ]

    def states(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(version, canonical_id) of each stored release among ``doc_ids``."""
        found = {}
        for batch in _batches(doc_ids):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT doc_id, content_hash, canonical_id FROM releases WHERE doc_id IN ({marks})", batch
            )
            found.update({doc_id: (version_of(digest), canonical) for doc_id, digest, canonical in rows})
        return found

    def current_chunk_ids(self, doc_ids: Sequence[str]) -> list[str]:
        """The ids of the registered version's chunks of each release among ``doc_ids``."""
        marks = ",".join("?" * len(doc_ids))
        rows = self._db.execute(
            f"SELECT doc_id, content_hash, n_chunks FROM releases WHERE doc_id IN ({marks})", list(doc_ids)
        )
        return [
            make_chunk_id(doc_id, version_of(digest), index) for doc_id, digest, count in rows for index in range(count)
        ]

    def versions(self) -> dict[str, tuple[str, int]]:
        """(version, number of chunks) of every release."""
        rows = self._db.execute("SELECT doc_id, content_hash, n_chunks FROM releases")
        return {doc_id: (version_of(digest), count) for doc_id, digest, count in rows}

    def mark_pending(self, doc_ids: Sequence[str]) -> None:
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(doc_id,) for doc_id in doc_ids])

    def clear_pending(self, doc_ids: Sequence[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM pending WHERE doc_id=?", [(doc_id,) for doc_id in doc_ids])

    def pending(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT doc_id FROM pending ORDER BY doc_id")]

    def write(self, stored: Sequence[StoredRelease], links: Sequence[DuplicateMatch]) -> list[DuplicateLink]:
        """Commit a batch of releases and their duplicate matches in one transaction.

        ``links`` holds (doc_id, matched_id, kind, similarity); each joins the matched
        release's group, whose canonical release is the earliest-dated member.
        """
        made: list[DuplicateLink] = []
        with self._transaction():
            for item in stored:
                release = item.release
                self._detach(release.doc_id)  # a new version is matched afresh
                self._db.execute(
                    "INSERT OR REPLACE INTO releases VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,?)",
                    (
                        release.doc_id,
                        release.title,
                        release.source,
                        release.date and release.date.isoformat(),
                        release.url,
                        release.language,
                        release.origin,
                        item.content_hash,
                        item.text_hash,
                        item.minhash,
                        len(item.chunks),
                        release.distributed_at and release.distributed_at.isoformat(),
                    ),
                )
            for doc_id, matched, kind, similarity in links:
                made.extend(self._join_group(doc_id, matched, kind, similarity))
            self._bump()
        return made

    def _join_group(self, doc_id: str, matched: str, kind: DuplicateKind, similarity: float) -> list[DuplicateLink]:
        canonical = self.duplicate_of(matched) or matched
        if canonical == doc_id:
            return []
        if self._age(doc_id) < self._age(canonical):
            # The newcomer is older than the group's canonical release: it takes its place.
            members = [canonical, *self.copies_of(canonical)]
            self._db.execute("UPDATE releases SET canonical_id=? WHERE canonical_id=?", (doc_id, canonical))
            self._db.execute(
                "UPDATE releases SET canonical_id=?, duplicate_kind=?, similarity=? WHERE doc_id=?",
                (doc_id, kind, similarity, canonical),
            )
            return [DuplicateLink(member, doc_id, kind, similarity) for member in members]
        self._db.execute(
            "UPDATE releases SET canonical_id=?, duplicate_kind=?, similarity=? WHERE doc_id=?",
            (canonical, kind, similarity, doc_id),
        )
        return [DuplicateLink(doc_id, canonical, kind, similarity)]

    def _age(self, doc_id: str) -> tuple[bool, str, bool, str]:
        """Sort key of a release in its group, as in ``_OLDEST_FIRST`` (ties keep the incumbent)."""
        date, distributed = self._db.execute(
            "SELECT date, distributed_at FROM releases WHERE doc_id=?", (doc_id,)
        ).fetchone()
        return (date is None, date or "", distributed is None, distributed or "")

    def _detach(self, doc_id: str) -> None:
        """Take a release out of its duplicate group; if it was the canonical one, its oldest
        copy takes over."""
        copies = self.copies_of(doc_id)
        if copies:
            heir = copies[0]
            self._db.execute("UPDATE releases SET canonical_id=? WHERE canonical_id=?", (heir, doc_id))
            self._db.execute(
                "UPDATE releases SET canonical_id=NULL, duplicate_kind=NULL, similarity=NULL WHERE doc_id=?", (heir,)
            )
        self._db.execute(
            "UPDATE releases SET canonical_id=NULL, duplicate_kind=NULL, similarity=NULL WHERE doc_id=?", (doc_id,)
        )

    def delete(self, doc_ids: Sequence[str]) -> None:
        """Remove releases; a canonical release hands its group to its oldest copy."""
        with self._transaction():
            for doc_id in doc_ids:
                self._detach(doc_id)
                self._db.execute("DELETE FROM releases WHERE doc_id=?", (doc_id,))
            self._bump()

    def summary(self) -> dict[str, Any]:
        """Counts, issuers and date range; recomputed only after a write (every question's
        plan reads the issuers and the newest date)."""
        generation = self.generation
        if self._summary is None or self._summary[0] != generation:
            self._summary = (generation, self._summarise())
        cached = self._summary[1]
        # Callers may keep and change what they get.
        return {
            **cached,
            "issuers": dict(cached["issuers"]),
            "per_month": dict(cached["per_month"]),
            "issuer_latest": dict(cached["issuer_latest"]),
        }

    def _summarise(self) -> dict[str, Any]:
        count, chunks, first, last, undated, duplicates = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_chunks), 0), MIN(date), MAX(date), "
            "SUM(date IS NULL), SUM(canonical_id IS NOT NULL) FROM releases"
        ).fetchone()
        issuers = dict(
            self._db.execute(
                "SELECT COALESCE(source, ?), COUNT(*) FROM releases GROUP BY 1 ORDER BY 2 DESC, 1", (UNKNOWN_ISSUER,)
            )
        )
        per_month = dict(
            self._db.execute(
                "SELECT substr(date, 1, 7), COUNT(*) FROM releases WHERE date IS NOT NULL GROUP BY 1 ORDER BY 1"
            )
        )
        issuer_latest = self._db.execute(
            "SELECT source, MAX(date) FROM releases WHERE source IS NOT NULL AND date IS NOT NULL GROUP BY 1"
        )
        return {
            "releases": count,
            "chunks": chunks,
            "issuers": issuers,
            "per_month": per_month,
            "first_date": dt.date.fromisoformat(first) if first else None,
            "last_date": dt.date.fromisoformat(last) if last else None,
            "undated": undated or 0,
            "duplicates": duplicates or 0,
            "issuer_latest": {source: dt.date.fromisoformat(date) for source, date in issuer_latest},
        }

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


_RELEASE_FIELDS = "doc_id, title, source, date, url, language, origin"
# ``_OLDEST_FIRST`` as values to sort rows by in Python.
_AGE = "date IS NULL, IFNULL(date, ''), distributed_at IS NULL, IFNULL(distributed_at, ''), doc_id"
# SQLite takes at most 32,766 parameters in a statement.
_BATCH = 10_000


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield list(items[start : start + _BATCH])


def _release(row: Sequence[Any]) -> Release:
    """A release's metadata from a row of ``_RELEASE_FIELDS`` (its ``text`` left empty)."""
    return Release(
        doc_id=row[0],
        title=row[1],
        text="",
        source=row[2],
        date=dt.date.fromisoformat(row[3]) if row[3] else None,
        url=row[4],
        language=row[5],
        origin=row[6],
    )
