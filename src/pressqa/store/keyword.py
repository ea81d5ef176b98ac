"""The keyword (BM25) index beside the Chroma collection: a tantivy index that grows in place.

Chroma's own sparse index exists only in its cloud service, so pressqa keeps one here.  It
was a bm25s index rebuilt whole after every ingest (80 s and 3.5 GB at 345k chunks, even for
one new release); tantivy (what PaperQA2 uses) adds and deletes documents and commits them
atomically, and ranks by BM25 with a top-k that skips what cannot make the cut.

Texts are tokenized here, by bm25s's tokenizer (English stopwords, Snowball stems, the ones
the answerer weighs words by), and given to tantivy as space-separated stems.  Each commit
is followed by the registry generation it brings the index to (``GENERATION``); an index
whose generation lags the registry's is brought in step from Chroma, which makes a crash
between a Chroma write and an index commit harmless.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import Stemmer
import tantivy

from pressqa.fsutil import atomic_write_text
from pressqa.types import SearchFilters, date_int

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STEMMER = Stemmer.Stemmer("english")
GENERATION_FILE = "GENERATION"
INDEX_FOLDER = "tantivy"
WRITER_HEAP = 64_000_000  # bytes; one thread: indexing is not what an ingest waits for


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    tokenized: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokenized


@dataclass(frozen=True, slots=True)
class KeywordChunk:
    """What the keyword index holds of a chunk: its text (with its release's header) and
    what filters read."""

    chunk_id: str
    doc_id: str
    text: str
    date: dt.date | None
    source: str | None


def release_of_chunk(chunk_id: str) -> str:
    """The release id in a chunk id (``doc_id#version#index``; see ``make_chunk_id``)."""
    return chunk_id.rsplit("#", 2)[0]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("doc_id", tokenizer_name="raw")
    builder.add_text_field("text", tokenizer_name="whitespace")
    builder.add_integer_field("date_int", indexed=True, fast=True)  # YYYYMMDD, 0 when undated
    builder.add_text_field("source", tokenizer_name="raw")
    return builder.build()


class KeywordIndex:
    """BM25 over chunk texts in ``folder/tantivy``; ``folder/GENERATION`` names the registry
    generation of its last commit (-1: none, or an index from before tantivy)."""

    def __init__(self, folder: Path, *, read_only: bool = False) -> None:
        self.folder = folder
        self.read_only = read_only
        self._schema = _schema()
        self._index: tantivy.Index | None = None
        self._generation = -1
        self.reload()

    @property
    def generation(self) -> int:
        return self._generation

    def reload(self) -> None:
        """Serve the last commit, whichever process made it."""
        recorded = self.folder / GENERATION_FILE
        location = self.folder / INDEX_FOLDER
        try:
            generation = int(recorded.read_text())
            if self._index is None:
                self._index = tantivy.Index.open(str(location))  # never a new empty one in its place
                self._index.config_reader(reload_policy="Manual")
            self._index.reload()
        except (OSError, ValueError) as err:  # none yet, one from before tantivy, or damaged: rebuilt by a writer
            if recorded.exists() or location.exists():
                log.warning("keyword index at %s unreadable (%s)", self.folder, err)
            self._index, self._generation = None, -1
            return
        self._generation = generation

    def replace(self, doc_ids: Sequence[str], chunks: Iterable[KeywordChunk], generation: int) -> None:
        """Take the chunks of ``doc_ids`` out, put ``chunks`` in, and commit as ``generation``."""
        with self._writer() as writer:
            for doc_id in doc_ids:
                writer.delete_documents_by_term("doc_id", doc_id)
            self._add(writer, chunks)
            self._commit(writer, generation)

    def rebuild(self, chunks: Iterable[KeywordChunk], generation: int) -> None:
        """Index ``chunks`` anew, as the index of ``generation``."""
        self._index = None
        if not self.read_only:
            (self.folder / GENERATION_FILE).unlink(missing_ok=True)  # first: a half-deleted index is never current
            shutil.rmtree(self.folder / INDEX_FOLDER, ignore_errors=True)
            for old in self.folder.glob("gen-*"):  # bm25s indexes of older pressqa versions
                shutil.rmtree(old, ignore_errors=True)
            (self.folder / "CURRENT").unlink(missing_ok=True)
        with self._writer() as writer:
            self._add(writer, chunks)
            self._commit(writer, generation)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """The index's writer, let go of even when a write fails (a full disk): a writer still
        held keeps the index's lock, and the next write in this process would wait for it."""
        writer = self._writable().writer(heap_size=WRITER_HEAP, num_threads=1)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # consumes the writer, and with it the lock

    def _writable(self) -> tantivy.Index:
        if self._index is None:
            if self.read_only:  # an archive that cannot be written gets its index in memory
                self._index = tantivy.Index(self._schema)
            else:
                location = self.folder / INDEX_FOLDER
                location.mkdir(parents=True, exist_ok=True)
                self._index = tantivy.Index(self._schema, path=str(location), reuse=True)
            self._index.config_reader(reload_policy="Manual")
        return self._index

    def _add(self, writer: tantivy.IndexWriter, chunks: Iterable[KeywordChunk]) -> None:
        batch: list[KeywordChunk] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) == 1000:
                self._add_batch(writer, batch)
                batch = []
        self._add_batch(writer, batch)

    def _add_batch(self, writer: tantivy.IndexWriter, batch: Sequence[KeywordChunk]) -> None:
        for chunk, tokens in zip(batch, _tokenize([chunk.text for chunk in batch]) if batch else [], strict=True):
            document = tantivy.Document(
                chunk_id=chunk.chunk_id,
                doc_id=chunk.doc_id,
                text=" ".join(tokens),
                date_int=date_int(chunk.date) if chunk.date else 0,
            )
            if chunk.source:
                document.add_text("source", chunk.source)
            writer.add_document(document)

    def _commit(self, writer: tantivy.IndexWriter, generation: int) -> None:
        writer.commit()
        if not self.read_only:
            atomic_write_text(self.folder / GENERATION_FILE, str(generation))
        assert self._index is not None
        self._index.reload()
        self._generation = generation

    @property
    def ids(self) -> list[str]:
        """Every chunk id in the index (for ``pressqa check``)."""
        if self._index is None:
            return []
        searcher = self._index.searcher()
        found = searcher.search(tantivy.Query.all_query(), limit=max(1, searcher.num_docs), count=False)
        return [str(searcher.doc(address)["chunk_id"][0]) for _, address in found.hits]

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores of the best ``k`` matches that ``filters`` admit (equal
        scores: the earlier indexed first)."""
        if self._index is None:
            return []
        terms = list(dict.fromkeys(_tokenize([query])[0]))
        if not terms:
            return []
        schema = self._schema
        matched = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", term, index_option="freq"))
                for term in terms
            ]
        )
        limits = self._filter_queries(filters or SearchFilters())
        if limits:
            matched = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in [matched, *limits]])
        searcher = self._index.searcher()
        found = searcher.search(matched, limit=k, count=False)
        return [(str(searcher.doc(address)["chunk_id"][0]), float(score)) for score, address in found.hits]

    def term_matches(self, terms: Sequence[str], filters: SearchFilters) -> dict[str, set[str]]:
        """For each release with a chunk that ``filters`` admit holding any of the stemmed
        ``terms`` (a term of several stems is a phrase): the terms its chunks hold.  Every
        match, not a top k: the answer to "how many releases" must not depend on a cut-off."""
        found: dict[str, set[str]] = {}
        if self._index is None:
            return found
        searcher = self._index.searcher()
        limits = self._filter_queries(filters)
        for term in dict.fromkeys(terms):
            stems: list[str | tuple[int, str]] = list(term.split())
            if len(stems) > 1:
                query = tantivy.Query.phrase_query(self._schema, "text", stems)
            else:
                query = tantivy.Query.term_query(self._schema, "text", term)
            if limits:
                query = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in [query, *limits]])
            hits = searcher.search(query, limit=max(1, searcher.num_docs), count=False).hits
            for _, address in hits:
                chunk_id = str(searcher.doc(address)["chunk_id"][0])
                found.setdefault(release_of_chunk(chunk_id), set()).add(term)
        return found

    def _filter_queries(self, filters: SearchFilters) -> list[tantivy.Query]:
        """``filters`` as tantivy queries, as ``SearchFilters.admits`` reads them."""
        limits = []
        if filters.since or filters.until:  # an undated release (0) cannot be shown to fall in the range
            lower = date_int(filters.since) if filters.since else 1
            upper = date_int(filters.until) if filters.until else None
            limits.append(tantivy.Query.range_query(self._schema, "date_int", tantivy.FieldType.Integer, lower, upper))
        if filters.sources:
            limits.append(tantivy.Query.term_set_query(self._schema, "source", list(filters.sources)))
        return limits

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25's inverse document frequency over the chunks of each stemmed term; a term no
        chunk has gets the highest (it is as rare as a term can be)."""
        searcher = self._index.searcher() if self._index is not None else None
        count = searcher.num_docs if searcher is not None else 0
        weights = {}
        for term in terms:
            frequency = searcher.doc_freq("text", term) if searcher is not None else 0
            weights[term] = math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
        return weights
