"""The archive on disk: Chroma chunks, the keyword index and the release registry.

Layout of an archive folder::

    pressqa.json        settings the vectors were built with (checked on every open), the
                        archive's id and where its chunks live (embedded or a Chroma server)
    chroma/             Chroma PersistentClient; collection "chunks", one record per chunk
                        (with a Chroma server, its collection "pressqa-<id>" instead)
    releases.sqlite3    registry: one row per release (metadata, hashes, duplicate links)
    keyword/            bm25s index of the same chunks, tagged with the registry generation

Chunk ids carry the version (content hash) of their release, so a new version is
written beside the old one.  Every batch write and delete follows the same steps, each
safe to be killed after:

1. the releases are marked *pending* in the registry (committed);
2. Chroma gets the new chunks (upsert: a rerun writes the same ids again);
3. the registry rows are committed: from here on search serves the new version;
4. chunks of other versions, or of deleted releases, are removed from Chroma;
5. the pending marks are cleared.

``recover()``, run whenever the write lock is taken, finishes step 4 for anything left
pending, and search only serves chunks whose version matches the registry; so a kill at
any point leaves no duplicate, no missing chunk and no stale text.  The keyword index is
rebuilt from Chroma whenever its generation lags the registry's, and reloaded by readers
when a writer in another process has saved a newer one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from pressqa.errors import ReleaseNotFoundError, SettingsMismatchError, StoreError
from pressqa.fsutil import atomic_write_text
from pressqa.keyword import KeywordIndex
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
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: wire distribution time in the registry; 3: text between chunks kept
COLLECTION = "chunks"
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

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._summary: tuple[int, dict[str, Any]] | None = None

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


class Store:
    """The three parts of an archive behind one small class."""

    def __init__(self, root: Path, settings: Settings, *, create: bool = True) -> None:
        self.root = root
        self.settings = settings
        self.mode = "server" if settings.chroma_url else "embedded"
        manifest = root / "pressqa.json"
        if not manifest.is_file():
            if not create:
                raise StoreError(f"no pressqa archive at {root}; create one with: pressqa ingest PATH --archive {root}")
            root.mkdir(parents=True, exist_ok=True)
            recorded = {"format": FORMAT_VERSION, "id": uuid.uuid4().hex, "chroma": self.mode}
            atomic_write_text(manifest, json.dumps({**recorded, **settings.archive_defining()}, indent=2))
        recorded = json.loads(manifest.read_text())
        self._check_manifest(recorded)
        self.registry = Registry(root / "releases.sqlite3")
        self._client = self._chroma_client()
        name = COLLECTION if self.mode == "embedded" else f"pressqa-{recorded['id']}"
        if self.mode == "server" and self.registry.summary()["releases"]:
            self._expect_collection(name)
        # No embedding function: pressqa always passes vectors (Chroma's default one downloads a model).
        self.chunks = self._client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self.keyword = KeywordIndex(root / "keyword")

    def _expect_collection(self, name: str) -> None:
        """A server without the collection of an archive that has releases is the wrong
        server, or one whose data was lost: say so rather than serve nothing."""
        from chromadb.errors import NotFoundError

        try:
            self._client.get_collection(name)
        except NotFoundError:
            self.registry.close()
            raise StoreError(
                f"the Chroma server at {self.settings.chroma_url} has no collection {name}, which holds the "
                f"chunks of archive {self.root}: point --chroma-url at the server that has it, or ingest "
                "the releases into a new archive folder"
            ) from None

    def _chroma_client(self) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_url is None:
            return chromadb.PersistentClient(path=str(self.root / "chroma"), settings=chroma_settings)
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
                if next_start > chunk.end:  # what the chunker left out before the next chunk
                    metadata["after"] = item.release.text[chunk.end : next_start]
                metadatas.append(metadata)
        limit = self._client.get_max_batch_size()
        for at in range(0, len(ids), limit):
            self.chunks.upsert(
                ids=ids[at : at + limit],
                embeddings=vectors[at : at + limit],
                documents=documents[at : at + limit],
                metadatas=metadatas[at : at + limit],  # type: ignore[arg-type]
            )
        made = self.registry.write(batch, links)
        removed = self._remove_stale_chunks(doc_ids)
        self.registry.clear_pending(doc_ids)
        return removed, made

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Remove releases everywhere; returns how many chunks went with them."""
        for doc_id in doc_ids:
            self.registry.release(doc_id)  # raises ReleaseNotFoundError before anything changes
        self.registry.mark_pending(doc_ids)
        self.registry.delete(doc_ids)
        removed = self._remove_stale_chunks(doc_ids)
        self.registry.clear_pending(doc_ids)
        return removed

    def needs_recovery(self) -> bool:
        return bool(self.registry.pending()) or self.keyword.generation != self.registry.generation

    def recover(self) -> None:
        """Finish the writes of a process that was killed: drop chunks of versions the
        registry does not hold, then bring the keyword index in step."""
        pending = self.registry.pending()
        if pending:
            log.warning("completing %d release writes left unfinished by an interrupted run", len(pending))
            self._remove_stale_chunks(pending)
            self.registry.clear_pending(pending)
        self.sync_keyword_index()

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
        """Rebuild the keyword index from Chroma if it lags the registry (after writes or a
        crash), or if ``force``d."""
        generation = self.registry.generation
        if self.keyword.generation == generation and not force:
            return
        ids, texts, dates, sources = [], [], [], []
        for chunk_id, document, metadata in self.iter_chunks():
            release = release_of(metadata)
            ids.append(chunk_id)
            texts.append(f"{describe(release)}\n\n{document}")
            dates.append(release.date)
            sources.append(release.source)
        self.keyword.rebuild(ids, texts, dates, sources, generation)

    def check(self, *, repair: bool) -> ArchiveCheck:
        """Compare the registry, Chroma and the keyword index; with ``repair``, finish
        interrupted writes, drop chunks no release owns, drop releases whose chunks are
        incomplete (the next ingest of their source adds them again) and rebuild the index."""
        problems: list[str] = []
        repaired: list[str] = []
        remaining: list[str] = []

        def found(problem: str, fixable: bool) -> None:
            problems.append(problem)
            (repaired if repair and fixable else remaining).append(problem)

        pending = self.registry.pending()
        if pending:
            found(f"{len(pending)} release write(s) left unfinished by an interrupted run", True)
            if repair:
                self.recover()
        versions = self.registry.versions()
        held: dict[str, set[int]] = {}
        unowned = []
        for chunk_id, _, metadata in self.iter_chunks():
            doc_id = str(metadata["doc_id"])
            if versions.get(doc_id, ("", 0))[0] != metadata.get("version"):
                unowned.append(chunk_id)
            else:
                held.setdefault(doc_id, set()).add(int(str(metadata["chunk"])))
        if unowned:
            found(f"{len(unowned)} chunk(s) in Chroma of no registered release or of an old version", True)
            if repair:
                self.chunks.delete(ids=unowned)
        incomplete = sorted(
            doc_id for doc_id, (_, count) in versions.items() if held.get(doc_id, set()) != set(range(count))
        )
        if incomplete:
            found(
                f"{len(incomplete)} release(s) missing chunks in Chroma (ingest their sources again after "
                f"--repair): {', '.join(incomplete[:10])}",
                True,
            )
            if repair:
                self.delete(incomplete)
        chroma_ids = {chunk_id for chunk_id, _, _ in self.iter_chunks()}
        stale_index = self.keyword.generation != self.registry.generation or set(self.keyword.ids) != chroma_ids
        if stale_index:
            found("the keyword index does not match the chunks in Chroma", True)
        if repair and (stale_index or problems):
            self.sync_keyword_index(force=True)
        return ArchiveCheck(tuple(problems), tuple(repaired), tuple(remaining))

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
        pieces: dict[str, list[tuple[int, str]]] = {}
        for _, document, metadata in self.current_chunks(doc_ids):
            piece = document + str(metadata.get("after", ""))
            pieces.setdefault(str(metadata["doc_id"]), []).append((int(str(metadata["start"])), piece))
        texts = {}
        for doc_id, chunks in pieces.items():
            text = ""
            for start, piece in sorted(chunks):
                text = text.ljust(start)  # whitespace before the first chunk, which no chunk holds
                text += piece[len(text) - start :]  # chunks overlap: add what is new
            texts[doc_id] = text
        return texts

    def stats(self) -> ArchiveStats:
        summary = self.registry.summary()
        size = 0
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # a writer may replace files meanwhile
                size += path.stat().st_size if path.is_file() else 0
        return ArchiveStats(**summary, bytes_on_disk=size, embedding_model=self.settings.embedding_model)


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
