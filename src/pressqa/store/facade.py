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
import sqlite3
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pressqa.errors import SettingsMismatchError, StoreError
from pressqa.fsutil import atomic_write_text, out_of_space
from pressqa.settings import Settings
from pressqa.store.chunks import COLLECTION, ChunkStore, StoredChunk, assemble_text
from pressqa.store.keyword import KeywordChunk, KeywordIndex
from pressqa.store.registry import REGISTRY_FILE, DuplicateMatch, Registry, StoredRelease
from pressqa.types import (
    ArchiveCheck,
    ArchiveStats,
    DuplicateLink,
    Release,
    SearchFilters,
    describe,
    make_chunk_id,
    printable,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: wire distribution time in the registry; 3: text between chunks kept
MANIFEST_FILE = "pressqa.json"


class Store:
    """The three parts of an archive behind one small class: the only way in to them.

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
        self._registry = self._open_registry()
        try:
            self._recorded = recorded = self._read_manifest()
            self._check_manifest(recorded)
            self._chunks = ChunkStore(
                root,
                COLLECTION if self.mode == "embedded" else f"pressqa-{recorded['id']}",
                url=settings.chroma_url,
                read_only=self.read_only,
                # An archive with releases must have its collection: a new one would be an empty archive.
                create=not self._registry.summary()["releases"] and not self.damage,
            )
            self._keyword = KeywordIndex(root / "keyword", read_only=self.read_only)
            self._check_registry()
            if self.read_only and not self.damage and self._keyword.generation != self._registry.generation:
                self.sync_keyword_index()  # in memory: nothing can write the folder
        except BaseException:  # let go of the registry, and of a read-only archive's copy of Chroma
            self._registry.close()
            if hasattr(self, "_chunks"):
                self._chunks.close()
            raise

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
        copy = self._registry.manifest()
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
        if copy is None and self._registry.writable:
            self._registry.keep_manifest(json.dumps(recorded, indent=2))  # archives made before the copy was kept
        return recorded

    def _damaged(self, problem: str) -> None:
        self.damage.append(problem)
        if not self._for_check:
            raise StoreError(problem)

    def _check_registry(self) -> None:
        """A registry that lists no release beside a collection that holds chunks was emptied
        or replaced: serving it would answer as if the archive were empty."""
        if self.damage or self._registry.summary()["releases"] or self._registry.pending():
            return
        held = self._chunks.count()
        if held:
            self._registry_damaged = True
            self._damaged(
                f"the release registry {self.root / REGISTRY_FILE} lists no release, but Chroma holds {held} "
                "chunk(s): `pressqa check --repair` rebuilds the registry from them"
            )

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
        self._registry.close()
        self._chunks.close()

    # Writing: the protocol of the module docstring.

    def write(
        self, batch: Sequence[StoredRelease], vectors: np.ndarray, links: Sequence[DuplicateMatch]
    ) -> tuple[int, list[DuplicateLink]]:
        """Store a batch (steps 1-6 of the module docstring).

        Returns the number of chunks of older versions removed and the duplicate links made.
        """
        doc_ids = [item.release.doc_id for item in batch]
        self._registry.mark_pending(doc_ids)
        self._chunks.write(batch, vectors)
        made = self._registry.write(batch, links)
        self._keyword.replace(
            doc_ids,
            (keyword_chunk(item.release, chunk.chunk_id, chunk.text) for item in batch for chunk in item.chunks),
            self._registry.generation,
        )
        removed = self._remove_stale_chunks(doc_ids)
        self._registry.clear_pending(doc_ids)
        return removed, made

    def register(self, batch: Sequence[StoredRelease], links: Sequence[DuplicateMatch]) -> None:
        """Put releases whose chunks Chroma holds already back in the registry (``check --repair``)."""
        self._registry.write(batch, links)

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Remove releases everywhere; returns how many chunks went with them."""
        for doc_id in doc_ids:
            self._registry.release(doc_id)  # raises ReleaseNotFoundError before anything changes
        self._registry.mark_pending(doc_ids)
        self._registry.delete(doc_ids)
        self._keyword.replace(doc_ids, (), self._registry.generation)
        removed = self._remove_stale_chunks(doc_ids)
        self._registry.clear_pending(doc_ids)
        return removed

    def set_origin(self, doc_id: str, origin: str) -> None:
        """Record that a release's file is now read from ``origin`` (its folder moved)."""
        self._registry.set_origin(doc_id, origin)

    def needs_recovery(self) -> bool:
        return (
            bool(self._registry.pending())
            or self._keyword.generation != self._registry.generation
            or not self._chunks.settled()
        )

    def recover(self) -> None:
        """Finish the writes of a process that was killed: drop chunks of versions the
        registry does not hold, then bring the keyword index in step; and make an older
        archive's vector index save after every write."""
        pending = self._registry.pending()
        if pending:
            log.warning("completing %d release writes left unfinished by an interrupted run", len(pending))
            self._remove_stale_chunks(pending)
            # Every write marks its releases pending until their keyword entries are committed,
            # so those are all the keyword index can lag by: they are indexed again.
            current = (
                keyword_chunk(chunk.release, chunk.chunk_id, chunk.text) for chunk in self.release_chunks(pending)
            )
            if self._keyword.generation >= 0:  # none yet (an older pressqa's): rebuilt whole below
                self._keyword.replace(pending, current, self._registry.generation)
            self._registry.clear_pending(pending)
        self.sync_keyword_index()
        if not self._chunks.settled():
            self._settle_index()

    def _settle_index(self) -> None:
        log.warning("archive %s: saving its vector index so that every process searches the same one", self.root)
        self._chunks.settle()

    def refresh(self) -> None:
        """Serve what a writer in another process has committed: load the keyword index it
        saved (Chroma and the registry show new writes by themselves)."""
        if self._keyword.generation != self._registry.generation:
            self._keyword.reload()

    def _remove_stale_chunks(self, doc_ids: Sequence[str]) -> int:
        """Delete the chunks of these releases that are not of their registered version."""
        states = self._registry.states(doc_ids)
        stale = [
            chunk.chunk_id
            for chunk in self._chunks.of_releases(doc_ids)
            if states.get(chunk.doc_id, ("", None))[0] != chunk.version
        ]
        self._chunks.delete(stale)
        return len(stale)

    def sync_keyword_index(self, *, force: bool = False) -> None:
        """Rebuild the keyword index from the registered chunks in Chroma if it lags the
        registry without a pending write to say where (an index of an older pressqa, a
        damaged one, a repair), or if ``force``d."""
        generation = self._registry.generation
        if self._keyword.generation == generation and not force:
            return
        versions = self._registry.versions()
        self._keyword.rebuild(
            (
                keyword_chunk(chunk.release, chunk.chunk_id, chunk.text)
                for chunk in self._chunks.all()
                if versions.get(chunk.doc_id, ("", 0))[0] == chunk.version
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
        pending = self._registry.pending()
        if pending:
            found(f"{len(pending)} release write(s) left unfinished by an interrupted run: {_listed(pending)}", repair)
            if repair:
                self.recover()
        versions = self._registry.versions()
        held: dict[str, set[int]] = {}
        # Chunks of other versions than the registered one, or of releases the registry does
        # not list: doc_id -> version -> chunks.
        others: dict[str, dict[str, list[StoredChunk]]] = {}
        unfinished = set(self._registry.pending())  # their other chunks are rolled back by --repair
        index_in_step = self._keyword.generation == self._registry.generation
        current_ids = set()  # what the keyword index should hold: the registered versions' chunks
        for chunk in self._chunks.all():
            registered = versions.get(chunk.doc_id, ("", 0))[0]
            if chunk.doc_id in unfinished and registered != chunk.version:
                continue
            if registered == chunk.version:
                held.setdefault(chunk.doc_id, set()).add(chunk.index)
                current_ids.add(chunk.chunk_id)
            else:
                others.setdefault(chunk.doc_id, {}).setdefault(chunk.version, []).append(chunk)
        keyword_differs = not index_in_step or set(self._keyword.ids) != current_ids  # before any repair
        incomplete = {doc_id for doc_id, (_, count) in versions.items() if held.get(doc_id, set()) != set(range(count))}
        adoptable: list[list[StoredChunk]] = []  # whole versions the registry should list
        stale: list[str] = []  # chunks of a version that a whole registered one supersedes
        partial: list[str] = []  # chunks that cannot be put together into a release
        ambiguous: list[str] = []  # releases with several whole versions and no record of which came last
        for doc_id, by_version in sorted(others.items()):
            if doc_id in versions and doc_id not in incomplete:
                stale += [chunk.chunk_id for chunks in by_version.values() for chunk in chunks]
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
                partial += [chunk.chunk_id for chunks in by_version.values() for chunk in chunks]
                continue
            adoptable.append(whole[latest])
            incomplete.discard(doc_id)  # the registry is given the whole version instead
            if doc_id in versions:  # what is left of the version it listed
                registered = versions[doc_id][0]
                stale += [make_chunk_id(doc_id, registered, index) for index in held.get(doc_id, set())]
            for version, chunks in by_version.items():
                stale += [chunk.chunk_id for chunk in chunks] if version != latest else []
        if ambiguous:
            found(
                f"{len(ambiguous)} release(s) with several whole versions in Chroma and no record of which is newer: "
                f"{_listed(ambiguous)}" + ("" if force else " (--repair --force keeps one of each)"),
                repair and force,
            )
        if adoptable:
            names = [chunks[0].doc_id for chunks in adoptable]
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
                self._chunks.delete(stale)
        if partial:
            found(
                f"{len(partial)} chunk(s) in Chroma of no registered release and too few to rebuild one"
                + ("" if force else " (--repair --force drops them)"),
                repair and force,
            )
            if repair and force:
                self._chunks.delete(partial)
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
        if not self._chunks.settled():
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
        self._registry.close()
        if path.exists():
            kept = path.with_name(f"{REGISTRY_FILE}.damaged-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}")
            for part in (path, path.with_name(REGISTRY_FILE + "-wal"), path.with_name(REGISTRY_FILE + "-shm")):
                if part.exists():
                    part.rename(kept.with_name(kept.name + part.name.removeprefix(REGISTRY_FILE)))
            log.warning("moved the damaged registry aside to %s", kept)
        self._registry = Registry(path)
        self._registry.keep_manifest(json.dumps(self._recorded, indent=2))
        self._registry_damaged = False

    # Reading: search.

    def dense(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[StoredChunk]:
        """The ``k`` chunks nearest in meaning that ``filters`` admit (any version: see ``states``)."""
        return self._chunks.dense(vector, k, filters)

    def lexical(self, query: str, k: int, filters: SearchFilters) -> list[str]:
        """Ids of the ``k`` chunks that best match ``query``'s words (BM25) that ``filters`` admit."""
        return [chunk_id for chunk_id, _ in self._keyword.search(query, k, filters)]

    def chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks with these ids (those that are gone are left out)."""
        return self._chunks.get(ids)

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """How rare each stemmed term is among the chunks (BM25's idf), for weighing words."""
        return self._keyword.idf(terms)

    def states(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(registered version, canonical release or None) of each release among ``doc_ids``:
        a chunk of another version is one an interrupted write left behind."""
        return self._registry.states(doc_ids)

    # Reading: releases.

    def summary(self) -> dict[str, Any]:
        """Counts, issuers, releases per month and date range (from the registry alone)."""
        return self._registry.summary()

    def release(self, doc_id: str) -> Release:
        """Metadata of one release (``text`` left empty); ``ReleaseNotFoundError`` if unknown."""
        return self._registry.release(doc_id)

    def release_chunks(self, doc_ids: Sequence[str]) -> list[StoredChunk]:
        """The registered version's chunks of these releases, fetched by id: a Chroma
        ``where`` on doc_id scans the metadata (38 ms at 345k chunks)."""
        return self._chunks.get(self._registry.current_chunk_ids(doc_ids))

    def release_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """The text of each release as ingested, put together from its stored chunks and
        the text between them, so citations' offsets point into it."""
        if not doc_ids:
            return {}
        chunks: dict[str, list[StoredChunk]] = {}
        for chunk in self.release_chunks(doc_ids):
            chunks.setdefault(chunk.doc_id, []).append(chunk)
        return {doc_id: assemble_text(pieces) for doc_id, pieces in chunks.items()}

    def all_chunks(self) -> Iterator[StoredChunk]:
        """Every chunk Chroma holds, of whatever version, a page at a time."""
        return self._chunks.all()

    def versions(self) -> dict[str, tuple[str, int]]:
        """(version, number of chunks) of every registered release."""
        return self._registry.versions()

    def releases(self, filters: SearchFilters | None = None, doc_ids: Sequence[str] | None = None) -> list[Release]:
        """Metadata of the releases (or of those of ``doc_ids``) that ``filters`` admit, oldest first."""
        return self._registry.releases(filters, doc_ids)

    def term_matches(self, terms: Sequence[str], filters: SearchFilters) -> dict[str, set[str]]:
        """Release id -> which of the stemmed ``terms`` its chunks hold, for every release
        that ``filters`` admit and that holds any (the keyword index's view: it may trail a
        delete by another process, so look the ids up in ``releases``)."""
        return self._keyword.term_matches(terms, filters)

    def recent(self, per_issuer: int) -> list[Release]:
        return self._registry.recent(per_issuer)

    def duplicate_of(self, doc_id: str) -> str | None:
        """The canonical release of the group ``doc_id`` is a copy in, or None."""
        return self._registry.duplicate_of(doc_id)

    def copies_of(self, doc_id: str) -> list[str]:
        return self._registry.copies_of(doc_id)

    def find(self, reference: str) -> list[str]:
        return self._registry.find(reference)

    def content_hash(self, doc_id: str) -> str | None:
        return self._registry.content_hash(doc_id)

    def fingerprints(self) -> Iterator[tuple[str, str, bytes]]:
        return self._registry.fingerprints()

    def at_origin(self, origin: str) -> str | None:
        return self._registry.at_origin(origin)

    def moved(self, content_hash: str, origin: str, taken: Container[str]) -> str | None:
        return self._registry.moved(content_hash, origin, taken)

    def stats(self) -> ArchiveStats:
        summary = self._registry.summary()
        size = 0
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # a writer may replace files meanwhile
                size += path.stat().st_size if path.is_file() else 0
        return ArchiveStats(**summary, bytes_on_disk=size, embedding_model=self.settings.embedding_model)


#: Puts releases found in Chroma but not in the registry back into it (see ``Store.check``):
#: each list holds every chunk of one release's version.
Adopter = Callable[[list[list[StoredChunk]]], None]


def _complete(chunks: Sequence[StoredChunk], *, declared: bool = False) -> bool:
    """Whether these chunks are all of one release's version: 0 to n-1, where the first
    chunk records n (archives from before it was recorded: no gap, unless ``declared``
    asks for the record)."""
    indexes = sorted(chunk.index for chunk in chunks)
    first = next((chunk.metadata for chunk in chunks if chunk.index == 0), None)
    if first is None or (declared and "n_chunks" not in first):
        return False
    expected = int(first.get("n_chunks", len(indexes)))
    return indexes == list(range(expected))


def _latest(versions: Mapping[str, Sequence[StoredChunk]]) -> str | None:
    """Which of a release's whole versions was written last, by the time its first chunk
    records; None when that cannot be told (several versions, one of them without it)."""
    if len(versions) == 1:
        return next(iter(versions))
    written = {}
    for version, chunks in versions.items():
        first = next(chunk.metadata for chunk in chunks if chunk.index == 0)
        if "written" not in first:
            return None
        written[version] = int(first["written"])
    return max(written, key=lambda version: (written[version], version)) if written else None


def _listed(names: Sequence[str], limit: int = 10) -> str:
    """The first ``limit`` names, and how many more."""
    shown = ", ".join(printable(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def keyword_chunk(release: Release, chunk_id: str, text: str) -> KeywordChunk:
    """A chunk as the keyword index takes it: after its release's ``title | issuer | date``
    header, so that a passage is found by who said it and when."""
    return KeywordChunk(chunk_id, release.doc_id, f"{describe(release)}\n\n{text}", release.date, release.source)
