"""Question + retrieved sources -> an Answer whose every sentence is checked against the
source it cites, streamed sentence by sentence as each one passes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from pressqa.answer.extractive import extract_answer
from pressqa.answer.sources import Source, TermWeights
from pressqa.answer.timeline import Listing
from pressqa.answer.verify import MARKER, CitationBook, Embed, Verifier, claims
from pressqa.types import Answer, Hit, QueryPlan, Timeline, TimelineItem

ABSTENTION = "The archive has no release that answers this."


class Generator(Protocol):
    """Drafts an answer from numbered sources, citing them with markers ``[n]``; yields the
    draft in pieces (tokens or sentences) as it is written."""

    name: str
    # Whether it reads whole releases (True) or the retrieved passages.
    reads_whole_releases: bool

    def draft(self, question: str, plan: QueryPlan, sources: Sequence[Source]) -> Iterable[str]: ...


class ExtractiveGenerator:
    """The offline default: quotes the sentences that answer the question (see ``extractive``)."""

    name = "extractive"
    reads_whole_releases = True

    def __init__(self, weights: TermWeights) -> None:
        self.weights = weights

    def draft(self, question: str, plan: QueryPlan, sources: Sequence[Source]) -> Iterator[str]:
        for claim in extract_answer(question, plan, sources, self.weights):
            yield claim + "\n\n"  # a paragraph break ends a claim that ends without a stop (a list item)


class AnswerStream:
    """Iterate for the answer's text as each sentence passes its citation check; then
    ``answer`` holds the whole Answer.

    >>> stream = archive.ask_stream("Which exercises did Russia join in China in 2021?")  # doctest: +SKIP
    >>> for piece in stream:                                                            # doctest: +SKIP
    ...     print(piece, end="")
    >>> stream.answer.citations                                                          # doctest: +SKIP
    """

    def __init__(
        self,
        question: str,
        plan: QueryPlan,
        hits: Sequence[Hit],
        sources: Sequence[Source],
        generator: Generator,
        weights: TermWeights,
        embed: Embed | None,
        timings: dict[str, float],
        asked: str | None = None,
        listing: Listing | None = None,
    ) -> None:
        self.question, self.plan, self.hits, self.sources = question, plan, tuple(hits), sources
        self.generator, self.timings, self.asked, self.listing = generator, dict(timings), asked, listing
        self._verifier = Verifier(sources, weights, embed)
        self._book = CitationBook()
        self._sentences: list[str] = []
        self._answer: Answer | None = None
        self._pieces = self._run()

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def __next__(self) -> str:
        return next(self._pieces)

    @property
    def answer(self) -> Answer:
        """The finished Answer (reading it first consumes the rest of the stream)."""
        for _ in self._pieces:
            pass
        assert self._answer is not None
        return self._answer

    def _run(self) -> Iterator[str]:
        started = time.perf_counter()
        draft = ""
        listing = self.listing
        if self.sources:
            for piece in self.generator.draft(self.question, self.plan, self.sources):
                draft += piece
                written = claims(draft)
                # The last sentence may still be growing, or be the next one's first marker
                # ("... opium. [1"): earlier ones are complete once words follow them.
                if len(written) > 1 and _has_words(written[-1]):
                    for claim in written[len(self._sentences) : -1]:
                        yield from self._accept(claim)
            for claim in claims(draft)[len(self._sentences) :]:
                yield from self._accept(claim)
        checked = [sentence for sentence in self._sentences if sentence]
        abstained = not checked
        abstention = listing.header if listing is not None and not listing.matched else ABSTENTION
        if abstained:
            yield abstention
        self.timings["answer"] = time.perf_counter() - started
        text = abstention if abstained else _joined(checked)
        if listing is not None and not abstained:
            text = f"{listing.header}\n{text}"
        self._answer = Answer(
            question=self.question,
            text=text,
            abstained=abstained,
            citations=() if abstained else tuple(self._book.citations),
            hits=self.hits,
            plan=self.plan,
            generator=self.generator.name,
            removed=tuple(self._book.removed),
            timings=self.timings,
            asked=self.asked,
            timeline=None if listing is None or abstained else self._timeline(listing, checked),
        )

    def _accept(self, claim: str) -> Iterator[str]:
        checked = self._verifier.check(claim, self._book)
        self._sentences.append(checked or "")
        if checked:
            first = len([s for s in self._sentences if s]) == 1
            if first and self.listing is not None:
                yield self.listing.header  # said once an item stands: never above an abstention
            yield ("" if first and self.listing is None else _separator(checked)) + checked

    def _timeline(self, listing: Listing, items: list[str]) -> Timeline:
        """The checked items with what each cites."""
        cited = {citation.number: citation for citation in self._book.citations}
        shown = []
        for item in items:
            citation = cited[int(MARKER.search(item).group(1).split(",")[0])]  # type: ignore[union-attr]
            shown.append(TimelineItem(
                date=citation.date, doc_id=citation.doc_id, title=citation.title, quote=citation.quote,
                number=citation.number, source=citation.source, url=citation.url, copies=citation.copies,
            ))  # fmt: skip
        return Timeline(
            listing.shape, listing.matched, listing.header, tuple(shown), listing.per_month, listing.complete
        )


def _separator(claim: str) -> str:
    """A list item (``- ...``) goes on a line of its own; a sentence follows the one before."""
    return "\n" if claim.startswith("- ") else " "


def _joined(sentences: list[str]) -> str:
    return "".join((_separator(sentence) if at else "") + sentence for at, sentence in enumerate(sentences))


def _has_words(text: str) -> bool:
    return any(character.isalpha() for character in MARKER.sub("", text).split("[")[0])
