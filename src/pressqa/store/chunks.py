"""The Chroma adapter: an archive's chunks, their vectors and metadata, as typed records.

Everything pressqa asks of Chroma goes through ``ChunkStore``: Chroma's include lists and
nested result lists stay here, the filters of a search are translated here (``_where``),
and a Chroma server that stops answering is a ``StoreError`` that says what to do.

What a chunk's metadata holds is written and read here too: the release's fields (so a
search hit needs no second lookup) and, on a release's first chunk, what the registry
holds beyond them (so a lost registry can be rebuilt from Chroma).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import httpx
import numpy as np

from pressqa.errors import StoreError
from pressqa.types import Chunk, Release, SearchFilters, date_int

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from pressqa.store.registry import StoredRelease

log = logging.getLogger(__name__)

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

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as Chroma holds it: id, text and metadata (see ``chunk_metadata``)."""

    chunk_id: str
    text: str
    metadata: Mapping[str, Any]

    @property
    def doc_id(self) -> str:
        return str(self.metadata["doc_id"])

    @property
    def version(self) -> str:
        return str(self.metadata.get("version"))

    @property
    def index(self) -> int:
        return int(self.metadata["chunk"])

    @property
    def start(self) -> int:
        return int(self.metadata["start"])

    @property
    def end(self) -> int:
        return int(self.metadata["end"])

    @property
    def release(self) -> Release:
        """The release metadata the chunk carries (its ``text`` left empty)."""
        return release_of(self.metadata)


def _answering(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A Chroma server that stops answering mid-call is a ``StoreError`` that says so."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except httpx.TransportError as err:
            store = args[0]
            assert isinstance(store, ChunkStore)
            raise StoreError(
                f"the Chroma server at {store.url} stopped answering ({err}); start it again and rerun the "
                "command (an interrupted ingest is completed by the rerun)"
            ) from None

    return call


class ChunkStore:
    """An archive's Chroma collection: in ``root/chroma`` (embedded), or named ``name`` on the
    server at ``url``.  A new archive's collection is created (``create``); an existing
    archive's must be there and readable, or opening is a ``StoreError`` naming the part."""

    def __init__(self, root: Path, name: str, *, url: str | None, read_only: bool, create: bool) -> None:
        from chromadb.errors import NotFoundError

        self.root, self.url = root, url
        self._snapshot: Path | None = None  # a read-only archive's Chroma, copied to be opened
        where = f"the Chroma server at {url}" if url else f"the vector store {root / 'chroma'}"
        try:
            self._client = self._open_client(read_only)
            self._collection = self._open_collection(name, create)
        except NotFoundError:
            self.close()
            if url:
                raise StoreError(
                    f"{where} has no collection {name}, which holds the chunks of archive {root}: point "
                    "--chroma-url at the server that has it, or ingest the releases into a new archive folder"
                ) from None
            raise StoreError(
                f"{where} has lost the chunks of archive {root}: restore the folder from a backup, or "
                "ingest the releases into a new archive folder"
            ) from None
        except StoreError:
            self.close()
            raise
        except Exception as err:  # chromadb raises its own InternalError, sqlite's errors, OSError
            self.close()
            advice = (
                "check the server's log"
                if url
                else f"restore {root / 'chroma'} from a backup, or ingest the releases into a new archive folder"
            )
            raise StoreError(f"{where} cannot be read ({type(err).__name__}: {err}); {advice}") from None

    def _open_client(self, read_only: bool) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.url is None:
            folder = self.root / "chroma"
            if read_only:
                # Chroma opens its files for writing, which a read-only folder refuses: it reads a copy.
                self._snapshot = Path(tempfile.mkdtemp(prefix="pressqa-read-only-"))
                log.warning("archive %s is read-only: reading a temporary copy of its Chroma folder", self.root)
                folder = self._snapshot / "chroma"
                shutil.copytree(self.root / "chroma", folder)
            return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
        url = urlsplit(self.url)
        https = url.scheme == "https"
        try:
            return chromadb.HttpClient(
                host=url.hostname or "", port=url.port or (443 if https else 80), ssl=https, settings=chroma_settings
            )
        except ValueError as err:  # what chromadb raises when nothing answers
            raise StoreError(
                f"cannot reach the Chroma server at {self.url} ({err}); "
                "start one with: chroma run --path CHROMA_DIR --host 127.0.0.1 --port PORT"
            ) from None

    def _open_collection(self, name: str, create: bool) -> Collection:
        if create:
            # No embedding function: pressqa always passes vectors (Chroma's default one downloads a model).
            return self._client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "sync_threshold": HNSW_SYNC_THRESHOLD}},
            )
        collection = self._client.get_collection(name, embedding_function=None)
        collection.count()
        return collection

    def close(self) -> None:
        if self._snapshot is not None:
            shutil.rmtree(self._snapshot, ignore_errors=True)

    @_answering
    def count(self) -> int:
        return self._collection.count()

    @_answering
    def dense(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[StoredChunk]:
        """The ``k`` chunks nearest to ``vector`` that ``filters`` admit, nearest first."""
        found = self._collection.query(
            query_embeddings=[vector], n_results=k, where=_where(filters), include=["documents", "metadatas"]
        )
        return [
            StoredChunk(chunk_id, document, metadata)
            for chunk_id, document, metadata in zip(
                found["ids"][0], (found["documents"] or [[]])[0], (found["metadatas"] or [[]])[0], strict=True
            )
            if metadata is not None  # a chunk deleted a moment ago can still come back from the vector index
        ]

    @_answering
    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks with these ids that Chroma holds (as many calls as its batch limit takes)."""
        chunks: list[StoredChunk] = []
        limit = self._client.get_max_batch_size()  # one long release can have more chunks than a get takes
        for at in range(0, len(ids), limit):
            found = self._collection.get(ids=list(ids[at : at + limit]), include=["documents", "metadatas"])
            chunks += self._records(found)
        return chunks

    @_answering
    def of_releases(self, doc_ids: Sequence[str]) -> list[StoredChunk]:
        """Every chunk of these releases, of any version, without its text (a scan of the
        metadata: slower than ``get``; what a write reads to find the versions it replaces)."""
        where: Any = {"doc_id": {"$in": list(doc_ids)}}  # chromadb's Where type does not admit list[str]
        found = self._collection.get(where=where, include=["metadatas"])
        return [
            StoredChunk(chunk_id, "", metadata)
            for chunk_id, metadata in zip(found["ids"], found["metadatas"] or [], strict=True)
        ]

    def all(self, page: int = 5000) -> Iterator[StoredChunk]:
        offset = 0
        while chunks := self._page(offset, page):
            yield from chunks
            offset += len(chunks)

    @_answering
    def _page(self, offset: int, limit: int) -> list[StoredChunk]:
        return self._records(self._collection.get(include=["documents", "metadatas"], limit=limit, offset=offset))

    @staticmethod
    def _records(found: Any) -> list[StoredChunk]:
        return [
            StoredChunk(chunk_id, document, metadata)
            for chunk_id, document, metadata in zip(
                found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
            )
        ]

    def write(self, batch: Sequence[StoredRelease], vectors: Any) -> None:
        """Put the chunks of a batch of releases in, with their vectors (an upsert: a rerun
        writes the same ids again)."""
        chunks = []
        for item in batch:
            ends = [later.start for later in item.chunks[1:]] + [len(item.release.text)]
            for chunk, next_start in zip(item.chunks, ends, strict=True):
                metadata = chunk_metadata(item.release, chunk, item.version)
                if chunk.index == 0:
                    metadata.update(registry_metadata(item))
                if next_start > chunk.end:  # what the chunker left out before the next chunk
                    metadata["after"] = item.release.text[chunk.end : next_start]
                chunks.append(StoredChunk(chunk.chunk_id, chunk.text, metadata))
        self._upsert(chunks, vectors)

    @_answering
    def _upsert(self, chunks: Sequence[StoredChunk], vectors: Any) -> None:
        limit = self._client.get_max_batch_size()
        for at in range(0, len(chunks), limit):
            part = chunks[at : at + limit]
            self._collection.upsert(
                ids=[chunk.chunk_id for chunk in part],
                embeddings=vectors[at : at + limit],
                documents=[chunk.text for chunk in part],
                metadatas=[dict(chunk.metadata) for chunk in part],
            )

    @_answering
    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._collection.delete(ids=list(ids))

    def settled(self) -> bool:
        """Whether Chroma saves the HNSW graph after every write (see ``HNSW_SYNC_THRESHOLD``),
        so that every process that opens the archive searches the same graph."""
        configured = (self._collection.configuration_json or {}).get("hnsw") or {}
        return configured.get("sync_threshold") == HNSW_SYNC_THRESHOLD

    @_answering
    def settle(self) -> None:
        """Switch a collection made by an older pressqa to saving after every write, and save
        what it had added but not saved.  The graph Chroma has loaded (here, or on a server)
        keeps its old threshold until it is loaded again, so as many chunks as that threshold
        are rewritten as they are: that many writes make it save."""
        configured = (self._collection.configuration_json or {}).get("hnsw") or {}
        threshold = int(configured.get("sync_threshold") or 1000)
        self._collection.modify(configuration={"hnsw": {"sync_threshold": HNSW_SYNC_THRESHOLD}})
        same = self._collection.get(limit=threshold, include=["embeddings", "documents", "metadatas"])
        self._upsert(self._records(same), same["embeddings"])


def _where(filters: SearchFilters) -> dict[str, Any] | None:
    """``filters`` as a Chroma ``where`` clause, as ``SearchFilters.admits`` reads them (None:
    nothing to limit).  An undated chunk has no ``date_int``, so a date range leaves it out."""
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


def assemble_text(chunks: Iterable[StoredChunk]) -> str:
    """A release's text put together from its chunks and the text between them, so that
    the chunks' offsets point into it."""
    text = ""
    pieces = sorted((chunk.start, chunk.text + str(chunk.metadata.get("after", ""))) for chunk in chunks)
    for start, piece in pieces:
        text = text.ljust(start)  # whitespace before the first chunk, which no chunk holds
        text += piece[len(text) - start :]  # chunks overlap: add what is new
    return text
