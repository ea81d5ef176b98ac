"""The Python API: ``Archive.open(path).ingest(paths)`` and friends.  Only this module wires parts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pressqa.answer.engine import AnswerStream, ExtractiveGenerator, Generator
from pressqa.answer.followup import standalone_question, user_questions
from pressqa.answer.llm import LLMGenerator
from pressqa.answer.sources import Source
from pressqa.embedding import Embedder
from pressqa.errors import ArchiveLockedError, ConfigError
from pressqa.fsutil import WriteLock, out_of_space_named
from pressqa.ingest.adopt import adopt
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.dedupe import Deduper
from pressqa.ingest.pipeline import IngestRun, ProgressCallback
from pressqa.ingest.readers import RecordFields
from pressqa.llms.backends import load_llm
from pressqa.retrieve.hybrid import hybrid_search
from pressqa.retrieve.issuers import IssuerMatcher
from pressqa.retrieve.rerank import CrossEncoderReranker, Reranker
from pressqa.retrieve.timeparse import parse_time
from pressqa.settings import Settings, load_settings
from pressqa.store import UNKNOWN_ISSUER, Store
from pressqa.types import Answer, ArchiveCheck, ArchiveStats, Hit, IngestReport, QueryPlan, Release, SearchFilters

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

    def __init__(self, store: Store, settings: Settings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = Embedder(settings)
        self._chunker: Chunker | None = None
        # Reorders search candidates when set (retrieve/rerank.py): from settings.reranker_path,
        # or any object with a ``score(question, passages)`` method assigned here.
        self.reranker: Reranker | None = None
        if settings.reranker_path is not None:
            self.reranker = CrossEncoderReranker(settings.reranker_path, settings.device)

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
        for_check: bool = False,
    ) -> Archive:
        """Open the archive at ``path`` (default: ``settings.archive``), creating it if asked.

        Raises ``SettingsMismatchError`` if the archive was built with other embedding or
        chunking settings, and ``StoreError`` if it does not exist and ``create`` is false,
        or if a part of it is missing or damaged (the message names the part and what to
        do).  ``for_check`` opens a damaged archive for ``check`` to report and repair, and
        leaves an interrupted write for ``check`` to report (otherwise opening finishes it).
        An archive on a read-only folder can be searched and asked, not written.
        """
        settings = settings or load_settings()
        if path is not None:
            settings = settings.model_copy(update={"archive": Path(path)})
        archive = cls(Store(settings.archive, settings, create=create, for_check=for_check), settings)
        if not for_check:
            archive._catch_up()
        return archive

    def _catch_up(self) -> None:
        """Finish what an interrupted writer left, unless a writer is at work right now or
        the archive is read-only (search serves only what the registry holds either way)."""
        if self.store.read_only or not self.store.needs_recovery():
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
        with WriteLock(self.path), out_of_space_named(self.path):
            self.store.recover()
            run = IngestRun(self.store, self.embedder, self.chunker, self.settings)
            return run.run([Path(p) for p in paths], fields, progress)

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = Chunker.for_settings(self.settings)
        return self._chunker

    def delete(self, *doc_ids: str) -> int:
        """Remove releases from the store and both indexes; returns the chunks removed.

        Raises ``ReleaseNotFoundError`` (and removes nothing) if any id is unknown.
        """
        with WriteLock(self.path), out_of_space_named(self.path):
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
        self.store.refresh()
        return hybrid_search(self.store, self.embedder, plan, k, self.reranker)

    def ask(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        k: int | None = None,
        llm: LLM | str | None = None,
    ) -> Answer:
        """Answer ``question`` from the archive: every sentence of ``Answer.text`` cites the
        release it comes from, or the answer abstains and lists the closest releases.

        ``k`` releases (default ``Settings.answer_sources``) are read; ``since``, ``until``
        and ``sources`` limit them as in ``search``.  ``llm`` picks who writes the answer: a
        llama-index LLM, a spec ("ollama:llama3.1"), "offline" for the offline answerer, or
        None for ``Settings.llm`` (unset: offline).

        >>> answer = archive.ask("Which exercises did Russia join in China in 2021?")  # doctest: +SKIP
        >>> answer.text, [citation.title for citation in answer.citations]              # doctest: +SKIP
        """
        return self.ask_stream(question, since=since, until=until, sources=sources, k=k, llm=llm).answer

    def ask_stream(
        self,
        question: str | QueryPlan,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sources: Sequence[str] | None = None,
        k: int | None = None,
        llm: LLM | str | None = None,
        asked: str | None = None,
    ) -> AnswerStream:
        """``ask``, streamed: iterate for the text as each sentence passes its citation
        check, then read ``.answer``."""
        started = time.perf_counter()
        if isinstance(question, QueryPlan):
            if since or until or sources:
                raise ConfigError("give filters to plan(), not with a plan to ask()")
            plan = question
        else:
            plan = self.plan(question, since=since, until=until, sources=sources)
        generator = self._generator(llm)
        hits = self.search(plan, k=k or self.settings.answer_sources)
        if generator.reads_whole_releases:
            texts = self.store.release_texts([hit.doc_id for hit in hits])
            numbered = [Source.of(n, hit, texts[hit.doc_id], 0) for n, hit in enumerate(hits, 1) if hit.doc_id in texts]
        else:
            numbered = [Source.of(n, hit, hit.text, hit.start) for n, hit in enumerate(hits, 1)]
        # Quotes of the extractive answerer are the release's own words; reworded claims
        # of a language model may also stand on closeness in meaning.
        embed = None if isinstance(generator, ExtractiveGenerator) else self.embedder.embed
        return AnswerStream(
            plan.question,
            plan,
            hits,
            numbered,
            generator,
            self.store.keyword.idf,
            embed,
            {"retrieve": time.perf_counter() - started},
            asked,
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
            return ExtractiveGenerator(self.store.keyword.idf)
        if isinstance(llm, str):
            llm = load_llm(llm, self.settings.llm_timeout)
        return LLMGenerator(llm)

    def release(self, doc_id: str) -> Release:
        """Metadata of one stored release (its ``text`` is left empty)."""
        return self.store.registry.release(doc_id)

    def recent(self, *, per_issuer: int = 1) -> list[Release]:
        """The newest releases of each issuer, biggest issuers first (metadata only)."""
        return self.store.registry.recent(per_issuer)

    def copies(self, doc_id: str) -> list[str]:
        """Ids of the releases linked to ``doc_id`` as its duplicates."""
        return self.store.registry.copies_of(doc_id)

    def group(self, reference: str) -> set[str]:
        """The releases a reference names (an id, or the path of the file it came from) and
        every release linked with them as copies; empty if it names none."""
        found: set[str] = set()
        for doc_id in self.store.registry.find(reference):
            canonical = self.store.registry.duplicate_of(doc_id) or doc_id
            found |= {doc_id, canonical, *self.store.registry.copies_of(canonical)}
        return found

    def stats(self) -> ArchiveStats:
        return self.store.stats()

    def check(self, *, repair: bool = False, force: bool = False) -> ArchiveCheck:
        """Whether the registry, Chroma and the keyword index agree; with ``repair``, put
        right what can be (see ``Store.check``): a lost registry is rebuilt from Chroma, and
        what cannot be re-added is dropped only with ``force``.  Repairing takes the write lock."""
        if not repair:
            return self.store.check(repair=False)
        deduper = Deduper(self.settings.near_duplicate_threshold, self.settings.minhash_permutations)
        with WriteLock(self.path), out_of_space_named(self.path):
            return self.store.check(repair=True, force=force, adopt=lambda groups: adopt(self.store, deduper, groups))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
