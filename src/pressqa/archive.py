"""The Python API: ``Archive.open(path).ingest(paths)`` and friends.  Only this module wires parts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from pressqa.embedding import Embedder
from pressqa.errors import ArchiveLockedError
from pressqa.fsutil import WriteLock
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.pipeline import IngestRun, ProgressCallback
from pressqa.ingest.readers import RecordFields
from pressqa.retrieve.hybrid import hybrid_search
from pressqa.settings import Settings, load_settings
from pressqa.store import Store
from pressqa.types import ArchiveStats, Hit, IngestReport, Release


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

    def search(self, question: str, *, k: int = 5) -> list[Hit]:
        """The ``k`` passages that best match ``question`` (dense and keyword search fused)."""
        return hybrid_search(self.store, self.embedder, question, k)

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
