"""The archive on disk: Chroma chunks, the keyword index and the release registry.

Layout of an archive folder::

    pressqa.json        settings the vectors were built with (checked on every open), the
                        archive's id and where its chunks live (embedded or a Chroma server)
    chroma/             Chroma PersistentClient; collection "chunks", one record per chunk
                        (with a Chroma server, its collection "pressqa-<id>" instead)
    releases.sqlite3    registry: one row per release (metadata, hashes, duplicate links)
    keyword/            tantivy index of the same chunks, tagged with the registry generation

Chunk ids carry the version (content hash) of their release, so a new version is
written beside the old one.  Every batch write and delete follows the same steps, each
safe to be killed after:

1. the releases are marked *pending* in the registry (committed);
2. Chroma gets the new chunks (upsert: a rerun writes the same ids again);
3. the registry rows are committed: from here on search serves the new version;
4. the keyword index takes out the releases' old entries and puts in the new, in one
   commit tagged with the registry's generation;
5. chunks of other versions, or of deleted releases, are removed from Chroma;
6. the pending marks are cleared.

``recover()``, run whenever the write lock is taken, finishes steps 4 and 5 for anything
left pending, and search only serves chunks whose version matches the registry; so a kill
at any point leaves no duplicate, no missing chunk and no stale text.  A keyword index that
lags the registry with nothing pending (one of an older pressqa, a damaged one) is rebuilt
from Chroma; readers reload it when a writer in another process has committed a newer one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from pressqa.errors import ReleaseNotFoundError, SettingsMismatchError, StoreError
from pressqa.fsutil import atomic_write_text, out_of_space
from pressqa.keyword import KeywordChunk, KeywordIndex
from pressqa.settings import Settings
from pressqa.types import (
    ArchiveCheck,
    ArchiveStats,
    Chunk,
    DuplicateKind,
    DuplicateLink,
    Release,
    SearchFilters,
    date_int,
    describe,
    make_chunk_id,
    origin_file,
    printable,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: wire distribution time in the registry; 3: text between chunks kept
COLLECTION = "chunks"
# Chroma adds each write's vectors to its HNSW graph and saves the graph once sync_threshold
# vectors (default 1,000) have been added since the last save.  What was added but not saved
# is added again when the archive is opened, in an order that differs between processes, and
# so do the graph and the nearest neighbours: an analyst who re-asked after a restart got
# other sources.  A threshold of 1 saves the graph at the end of every write, so there is
# nothing to add again.  On 30,050 random vectors written 1,024 at a time, 3 fresh processes:
# the default gave 3 different top-20 sets, this one set; the build took 31 s instead of 27
# (the embedding of those chunks takes some 1,000 s).  A threshold of 256 still left up to
# 255 vectors to add again (6 of 200 dev questions differed between processes).
HNSW_SYNC_THRESHOLD = 1
UNKNOWN_ISSUER = "(unknown)"  # how statistics count releases whose issuer was not found

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
        row = self._db.execute(
            "SELECT doc_id, title, source, date, url, language, origin FROM releases WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            raise ReleaseNotFoundError(f"no release with id {doc_id!r} in the archive")
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
        marks = ",".join("?" * len(doc_ids))
        rows = self._db.execute(
            f"SELECT doc_id, content_hash, canonical_id FROM releases WHERE doc_id IN ({marks})", list(doc_ids)
        )
        return {doc_id: (version_of(digest), canonical) for doc_id, digest, canonical in rows}

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
        return {**cached, "issuers": dict(cached["issuers"]), "per_month": dict(cached["per_month"])}

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
        return {
            "releases": count,
            "chunks": chunks,
            "issuers": issuers,
            "per_month": per_month,
            "first_date": dt.date.fromisoformat(first) if first else None,
            "last_date": dt.date.fromisoformat(last) if last else None,
            "undated": undated or 0,
            "duplicates": duplicates or 0,
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


REGISTRY_FILE = "releases.sqlite3"
MANIFEST_FILE = "pressqa.json"


class Store:
    """The three parts of an archive behind one small class.

    Opening an archive checks that its parts are there and readable; a damaged part is a
    ``StoreError`` that names it and what to do.  With ``for_check`` the damage is kept in
    ``damage`` instead, for ``check`` to report and, where it can, repair.  An archive on
    a read-only folder or file system is opened for reading only (see ``read_only``).
    """

    def __init__(self, root: Path, settings: Settings, *, create: bool = True, for_check: bool = False) -> None:
        self.root = root
        self.settings = settings
        self.mode = "server" if settings.chroma_url else "embedded"
        self._for_check = for_check
        self.damage: list[str] = []
        self._registry_damaged = self._manifest_damaged = False
        self._snapshot: Path | None = None  # a read-only archive's Chroma, copied to be opened
        manifest = root / MANIFEST_FILE
        if not manifest.is_file() and not (root / REGISTRY_FILE).exists():  # a lost manifest is damage, below
            if not create:
                raise StoreError(f"no pressqa archive at {root}; create one with: pressqa ingest PATH --archive {root}")
            root.mkdir(parents=True, exist_ok=True)
            recorded = {"format": FORMAT_VERSION, "id": uuid.uuid4().hex, "chroma": self.mode}
            atomic_write_text(manifest, json.dumps({**recorded, **settings.archive_defining()}, indent=2))
            Registry(root / REGISTRY_FILE).close()
        self.read_only = not os.access(root, os.W_OK)  # this user may not write it, or nobody may
        self._immutable = bool(os.statvfs(root).f_flag & os.ST_RDONLY)
        self.registry = self._open_registry()
        self._recorded = recorded = self._read_manifest()
        self._check_manifest(recorded)
        name = COLLECTION if self.mode == "embedded" else f"pressqa-{recorded['id']}"
        self.chunks = self._collection(name)
        self.keyword = KeywordIndex(root / "keyword", read_only=self.read_only)
        self._check_registry()
        if self.read_only and not self.damage and self.keyword.generation != self.registry.generation:
            self.sync_keyword_index()  # in memory: nothing can write the folder

    def _open_registry(self) -> Registry:
        path = self.root / REGISTRY_FILE
        if not path.is_file():
            self._registry_damaged = True
            self._damaged(
                f"the release registry {path} is missing; `pressqa check --repair` rebuilds it from the chunks "
                "in Chroma"
            )
            return Registry(":memory:")
        try:
            registry = Registry(path, read_only=self.read_only, immutable=self._immutable)
            registry.summary()
        except sqlite3.DatabaseError as err:
            if getattr(err, "sqlite_errorname", "") not in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
                # A full disk, a lock, no permission: not damage to repair by moving the file aside.
                full = out_of_space(self.root, err)
                raise full or StoreError(f"cannot open the release registry {path}: {err}") from err
            self._registry_damaged = True
            self._damaged(
                f"the release registry {path} is damaged ({err}); `pressqa check --repair` moves it aside and "
                "rebuilds it from the chunks in Chroma"
            )
            return Registry(":memory:")
        return registry

    def _read_manifest(self) -> dict[str, Any]:
        """The archive's recorded settings: ``pressqa.json``, or its copy in the registry."""
        manifest = self.root / MANIFEST_FILE
        copy = self.registry.manifest()
        try:
            recorded = json.loads(manifest.read_text())
            if not isinstance(recorded, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as err:
            fix = "rewrites it from its copy in the registry" if copy else "cannot rebuild it: restore it from a backup"
            self._manifest_damaged = True
            state = "is missing" if isinstance(err, FileNotFoundError) else f"is damaged ({err})"
            self._damaged(f"{manifest} {state}; `pressqa check --repair` {fix}")
            if copy is None:
                raise StoreError(self.damage[-1]) from None
            restored: dict[str, Any] = json.loads(copy)
            return restored
        if copy is None and self.registry.writable:
            self.registry.keep_manifest(json.dumps(recorded, indent=2))  # archives made before the copy was kept
        return recorded

    def _damaged(self, problem: str) -> None:
        self.damage.append(problem)
        if not self._for_check:
            raise StoreError(problem)

    def _collection(self, name: str) -> Collection:
        """The archive's chunk collection; one that an archive with releases lacks, or that
        cannot be read, is an error naming the part (not an empty archive)."""
        from chromadb.errors import NotFoundError

        where = (
            f"the Chroma server at {self.settings.chroma_url}"
            if self.mode == "server"
            else f"the vector store {self.root / 'chroma'}"
        )
        try:
            self._client = self._chroma_client()
            if not self.registry.summary()["releases"] and not self.damage:
                # No embedding function: pressqa always passes vectors (Chroma's default one downloads a model).
                return self._client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "sync_threshold": HNSW_SYNC_THRESHOLD}},
                )
            collection = self._client.get_collection(name, embedding_function=None)
            collection.count()
            return collection
        except NotFoundError:
            self.close()
            if self.mode == "server":
                raise StoreError(
                    f"{where} has no collection {name}, which holds the chunks of archive {self.root}: point "
                    "--chroma-url at the server that has it, or ingest the releases into a new archive folder"
                ) from None
            raise StoreError(
                f"{where} has lost the chunks of archive {self.root}: restore the folder from a backup, or "
                "ingest the releases into a new archive folder"
            ) from None
        except StoreError:
            self.close()
            raise
        except Exception as err:  # chromadb raises its own InternalError, sqlite's errors, OSError
            self.close()
            advice = (
                f"restore {self.root / 'chroma'} from a backup, or ingest the releases into a new archive folder"
                if self.mode == "embedded"
                else "check the server's log"
            )
            raise StoreError(f"{where} cannot be read ({type(err).__name__}: {err}); {advice}") from None

    def _check_registry(self) -> None:
        """A registry that lists no release beside a collection that holds chunks was emptied
        or replaced: serving it would answer as if the archive were empty."""
        if self.damage or self.registry.summary()["releases"] or self.registry.pending():
            return
        held = self.chunks.count()
        if held:
            self._registry_damaged = True
            self._damaged(
                f"the release registry {self.root / REGISTRY_FILE} lists no release, but Chroma holds {held} "
                "chunk(s): `pressqa check --repair` rebuilds the registry from them"
            )

    def _chroma_client(self) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_url is None:
            folder = self.root / "chroma"
            if self.read_only:
                # Chroma opens its files for writing, which a read-only folder refuses: it reads a copy.
                self._snapshot = Path(tempfile.mkdtemp(prefix="pressqa-read-only-"))
                log.warning("archive %s is read-only: reading a temporary copy of its Chroma folder", self.root)
                folder = self._snapshot / "chroma"
                shutil.copytree(self.root / "chroma", folder)
            return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
        url = urlsplit(self.settings.chroma_url)
        https = url.scheme == "https"
        try:
            return chromadb.HttpClient(
                host=url.hostname or "", port=url.port or (443 if https else 80), ssl=https, settings=chroma_settings
            )
        except ValueError as err:  # what chromadb raises when nothing answers
            raise StoreError(
                f"cannot reach the Chroma server at {self.settings.chroma_url} ({err}); "
                "start one with: chroma run --path CHROMA_DIR --host 127.0.0.1 --port PORT"
            ) from None

    def _check_manifest(self, recorded: dict[str, Any]) -> None:
        if recorded.get("format") != FORMAT_VERSION:
            raise StoreError(
                f"archive {self.root} has format {recorded.get('format')}, this pressqa reads {FORMAT_VERSION}"
            )
        kept = recorded.get("chroma", "embedded")
        if kept != self.mode:
            where, how = (
                ("on a Chroma server", "pass --chroma-url (or set PRESSQA_CHROMA_URL)")
                if kept == "server"
                else (
                    "in its own folder",
                    "open it without --chroma-url or PRESSQA_CHROMA_URL (to move it to a server, ingest its "
                    "releases into a new archive folder with --chroma-url)",
                )
            )
            raise StoreError(f"archive {self.root} keeps its chunks {where}; {how}")
        wanted = self.settings.archive_defining()
        differing = {name: (recorded.get(name), value) for name, value in wanted.items() if recorded.get(name) != value}
        if differing:
            detail = "; ".join(
                f"{name}: archive has {old!r}, settings ask for {new!r}" for name, (old, new) in differing.items()
            )
            raise SettingsMismatchError(
                f"archive {self.root} was built with other settings ({detail}). Open it with the archive's "
                "settings, or ingest into a new archive to use the new ones."
            )

    def close(self) -> None:
        self.registry.close()
        if self._snapshot is not None:
            shutil.rmtree(self._snapshot, ignore_errors=True)

    def write(
        self, batch: Sequence[StoredRelease], vectors: np.ndarray, links: Sequence[DuplicateMatch]
    ) -> tuple[int, list[DuplicateLink]]:
        """Store a batch (steps 1-5 of the module docstring).

        Returns the number of chunks of older versions removed and the duplicate links made.
        """
        doc_ids = [item.release.doc_id for item in batch]
        self.registry.mark_pending(doc_ids)
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for item in batch:
            ends = [later.start for later in item.chunks[1:]] + [len(item.release.text)]
            for chunk, next_start in zip(item.chunks, ends, strict=True):
                ids.append(chunk.chunk_id)
                documents.append(chunk.text)
                metadata = chunk_metadata(item.release, chunk, version_of(item.content_hash))
                if chunk.index == 0:
                    metadata.update(registry_metadata(item))
                if next_start > chunk.end:  # what the chunker left out before the next chunk
                    metadata["after"] = item.release.text[chunk.end : next_start]
                metadatas.append(metadata)
        self._upsert(ids, vectors, documents, metadatas)
        made = self.registry.write(batch, links)
        self.keyword.replace(
            doc_ids,
            (keyword_chunk(item.release, chunk.chunk_id, chunk.text) for item in batch for chunk in item.chunks),
            self.registry.generation,
        )
        removed = self._remove_stale_chunks(doc_ids)
        self.registry.clear_pending(doc_ids)
        return removed, made

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Remove releases everywhere; returns how many chunks went with them."""
        for doc_id in doc_ids:
            self.registry.release(doc_id)  # raises ReleaseNotFoundError before anything changes
        self.registry.mark_pending(doc_ids)
        self.registry.delete(doc_ids)
        self.keyword.replace(doc_ids, (), self.registry.generation)
        removed = self._remove_stale_chunks(doc_ids)
        self.registry.clear_pending(doc_ids)
        return removed

    def needs_recovery(self) -> bool:
        return (
            bool(self.registry.pending())
            or self.keyword.generation != self.registry.generation
            or not self.index_settled()
        )

    def recover(self) -> None:
        """Finish the writes of a process that was killed: drop chunks of versions the
        registry does not hold, then bring the keyword index in step; and make an older
        archive's vector index save after every write."""
        pending = self.registry.pending()
        if pending:
            log.warning("completing %d release writes left unfinished by an interrupted run", len(pending))
            self._remove_stale_chunks(pending)
            # Every write marks its releases pending until their keyword entries are committed,
            # so those are all the keyword index can lag by: they are indexed again.
            current = (
                keyword_chunk(release_of(metadata), chunk_id, document)
                for chunk_id, document, metadata in self.current_chunks(pending)
            )
            if self.keyword.generation >= 0:  # none yet (an older pressqa's): rebuilt whole below
                self.keyword.replace(pending, current, self.registry.generation)
            self.registry.clear_pending(pending)
        self.sync_keyword_index()
        if not self.index_settled():
            self._settle_index()

    def index_settled(self) -> bool:
        """Whether Chroma saves this archive's HNSW graph after every write (see
        ``HNSW_SYNC_THRESHOLD``), so that every process that opens it searches the same graph."""
        configured = (self.chunks.configuration_json or {}).get("hnsw") or {}
        return configured.get("sync_threshold") == HNSW_SYNC_THRESHOLD

    def _settle_index(self) -> None:
        """Switch an archive made by an older pressqa to saving after every write, and save
        what it had added but not saved.  The graph Chroma has loaded (here, or on a server)
        keeps its old threshold until it is loaded again, so as many chunks as that threshold
        are rewritten as they are: that many writes make it save."""
        log.warning("archive %s: saving its vector index so that every process searches the same one", self.root)
        configured = (self.chunks.configuration_json or {}).get("hnsw") or {}
        threshold = int(configured.get("sync_threshold") or 1000)
        self.chunks.modify(configuration={"hnsw": {"sync_threshold": HNSW_SYNC_THRESHOLD}})
        same = self.chunks.get(limit=threshold, include=["embeddings", "documents", "metadatas"])
        self._upsert(same["ids"], same["embeddings"], same["documents"] or [], same["metadatas"] or [])

    def _upsert(self, ids: Sequence[str], vectors: Any, documents: Sequence[str], metadatas: Sequence[Any]) -> None:
        """Write chunks to Chroma, as many per call as it takes."""
        limit = self._client.get_max_batch_size()
        for at in range(0, len(ids), limit):
            self.chunks.upsert(
                ids=list(ids[at : at + limit]),
                embeddings=vectors[at : at + limit],
                documents=list(documents[at : at + limit]),
                metadatas=list(metadatas[at : at + limit]),
            )

    def refresh(self) -> None:
        """Serve what a writer in another process has committed: load the keyword index it
        saved (Chroma and the registry show new writes by themselves)."""
        if self.keyword.generation != self.registry.generation:
            self.keyword.reload()

    def _remove_stale_chunks(self, doc_ids: Sequence[str]) -> int:
        """Delete the chunks of these releases that are not of their registered version."""
        states = self.registry.states(doc_ids)
        where: Any = {"doc_id": {"$in": list(doc_ids)}}  # chromadb's Where type does not admit list[str]
        found = self.chunks.get(where=where, include=["metadatas"])
        stale = [
            chunk_id
            for chunk_id, metadata in zip(found["ids"], found["metadatas"] or [], strict=True)
            if states.get(str(metadata["doc_id"]), ("", None))[0] != metadata.get("version")
        ]
        if stale:
            self.chunks.delete(ids=stale)
        return len(stale)

    def sync_keyword_index(self, *, force: bool = False) -> None:
        """Rebuild the keyword index from the registered chunks in Chroma if it lags the
        registry without a pending write to say where (an index of an older pressqa, a
        damaged one, a repair), or if ``force``d."""
        generation = self.registry.generation
        if self.keyword.generation == generation and not force:
            return
        versions = self.registry.versions()
        self.keyword.rebuild(
            (
                keyword_chunk(release_of(metadata), chunk_id, document)
                for chunk_id, document, metadata in self.iter_chunks()
                if versions.get(str(metadata["doc_id"]), ("", 0))[0] == metadata.get("version")
            ),
            generation,
        )

    def check(self, *, repair: bool, force: bool = False, adopt: Adopter | None = None) -> ArchiveCheck:
        """Compare the registry, Chroma and the keyword index, reporting an interrupted write
        before anything finishes it.  With ``repair``: rebuild a missing, damaged or emptied
        registry, finish interrupted writes, give chunks that hold a whole release of no
        registered release back to the registry (``adopt``), drop old versions' chunks and
        rebuild the keyword index.  What cannot be re-added (a release missing chunks,
        chunks of part of a release) is only dropped with ``force``."""
        problems: list[str] = []
        repaired: list[str] = []
        remaining: list[str] = []

        def found(problem: str, fixed: bool) -> None:
            problems.append(problem)
            (repaired if fixed else remaining).append(problem)

        for damage in self.damage:
            found(damage, repair)
        if repair and self._registry_damaged:
            self._replace_registry()
        if repair and self._manifest_damaged:
            atomic_write_text(self.root / MANIFEST_FILE, json.dumps(self._recorded, indent=2))
        self.damage = []
        pending = self.registry.pending()
        if pending:
            found(f"{len(pending)} release write(s) left unfinished by an interrupted run: {_listed(pending)}", repair)
            if repair:
                self.recover()
        versions = self.registry.versions()
        held: dict[str, set[int]] = {}
        # Chunks of other versions than the registered one, or of releases the registry does
        # not list: doc_id -> version -> (id, text, metadata).
        others: dict[str, dict[str, list[tuple[str, str, dict[str, Any]]]]] = {}
        unfinished = set(self.registry.pending())  # their other chunks are rolled back by --repair
        index_in_step = self.keyword.generation == self.registry.generation
        current_ids = set()  # what the keyword index should hold: the registered versions' chunks
        for chunk_id, document, metadata in self.iter_chunks():
            doc_id, version = str(metadata["doc_id"]), str(metadata.get("version"))
            if doc_id in unfinished and versions.get(doc_id, ("", 0))[0] != version:
                continue
            if versions.get(doc_id, ("", 0))[0] == version:
                held.setdefault(doc_id, set()).add(int(str(metadata["chunk"])))
                current_ids.add(chunk_id)
            else:
                others.setdefault(doc_id, {}).setdefault(version, []).append((chunk_id, document, metadata))
        keyword_differs = not index_in_step or set(self.keyword.ids) != current_ids  # before any repair
        incomplete = {doc_id for doc_id, (_, count) in versions.items() if held.get(doc_id, set()) != set(range(count))}
        adoptable: list[list[tuple[str, str, dict[str, Any]]]] = []  # whole versions the registry should list
        stale: list[str] = []  # chunks of a version that a whole registered one supersedes
        partial: list[str] = []  # chunks that cannot be put together into a release
        ambiguous: list[str] = []  # releases with several whole versions and no record of which came last
        for doc_id, by_version in sorted(others.items()):
            if doc_id in versions and doc_id not in incomplete:
                stale += [chunk_id for chunks in by_version.values() for chunk_id, _, _ in chunks]
                continue
            # To replace a version the registry lists, a version must say how many chunks it has.
            whole = {
                version: chunks
                for version, chunks in by_version.items()
                if _complete(chunks, declared=doc_id in versions)
            }
            latest = _latest(whole)
            if latest is None and len(whole) > 1:
                ambiguous.append(doc_id)
                latest = max(whole) if force else None
            if latest is None:
                partial += [chunk_id for chunks in by_version.values() for chunk_id, _, _ in chunks]
                continue
            adoptable.append(whole[latest])
            incomplete.discard(doc_id)  # the registry is given the whole version instead
            if doc_id in versions:  # what is left of the version it listed
                registered = versions[doc_id][0]
                stale += [make_chunk_id(doc_id, registered, index) for index in held.get(doc_id, set())]
            for version, chunks in by_version.items():
                stale += [chunk_id for chunk_id, _, _ in chunks] if version != latest else []
        if ambiguous:
            found(
                f"{len(ambiguous)} release(s) with several whole versions in Chroma and no record of which is newer: "
                f"{_listed(ambiguous)}" + ("" if force else " (--repair --force keeps one of each)"),
                repair and force,
            )
        if adoptable:
            names = [str(chunks[0][2]["doc_id"]) for chunks in adoptable]
            found(
                f"{len(adoptable)} release(s) whole in Chroma that the registry does not list so (given back to it "
                f"by --repair): {_listed(names)}",
                repair and adopt is not None,
            )
            if repair and adopt is not None:
                adopt(adoptable)
        if stale:
            found(f"{len(stale)} chunk(s) in Chroma of an old version of a release", repair)
            if repair:
                self.chunks.delete(ids=stale)
        if partial:
            found(
                f"{len(partial)} chunk(s) in Chroma of no registered release and too few to rebuild one"
                + ("" if force else " (--repair --force drops them)"),
                repair and force,
            )
            if repair and force:
                self.chunks.delete(ids=partial)
        if incomplete:
            found(
                f"{len(incomplete)} release(s) missing chunks in Chroma: {_listed(sorted(incomplete))} "
                + ("(dropped: ingest their sources again)" if force else "(--repair --force drops them)"),
                repair and force,
            )
            if repair and force:
                self.delete(sorted(incomplete))
        if keyword_differs:
            found("the keyword index does not match the chunks in Chroma", repair)
        if not self.index_settled():
            found(
                "the vector index is saved only every 1,000 chunks (an archive from an older pressqa), so "
                "processes that open it may search different graphs and answer differently; --repair or the "
                "next ingest saves it after every write",
                repair,
            )
            if repair:
                self._settle_index()
        if repair and problems:
            self.sync_keyword_index(force=True)
        return ArchiveCheck(tuple(problems), tuple(repaired), tuple(remaining))

    def _replace_registry(self) -> None:
        """Make way for a registry rebuilt from Chroma: a damaged file is kept beside, and
        the manifest is written again from the settings it recorded."""
        path = self.root / REGISTRY_FILE
        self.registry.close()
        if path.exists():
            kept = path.with_name(f"{REGISTRY_FILE}.damaged-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}")
            for part in (path, path.with_name(REGISTRY_FILE + "-wal"), path.with_name(REGISTRY_FILE + "-shm")):
                if part.exists():
                    part.rename(kept.with_name(kept.name + part.name.removeprefix(REGISTRY_FILE)))
            log.warning("moved the damaged registry aside to %s", kept)
        self.registry = Registry(path)
        self.registry.keep_manifest(json.dumps(self._recorded, indent=2))
        self._registry_damaged = False

    def iter_chunks(self, page: int = 5000) -> Iterator[tuple[str, str, dict[str, Any]]]:
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=offset)
            if not got["ids"]:
                return
            yield from zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
            offset += len(got["ids"])

    def current_chunks(self, doc_ids: Sequence[str]) -> list[tuple[str, str, Mapping[str, Any]]]:
        """(id, text, metadata) of the registered version's chunks of these releases, fetched
        by id: a Chroma ``where`` on doc_id scans the metadata (38 ms at 345k chunks)."""
        ids = self.registry.current_chunk_ids(doc_ids)
        chunks: list[tuple[str, str, Mapping[str, Any]]] = []
        limit = self._client.get_max_batch_size()  # one long release can have more chunks than a get takes
        for at in range(0, len(ids), limit):
            found = self.chunks.get(ids=ids[at : at + limit], include=["documents", "metadatas"])
            chunks += zip(found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True)
        return chunks

    def release_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """The text of each release as ingested, put together from its stored chunks and
        the text between them, so citations' offsets point into it."""
        if not doc_ids:
            return {}
        chunks: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for _, document, metadata in self.current_chunks(doc_ids):
            chunks.setdefault(str(metadata["doc_id"]), []).append((document, metadata))
        return {doc_id: assemble_text(pieces) for doc_id, pieces in chunks.items()}

    def stats(self) -> ArchiveStats:
        summary = self.registry.summary()
        size = 0
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # a writer may replace files meanwhile
                size += path.stat().st_size if path.is_file() else 0
        return ArchiveStats(**summary, bytes_on_disk=size, embedding_model=self.settings.embedding_model)


#: Puts releases found in Chroma but not in the registry back into it (see ``Store.check``):
#: each list holds the (id, text, metadata) of every chunk of one release's version.
Adopter = Callable[[list[list[tuple[str, str, dict[str, Any]]]]], None]


def _complete(chunks: Sequence[tuple[str, str, Mapping[str, Any]]], *, declared: bool = False) -> bool:
    """Whether these chunks are all of one release's version: 0 to n-1, where the first
    chunk records n (archives from before it was recorded: no gap, unless ``declared``
    asks for the record)."""
    indexes = sorted(int(str(metadata["chunk"])) for _, _, metadata in chunks)
    first = next((metadata for _, _, metadata in chunks if int(str(metadata["chunk"])) == 0), None)
    if first is None or (declared and "n_chunks" not in first):
        return False
    expected = int(first.get("n_chunks", len(indexes)))
    return indexes == list(range(expected))


def _latest(versions: Mapping[str, Sequence[tuple[str, str, Mapping[str, Any]]]]) -> str | None:
    """Which of a release's whole versions was written last, by the time its first chunk
    records; None when that cannot be told (several versions, one of them without it)."""
    if len(versions) == 1:
        return next(iter(versions))
    written = {}
    for version, chunks in versions.items():
        first = next(metadata for _, _, metadata in chunks if int(str(metadata["chunk"])) == 0)
        if "written" not in first:
            return None
        written[version] = int(first["written"])
    return max(written, key=lambda version: (written[version], version)) if written else None


def _listed(names: Sequence[str], limit: int = 10) -> str:
    """The first ``limit`` names, and how many more."""
    shown = ", ".join(printable(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def chunk_metadata(release: Release, chunk: Chunk, version: str) -> dict[str, str | int]:
    """Chroma metadata of a chunk; absent values are left out (Chroma stores no None)."""
    metadata: dict[str, str | int] = {
        "doc_id": release.doc_id,
        "version": version,
        "chunk": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": release.title,
    }
    optional = {
        "source": release.source,
        "date": release.date and release.date.isoformat(),
        "date_int": release.date_int,
        "url": release.url,
        "language": release.language,
    }
    metadata.update({key: value for key, value in optional.items() if value})
    return metadata


def keyword_chunk(release: Release, chunk_id: str, text: str) -> KeywordChunk:
    """A chunk as the keyword index takes it: after its release's ``title | issuer | date``
    header, so that a passage is found by who said it and when."""
    return KeywordChunk(chunk_id, release.doc_id, f"{describe(release)}\n\n{text}", release.date, release.source)


def assemble_text(chunks: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """A release's text put together from its chunks' (text, metadata) and the text
    between them, so that the chunks' offsets point into it."""
    text = ""
    pieces = sorted(
        (int(str(metadata["start"])), document + str(metadata.get("after", ""))) for document, metadata in chunks
    )
    for start, piece in pieces:
        text = text.ljust(start)  # whitespace before the first chunk, which no chunk holds
        text += piece[len(text) - start :]  # chunks overlap: add what is new
    return text


def registry_metadata(item: StoredRelease) -> dict[str, str | int]:
    """What the registry holds of a release beyond its chunks' metadata, kept on its first
    chunk so that a lost registry can be rebuilt from Chroma."""
    release = item.release
    kept: dict[str, str | int] = {
        "n_chunks": len(item.chunks),
        "content_hash": item.content_hash,
        "written": time.time_ns(),  # which of two whole versions is the newer (not a date: none is guessed)
    }
    if release.origin:
        kept["origin"] = release.origin
    if release.distributed_at:
        kept["distributed_at"] = release.distributed_at.isoformat()
    return kept


def release_of(metadata: Mapping[str, Any]) -> Release:
    """The release metadata a stored chunk carries (its ``text`` left empty)."""
    return Release(
        doc_id=str(metadata["doc_id"]),
        title=str(metadata.get("title", "")),
        text="",
        source=metadata.get("source"),
        date=dt.date.fromisoformat(metadata["date"]) if metadata.get("date") else None,
        url=metadata.get("url"),
        language=metadata.get("language"),
    )


def chroma_where(filters: SearchFilters) -> dict[str, Any] | None:
    """The Chroma ``where`` clause for ``filters`` (None when there is nothing to limit)."""
    clauses: list[dict[str, Any]] = []
    if filters.since:
        clauses.append({"date_int": {"$gte": date_int(filters.since)}})
    if filters.until:
        clauses.append({"date_int": {"$lte": date_int(filters.until)}})
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
