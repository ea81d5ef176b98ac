"""The ingest run: read -> skip unchanged -> chunk -> fingerprint -> embed -> store, in batches."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pressqa.embedding import Embedder
from pressqa.errors import IngestError
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.dedupe import Deduper
from pressqa.ingest.metadata import EARLIEST_DATE, content_hash, detect_language, plausible_date, text_hash
from pressqa.ingest.problems import FailureLog
from pressqa.ingest.readers import InputReader, RecordFields
from pressqa.settings import Settings
from pressqa.store import Store, StoredRelease, version_of
from pressqa.types import (
    REPORT_PER_RUN,
    DuplicateLink,
    IngestProblem,
    IngestProgress,
    IngestReport,
    Release,
    origin_file,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[IngestProgress], None]


class IngestRun:
    """One ingest of some paths into a store; ``run`` returns the report."""

    def __init__(self, store: Store, embedder: Embedder, chunker: Chunker, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.settings = settings
        self.deduper = Deduper(settings.near_duplicate_threshold, settings.minhash_permutations)
        self._deduper_loaded = False
        self.added: list[str] = []
        self.updated: list[str] = []
        self.unchanged = 0
        self.moved: list[str] = []
        self.failures = FailureLog()
        self.undated: list[str] = []
        self.notes: list[IngestProblem] = []
        self.today = dt.date.today()
        self.duplicates: list[DuplicateLink] = []
        self.chunks_added = 0
        self.chunks_removed = 0
        self._seen: dict[str, str] = {}  # doc_id -> origin, for ids repeated within one run
        self._pending: list[StoredRelease] = []
        self._pending_chunks = 0

    def run(
        self, paths: Iterable[Path], fields: RecordFields | None, progress: ProgressCallback | None
    ) -> IngestReport:
        paths = list(paths)
        reader = InputReader(self.settings, fields)
        return self.run_items(reader.read(paths), reader.count(paths) if progress else None, progress)

    def run_items(
        self,
        items: Iterable[Release | IngestProblem],
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest releases read elsewhere (a sync's web pages), problems of reading them included."""
        started = time.perf_counter()
        read = 0
        for read, item in enumerate(items, 1):
            wrote_batch = self._take(item)
            if progress and (wrote_batch or read % 200 == 0):
                progress(IngestProgress(read, total, self.chunks_added))
        self._flush()
        self.store.sync_keyword_index()
        if progress:
            progress(IngestProgress(read, total, self.chunks_added))
        return IngestReport(
            added=tuple(self.added),
            updated=tuple(self.updated),
            unchanged=self.unchanged,
            moved=tuple(self.moved),
            duplicates=tuple(self.duplicates),
            failed=tuple(self.failures.listed),
            failed_count=self.failures.count,
            failure_reasons=self.failures.reasons(),
            undated=tuple(self.undated),
            notes=tuple(self.notes),
            chunks_added=self.chunks_added,
            chunks_removed=self.chunks_removed,
            seconds=time.perf_counter() - started,
        )

    def _take(self, item: Release | IngestProblem) -> bool:
        """Account for one read result; returns True if it completed a batch, which was written."""
        if isinstance(item, IngestProblem):
            self.failures.add(item)
            return False
        if item.doc_id in self._seen:
            reason = f"id {item.doc_id!r} was already read from {self._seen[item.doc_id]} in this run; skipped"
            self.failures.add(IngestProblem(item.origin, reason))
            return False
        self._seen[item.doc_id] = item.origin
        if item.date is not None and not plausible_date(item.date, self.today):
            reason = (
                f"publication date {item.date.isoformat()} is before {EARLIEST_DATE.year} or over a year "
                "after today; stored as undated"
            )
            if len(self.notes) < REPORT_PER_RUN:
                self.notes.append(IngestProblem(item.origin, reason))
            item = dataclasses.replace(item, date=None)
        digest = content_hash(item)  # of what was read, not of the id: the same under the first id
        previous = self.store.content_hash(item.doc_id)
        if previous is None and item.id_from_location:
            first = self._first_id(item, digest)
            if first is not None:
                item, previous = dataclasses.replace(item, doc_id=first), self.store.content_hash(first)
        if previous == digest:
            self.unchanged += 1
            return False
        try:
            chunks = tuple(self.chunker.chunk(item, version_of(digest)))
        except IngestError as err:  # the stored version, if any, stays as it was
            self.failures.add(IngestProblem(err.path, err.reason))
            return False
        item = dataclasses.replace(item, language=detect_language(item.text))
        (self.updated if previous else self.added).append(item.doc_id)
        if item.date is None:
            self.undated.append(item.doc_id)
        signature = self.deduper.signature(item.text)
        self._pending.append(StoredRelease(item, chunks, digest, text_hash(item.text), signature))
        self._pending_chunks += len(chunks)
        if self._pending_chunks < self.settings.ingest_batch_chunks:
            return False
        self._flush()
        return True

    def _first_id(self, item: Release, digest: str) -> str | None:
        """The id a release new under its own id was first given, if its file moved: it is
        found where it was read last, or as the same release (``digest``) read from a file of
        the same name at a place that is gone."""
        # By place only for a whole file: a record's line number moves when lines are added.
        known = self.store.at_origin(item.origin) if origin_file(item.origin) == item.origin else None
        if known is None:
            known = self.store.moved(digest, item.origin, taken=self._seen)
            if known is None:
                return None
            self.moved.append(known)
            self.store.set_origin(known, item.origin)
        if known in self._seen:
            return None
        self._seen[known] = item.origin
        return known

    def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending, self._pending_chunks = self._pending, [], 0
        vectors = self.embedder.embed(
            [
                text
                for item in batch
                for text in self.chunker.embedding_texts(item.release, [chunk.text for chunk in item.chunks])
            ]
        )
        if not self._deduper_loaded:
            self.deduper.add_many(self.store.fingerprints())
            self._deduper_loaded = True
        links = []
        for item in batch:
            doc_id = item.release.doc_id
            self.deduper.remove(doc_id)  # an updated release is compared by its new text
            match = self.deduper.match(doc_id, item.text_hash, item.minhash)
            if match:
                links.append((doc_id, *match))
            self.deduper.add(doc_id, item.text_hash, item.minhash)
        removed, made = self.store.write(batch, vectors, links)
        self.duplicates.extend(made)
        self.chunks_added += len(vectors)
        self.chunks_removed += removed
        log.info("stored %d releases, %d chunks", len(batch), len(vectors))
