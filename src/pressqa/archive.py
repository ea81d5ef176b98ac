"""The Python API: ``Archive.open(path).ingest(paths)`` and friends.  Only this module wires parts."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pressqa.answer.compose import ComposingGenerator, Composition, Part, read_composition
from pressqa.answer.engine import AnswerStream, ExtractiveGenerator, Generator
from pressqa.answer.llm import LLMGenerator
from pressqa.answer.sources import Source
from pressqa.answer.timeline import TIMELINE_ITEMS, TimelineGenerator, listing, shown
from pressqa.answer.verify import Verifier
from pressqa.embedding import Embedder
from pressqa.errors import ArchiveLockedError, ConfigError, PressQAError, StoreError
from pressqa.fsutil import WriteLock, out_of_space_named
from pressqa.ingest.adopt import adopt
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.dedupe import Deduper
from pressqa.ingest.pipeline import IngestRun, ProgressCallback
from pressqa.ingest.readers import RecordFields
from pressqa.llms.backends import load_llm
from pressqa.query.followup import standalone_question, user_questions
from pressqa.query.plan import make_plan
from pressqa.retrieve.hybrid import hybrid_search
from pressqa.retrieve.rerank import CrossEncoderReranker, Reranker
from pressqa.retrieve.timeline import Match, matching_releases
from pressqa.settings import Settings, load_settings
from pressqa.store import Store
from pressqa.sync.book import SourceBook
from pressqa.sync.run import WebSync
from pressqa.types import (
    UNKNOWN_ISSUER,
    Answer,
    ArchiveCheck,
    ArchiveStats,
    Citation,
    Hit,
    IngestProblem,
    IngestReport,
    QueryPlan,
    Release,
    SyncReport,
    SyncSource,
)

log = logging.getLogger(__name__)

# The ``llm`` that names the offline extractive answerer, whatever ``Settings.llm`` says.
OFFLINE = "offline"

if TYPE_CHECKING:
    from llama_index.core.llms import LLM
    from llama_index.core.query_engine import CustomQueryEngine


class Archive:
    """A press-release archive on disk.

    >>> with Archive.open("my-archive") as archive:            # doctest: +SKIP
    ...     report = archive.ingest(["releases/", "export.jsonl"])
    ...     print(len(report.added), "added,", len(report.failed), "failed")
    """

    def __init__(self, store: Store, settings: Settings, embedder: Embedder, reranker: Reranker | None) -> None:
        self.settings = settings
        self._store = store
        self._embedder = embedder
        self._reranker = reranker
        self._chunker: Chunker | None = None
        self._sources: SourceBook | None = None
        self._syncing = threading.Lock()  # one sync at a time in this process (the page's button, the schedule)

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
        for_check: bool = False,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
    ) -> Archive:
        """Open the archive at ``path`` (default: ``settings.archive``), creating it if asked.

        Raises ``SettingsMismatchError`` if the archive was built with other embedding or
        chunking settings, and ``StoreError`` if it does not exist and ``create`` is false,
        or if a part of it is missing or damaged (the message names the part and what to
        do).  ``for_check`` opens a damaged archive for ``check`` to report and repair, and
        leaves an interrupted write for ``check`` to report (otherwise opening finishes it).
        An archive on a read-only folder can be searched and asked, not written.

        ``embedder`` turns texts into vectors (default: the model ``settings`` name, loaded on
        first use); ``reranker``, any object with a ``score(question, passages)`` method,
        reorders search candidates (default: ``settings.reranker_path``'s cross-encoder, or none).
        """
        settings = settings or load_settings()
        if path is not None:
            settings = settings.model_copy(update={"archive": Path(path)})
        if reranker is None and settings.reranker_path is not None:
            reranker = CrossEncoderReranker(settings.reranker_path, settings.device)
        store = Store(settings.archive, settings, create=create, for_check=for_check)
        archive = cls(store, settings, embedder or Embedder(settings), reranker)
        if not for_check:
            archive._catch_up()
        return archive

    def _catch_up(self) -> None:
        """Finish what an interrupted writer left, unless a writer is at work right now or
        the archive is read-only (search serves only what the registry holds either way)."""
        if self._store.read_only or not self._store.needs_recovery():
            return
        try:
            with WriteLock(self.path):
                self._store.recover()
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
        with WriteLock(self.path), out_of_space_named(self.path):
            self._store.recover()
            run = IngestRun(self._store, self._embedder, self.chunker, self.settings)
            return run.run([Path(p) for p in paths], fields, progress)

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = Chunker.for_settings(self.settings)
        return self._chunker

    def reopened(self) -> Archive:
        """Another handle on this archive that shares its loaded model: for a writer in a
        background thread (a scheduled sync) beside this one answering questions."""
        return Archive.open(self.path, settings=self.settings, embedder=self._embedder, reranker=self._reranker)

    @property
    def sources(self) -> SourceBook:
        """The feeds, sitemaps, listing pages and folders the archive syncs from.

        >>> archive.sources.add("https://www.example.gov/news/rss.xml", every="1h")  # doctest: +SKIP
        >>> [source.name for source in archive.sources.list()]                       # doctest: +SKIP
        """
        if self._sources is None:
            self._sources = SourceBook(self.path, read_only=self._store.read_only)
        return self._sources

    def sync(
        self, source: str | None = None, *, due_only: bool = False, stop: threading.Event | None = None
    ) -> list[SyncReport]:
        """Fetch what is new or changed at each source (or the one named) and ingest it; with
        ``due_only``, only sources whose ``every`` has passed since their last sync.  ``stop``,
        once set, ends the sync after the batch of pages under way.

        A page or file that cannot be fetched or read is listed in its report's ``failed``;
        the rest of the run goes on, and so does the sync of the other sources if one fails
        as a whole.  Each batch of pages is ingested as it is fetched, so a killed sync keeps
        what it ingested and the next one fetches the rest.
        """
        if self._store.read_only:
            raise StoreError(f"archive {self.path} is read-only: it can be asked, not synced")
        with self.syncing():
            chosen = [self.sources.named(source)] if source else self.sources.list()
            reports = []
            for each in chosen:
                started = dt.datetime.now(dt.UTC)
                if (due_only and not each.due(started)) or (stop and stop.is_set()):
                    continue
                try:
                    report = self._sync_folder(each) if each.kind == "folder" else self._sync_web(each, stop)
                except Exception as err:  # one source's failure (a locked or full archive, a bug) is its own
                    log.warning("sync of %s failed", each.name, exc_info=not isinstance(err, PressQAError))
                    report = SyncReport(each.name, failed=(IngestProblem(each.location, f"sync failed: {err}"),))
                self.sources.synced(report, started)  # a failed source is tried again when next due
                reports.append(report)
            return reports

    def syncing(self) -> threading.Lock:
        """Held while this handle syncs (one sync at a time: a page's button, the schedule)."""
        return self._syncing

    def sync_paths(self, source: str, paths: Iterable[Path]) -> SyncReport:
        """Ingest files of a folder source that changed (as a watcher saw them)."""
        with self.syncing():
            chosen = self.sources.named(source)
            started = dt.datetime.now(dt.UTC)
            report = self._sync_folder(chosen, list(paths))
            self.sources.synced(report, started)
            return report

    def _sync_web(self, source: SyncSource, stop: threading.Event | None) -> SyncReport:
        def ingest(releases: Sequence[Release | IngestProblem]) -> IngestReport:
            # Waits for another writer (an upload, an ingest) instead of dropping the batch fetched.
            with WriteLock(self.path, wait=True), out_of_space_named(self.path):
                self._store.recover()
                return IngestRun(self._store, self._embedder, self.chunker, self.settings).run_items(releases)

        def stored(doc_id: str) -> bool:
            return self._store.content_hash(doc_id) is not None

        return WebSync(self.sources, self.settings, ingest, stored, source, stop).run()

    def _sync_folder(self, source: SyncSource, paths: list[Path] | None = None) -> SyncReport:
        report = self.ingest(paths or [Path(source.location)])
        return SyncReport(
            source.name,
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=report.failed,
            undated=report.undated,
            seconds=report.seconds,
        )

    def delete(self, *doc_ids: str) -> int:
        """Remove releases from the store and both indexes; returns the chunks removed.

        Raises ``ReleaseNotFoundError`` (and removes nothing) if any id is unknown.
        """
        with WriteLock(self.path), out_of_space_named(self.path):
            self._store.recover()
            removed = self._store.delete(doc_ids)
            self._store.sync_keyword_index()
            return removed

    def plan(
        self,
        question: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> QueryPlan:
        """How ``question`` will be searched: explicit filters, and the time and issuers it
        names.  The plan can be edited (say, an inferred issuer dropped) and given to ``search``.

        Explicit ``since``/``until``/``sources`` win over what is read from the question;
        ``sources`` must be issuer names as stored (see ``stats().issuers``).  ``as_of`` asks
        as on that day: later releases are left out, and "last month" or "recently" in the
        question are read against it (by default, against the newest release).
        """
        if isinstance(sources, str):
            sources = [sources]
        summary = self._store.summary()
        return make_plan(
            question,
            issuers=[issuer for issuer in summary["issuers"] if issuer != UNKNOWN_ISSUER],
            latest=summary["last_date"],
            since=since,
            until=until,
            sources=sources or (),
            as_of=as_of,
            issuer_latest=summary["issuer_latest"],
        )

    def search(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        k: int = 5,
    ) -> list[Hit]:
        """The ``k`` passages that best match ``question`` (dense and keyword search fused),
        limited to releases published between ``since`` and ``until`` (and by ``as_of``) by
        ``sources``; or the passages for a plan made by ``plan()``."""
        plan = self._planned(question, since, until, sources, as_of)
        self._store.refresh()
        return hybrid_search(self._store, self._embedder, plan, k, self._reranker)

    def ask(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        k: int | None = None,
        llm: LLM | str | None = None,
        limit: int = TIMELINE_ITEMS,
    ) -> Answer:
        """Answer ``question`` from the archive: every sentence of ``Answer.text`` cites the
        release it comes from, or the answer abstains and lists the closest releases.

        ``k`` releases (default ``Settings.answer_sources``) are read; ``since``, ``until``,
        ``as_of`` and ``sources`` limit them as in ``search``.  ``llm`` picks who writes the
        answer: a llama-index LLM, a spec ("ollama:llama3.1"), "offline" for the offline
        answerer, or None for ``Settings.llm`` (unset: offline).

        A question over releases ("What did ISAF report from Helmand in March 2011?", "the
        latest on ...", "how many releases ...") is answered from every release in its period
        and subject: ``Answer.timeline`` lists them, oldest first, at most ``limit`` (0: all).

        >>> answer = archive.ask("Which exercises did Russia join in China in 2021?")  # doctest: +SKIP
        >>> answer.text, [citation.title for citation in answer.citations]              # doctest: +SKIP
        """
        return self.ask_stream(
            question, since=since, until=until, sources=sources, as_of=as_of, k=k, llm=llm, limit=limit
        ).answer

    def ask_stream(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        as_of: dt.date | None = None,
        k: int | None = None,
        llm: LLM | str | None = None,
        limit: int = TIMELINE_ITEMS,
        asked: str | None = None,
    ) -> AnswerStream:
        """``ask``, streamed: iterate for the text as each sentence passes its citation
        check, then read ``.answer``."""
        started = time.perf_counter()
        plan = self._planned(question, since, until, sources, as_of)
        if plan.shape is not None:
            return self._over_releases(plan, limit, asked, started)
        generator = self._generator(llm)
        k = k or self.settings.answer_sources
        composition = read_composition(plan.question)
        if composition is None:
            hits = self.search(plan, k=k)
            numbered = self._numbered(hits, generator)
        else:
            hits, numbered, generator = self._composed(plan, composition, generator, k)
        # Quotes of the extractive answerer are the release's own words; reworded claims
        # of a language model may also stand on closeness in meaning.
        embed = None if isinstance(generator, ExtractiveGenerator | ComposingGenerator) else self._embedder.embed
        return AnswerStream(
            plan.question,
            plan,
            hits,
            numbered,
            generator,
            self._store.idf,
            embed,
            {"retrieve": time.perf_counter() - started},
            asked,
        )

    def _numbered(self, hits: Sequence[Hit], generator: Generator) -> list[Source]:
        """The sources a generator reads: whole releases, or the retrieved passages."""
        if generator.reads_whole_releases:
            texts = self._store.release_texts([hit.doc_id for hit in hits])
            return [Source.of(n, hit, texts[hit.doc_id], 0) for n, hit in enumerate(hits, 1) if hit.doc_id in texts]
        return [Source.of(n, hit, hit.text, hit.start) for n, hit in enumerate(hits, 1)]

    def _composed(
        self, plan: QueryPlan, composition: Composition, generator: Generator, k: int
    ) -> tuple[list[Hit], list[Source], Generator]:
        """A question over two releases (``answer.compose``): each part is searched on its
        own, under the filters given; the offline answerer answers each part from its own
        sources, a language model reads them all."""
        filters = plan.filters
        plans = [
            self.plan(part, since=filters.since, until=filters.until, sources=filters.sources, as_of=plan.as_of)
            for part in composition.parts
        ]
        found = [self.search(part_plan, k=k) for part_plan in plans]
        hits: list[Hit] = []  # the parts' releases in turn, best first
        for hit in itertools.chain.from_iterable(itertools.zip_longest(*found)):
            if hit is not None and all(hit.doc_id != kept.doc_id for kept in hits):
                hits.append(hit)
        numbered = self._numbered(hits, generator)
        if not isinstance(generator, ExtractiveGenerator):
            return hits, numbered, generator
        by_doc = {source.hit.doc_id: source for source in numbered}
        parts = [
            Part(question, part_plan, tuple(by_doc[hit.doc_id] for hit in part_hits if hit.doc_id in by_doc))
            for question, part_plan, part_hits in zip(composition.parts, plans, found, strict=True)
        ]
        return hits, numbered, ComposingGenerator(composition, parts, self._store.idf)

    def _planned(
        self,
        question: str | QueryPlan,
        since: dt.date | None,
        until: dt.date | None,
        sources: Sequence[str] | None,
        as_of: dt.date | None,
    ) -> QueryPlan:
        if isinstance(question, QueryPlan):
            if since or until or sources or as_of:
                raise ConfigError("give filters to plan(), not with a plan")
            return question
        return self.plan(question, since=since, until=until, sources=sources, as_of=as_of)

    def _over_releases(self, plan: QueryPlan, limit: int, asked: str | None, started: float) -> AnswerStream:
        """The answer to a question over releases (a timeline, the latest, a count): every
        release in its scope that holds its subject, whoever would write other answers."""
        if limit < 0:
            raise ConfigError(f"limit must be 0 (all) or more, not {limit}")
        assert plan.shape is not None
        self._store.refresh()
        matches = matching_releases(self._store, plan)
        chosen = shown(plan.shape, matches, limit)
        texts = self._store.release_texts([match.release.doc_id for match in chosen])
        hits = [_hit_of(match, texts[match.release.doc_id]) for match in chosen if match.release.doc_id in texts]
        sources = [Source.of(n, hit, texts[hit.doc_id], 0) for n, hit in enumerate(hits, 1)]
        return AnswerStream(
            plan.question,
            plan,
            hits,
            sources,
            TimelineGenerator(self._store.idf),
            self._store.idf,
            None,
            {"retrieve": time.perf_counter() - started},
            asked,
            listing(plan, matches, chosen),
        )

    def chat(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> Answer:
        """Answer the last user message of a conversation (``[{"role": "user", "content":
        ...}, {"role": "assistant", ...}, ...]``); a follow-up such as "and in 2022?" is
        first rewritten into a question that stands alone (``Answer.question``).  Takes
        ``ask``'s options."""
        return self.chat_stream(messages, **options).answer

    def chat_stream(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> AnswerStream:
        generator = self._generator(options.pop("llm", None))
        writer = generator if isinstance(generator, LLMGenerator) else None  # made once, used twice
        question = standalone_question(messages, writer.complete if writer else None)
        asked = user_questions(messages)[-1]
        llm = writer.llm if writer else None
        return self.ask_stream(question, asked=asked if asked != question else None, llm=llm, **options)

    def as_query_engine(self, **options: Any) -> CustomQueryEngine:
        """This archive as a llama-index query engine (its ``query`` returns a ``Response``
        whose source nodes are the cited passages).  Takes ``ask``'s options."""
        from pressqa.query_engine import ArchiveQueryEngine

        return ArchiveQueryEngine(archive=self, options=options)

    def _generator(self, llm: LLM | str | None) -> Generator:
        llm = llm if llm is not None else self.settings.llm
        if llm is None or llm == OFFLINE:
            return ExtractiveGenerator(self._store.idf)
        if isinstance(llm, str):
            llm = load_llm(llm, self.settings.llm_timeout)
        return LLMGenerator(llm)

    def release(self, doc_id: str) -> Release:
        """Metadata of one stored release (its ``text`` is left empty)."""
        return self._store.release(doc_id)

    def release_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """The whole text of each release, as ingested: citations' ``start``/``end`` point
        into it.  Unknown ids are left out."""
        return self._store.release_texts(doc_ids)

    def original_of(self, doc_id: str) -> str | None:
        """The release that ``doc_id`` was found to copy (the oldest of its group), or None."""
        return self._store.duplicate_of(doc_id)

    def releases(self) -> list[Release]:
        """Metadata of every release, oldest first (undated last)."""
        return self._store.releases()

    def recent(self, *, per_issuer: int = 1) -> list[Release]:
        """The newest releases of each issuer, biggest issuers first (metadata only)."""
        return self._store.recent(per_issuer)

    def copies(self, doc_id: str) -> list[str]:
        """Ids of the releases linked to ``doc_id`` as its duplicates."""
        return self._store.copies_of(doc_id)

    def group(self, reference: str) -> set[str]:
        """The releases a reference names (an id, or the path of the file it came from) and
        every release linked with them as copies; empty if it names none."""
        found: set[str] = set()
        for doc_id in self._store.find(reference):
            canonical = self._store.duplicate_of(doc_id) or doc_id
            found |= {doc_id, canonical, *self._store.copies_of(canonical)}
        return found

    def stats(self) -> ArchiveStats:
        return self._store.stats()

    def warm_up(self) -> None:
        """Load the embedding model and the indexes now, so that the first question is
        answered as fast as the next (a server does this before it listens)."""
        self._embedder.embed(["warm-up"])  # search embeds nothing while the archive is empty
        self.search("warm-up")

    def citation_holds(self, statement: str, citation: Citation) -> bool:
        """Whether the citation check that every answer passes accepts ``statement`` as
        said by ``citation``'s quoted passage (the eval harness re-checks answers with it)."""
        hit = Hit(doc_id=citation.doc_id, chunk_id="", title=citation.title, text=citation.quote,
                  start=citation.start, end=citation.end, score=0.0, source=citation.source,
                  date=citation.date, url=citation.url)  # fmt: skip
        source = Source.of(1, hit, citation.quote, citation.start)
        return Verifier([source], self._store.idf, self._embedder.embed).support(statement, source) is not None

    def check(self, *, repair: bool = False, force: bool = False) -> ArchiveCheck:
        """Whether the registry, Chroma and the keyword index agree; with ``repair``, put
        right what can be (see ``Store.check``): a lost registry is rebuilt from Chroma, and
        what cannot be re-added is dropped only with ``force``.  Repairing takes the write lock."""
        if not repair:
            return self._store.check(repair=False)
        deduper = Deduper(self.settings.near_duplicate_threshold, self.settings.minhash_permutations)
        with WriteLock(self.path), out_of_space_named(self.path):
            return self._store.check(repair=True, force=force, adopt=lambda groups: adopt(self._store, deduper, groups))

    def close(self) -> None:
        if self._sources is not None:
            self._sources.close()
        self._store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _hit_of(match: Match, text: str) -> Hit:
    """A matched release as a source of an answer: the whole release is read."""
    release = match.release
    return Hit(doc_id=release.doc_id, chunk_id="", title=release.title, text=text, start=0, end=len(text),
               score=match.share,
               source=release.source, date=release.date, url=release.url, copies=match.copies)  # fmt: skip
