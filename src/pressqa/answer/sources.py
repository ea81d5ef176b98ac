"""The numbered sources an answer is composed from, and the sentences inside them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pressqa.text import content_terms, split_sentences
from pressqa.types import Hit

# Stemmed term -> weight (BM25's inverse document frequency over the archive's chunks).
TermWeights = Callable[[Iterable[str]], dict[str, float]]


@dataclass(frozen=True, slots=True)
class Source:
    """Source ``number`` as the generator sees it: ``text`` is the release text from
    character ``offset`` on (the whole release, or the retrieved passage)."""

    number: int
    hit: Hit
    text: str
    offset: int = 0
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    # The content words of each sentence, worked out once: the answerer and the citation
    # checker both compare them.
    sentence_terms: tuple[frozenset[str], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, number: int, hit: Hit, text: str, offset: int) -> Source:
        sentences = tuple(split_sentences(text))
        terms = tuple(frozenset(content_terms(text[start:end])) for start, end in sentences)
        return cls(number, hit, text, offset, sentences, terms)

    def sentence(self, index: int) -> str:
        start, end = self.sentences[index]
        return self.text[start:end]

    @property
    def date(self) -> dt.date | None:
        return self.hit.date

    def header_terms(self) -> set[str]:
        """Words of its title and issuer: a claim may rest on who said it and about what."""
        return set(content_terms(f"{self.hit.title} {self.hit.source or ''}"))
