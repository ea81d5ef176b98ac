"""Question + retrieved sources -> an Answer whose every sentence is checked against the
source it cites, streamed sentence by sentence as each one passes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from pressqa.answer.extractive import extract_answer
from pressqa.answer.sources import Source, TermWeights
from pressqa.answer.verify import MARKER, CitationBook, Embed, Verifier, claims
from pressqa.types import Answer, Hit, QueryPlan

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
    ) -> None:
        self.question, self.plan, self.hits, self.sources = question, plan, tuple(hits), sources
        self.generator, self.timings, self.asked = generator, dict(timings), asked
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
        if abstained:
            yield ABSTENTION
        self.timings["answer"] = time.perf_counter() - started
        self._answer = Answer(
            question=self.question,
            text=ABSTENTION if abstained else " ".join(checked),
            abstained=abstained,
            citations=() if abstained else tuple(self._book.citations),
            hits=self.hits,
            plan=self.plan,
            generator=self.generator.name,
            removed=tuple(self._book.removed),
            timings=self.timings,
            asked=self.asked,
        )

    def _accept(self, claim: str) -> Iterator[str]:
        checked = self._verifier.check(claim, self._book)
        self._sentences.append(checked or "")
        if checked:
            yield ("" if len([s for s in self._sentences if s]) == 1 else " ") + checked


def _has_words(text: str) -> bool:
    return any(character.isalpha() for character in MARKER.sub("", text).split("[")[0])
