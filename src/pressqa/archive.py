"""The Python API: ``Archive.open(path).ingest(paths)`` and friends.  Only this module wires parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from pressqa.embedding import Embedder
from pressqa.errors import ArchiveLockedError, ConfigError
from pressqa.fsutil import WriteLock
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.pipeline import IngestRun, ProgressCallback
from pressqa.ingest.readers import RecordFields
from pressqa.retrieve.hybrid import hybrid_search
from pressqa.retrieve.issuers import IssuerMatcher
from pressqa.retrieve.timeparse import parse_time
from pressqa.settings import Settings, load_settings
from pressqa.store import UNKNOWN_ISSUER, Store
from pressqa.types import ArchiveStats, Hit, IngestReport, QueryPlan, Release, SearchFilters


class Archive:
    """A press-release archive on disk.

    >>> with Archive.open("my-archive") as archive:            # doctest: +SKIP
    ...     report = archive.ingest(["releases/", "export.jsonl"])
    ...     print(len(report.added), "added,", len(report.failed), "failed")
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = Embedder(settings)
        self._chunker: Chunker | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, *, settings: Settings | None = None, create: bool = True) -> Archive:
        """Open the archive at ``path`` (default: ``settings.archive``), creating it if asked.

        Raises ``SettingsMismatchError`` if the archive was built with other embedding or
        chunking settings, and ``StoreError`` if it does not exist and ``create`` is false.
        """
        settings = settings or load_settings()
        if path is not None:
            settings = settings.model_copy(update={"archive": Path(path)})
        archive = cls(Store(settings.archive, settings, create=create), settings)
        archive._catch_up()
        return archive

    def _catch_up(self) -> None:
        """Finish what an interrupted writer left, unless a writer is at work right now."""
        if not self.store.needs_recovery():
            return
        try:
            with WriteLock(self.path):
                self.store.recover()
        except ArchiveLockedError:
            pass  # the running writer brings the archive in step when it finishes

    @property
    def path(self) -> Path:
        return self.settings.archive

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        fields: RecordFields | None = None,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest files, folders, zips and JSON(L) exports; unchanged releases are skipped.

        Bad inputs are listed in ``report.failed`` with the reason; they never stop the run.
        """
        with WriteLock(self.path):
            self.store.recover()
            run = IngestRun(self.store, self.embedder, self.chunker, self.settings)
            return run.run([Path(p) for p in paths], fields, progress)

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            settings = self.settings
            self._chunker = Chunker(
                settings.model_path() / "tokenizer.json",
                settings.chunk_size,
                settings.chunk_overlap,
                settings.embedding_window,
            )
        return self._chunker

    def delete(self, *doc_ids: str) -> int:
        """Remove releases from the store and both indexes; returns the chunks removed.

        Raises ``ReleaseNotFoundError`` (and removes nothing) if any id is unknown.
        """
        with WriteLock(self.path):
            self.store.recover()
            removed = self.store.delete(doc_ids)
            self.store.sync_keyword_index()
            return removed

    def plan(
        self,
        question: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
    ) -> QueryPlan:
        """How ``question`` will be searched: explicit filters, and the time and issuers it
        names.  The plan can be edited (say, an inferred issuer dropped) and given to ``search``.

        Explicit ``since``/``until``/``sources`` win over what is read from the question;
        ``sources`` must be issuer names as stored (see ``stats().issuers``).
        """
        if since and until and since > until:
            raise ConfigError(f"since ({since}) is after until ({until})")
        if isinstance(sources, str):
            sources = [sources]
        summary = self.store.registry.summary()
        known = [issuer for issuer in summary["issuers"] if issuer != UNKNOWN_ISSUER]
        unknown = [source for source in sources or () if source not in known]
        if unknown:
            raise ConfigError(
                f"no releases from {', '.join(map(repr, unknown))} in this archive; issuers are: " + "; ".join(known)
            )
        filters = SearchFilters(since=since, until=until, sources=tuple(sources or ()))
        time = parse_time(question, latest=summary["last_date"])
        issuers = IssuerMatcher(known).match(question)
        return QueryPlan(
            question=question,
            filters=filters,
            time=time,
            time_use=("overridden" if since or until else "boost") if time else None,
            issuers=issuers,
            issuers_use=("overridden" if sources else "boost") if issuers else None,
        )

    def search(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        k: int = 5,
    ) -> list[Hit]:
        """The ``k`` passages that best match ``question`` (dense and keyword search fused),
        limited to releases published between ``since`` and ``until`` by ``sources``;
        or the passages for a plan made by ``plan()``."""
        if isinstance(question, QueryPlan):
            if since or until or sources:
                raise ConfigError("give filters to plan(), not with a plan to search()")
            plan = question
        else:
            plan = self.plan(question, since=since, until=until, sources=sources)
        return hybrid_search(self.store, self.embedder, plan, k)

    def release(self, doc_id: str) -> Release:
        """Metadata of one stored release (its ``text`` is left empty)."""
        return self.store.registry.release(doc_id)

    def copies(self, doc_id: str) -> list[str]:
        """Ids of the releases linked to ``doc_id`` as its duplicates."""
        return self.store.registry.copies_of(doc_id)

    def stats(self) -> ArchiveStats:
        return self.store.stats()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
