"""Citation checking, the same for every generator.

Each sentence of a drafted answer must cite a source with a marker ``[n]``.  For each
marker the passage of source n that best supports the sentence is found; the citation
stands only if that passage (with the release's title and date) holds every number the
sentence states and enough of its words (rare words weigh more), or, when the wording
differs, some of its words and is close to it in meaning as the embedding model sees it.
Markers that point nowhere and citations that do not hold are removed; a sentence left
without a citation is dropped.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pressqa.answer.sentences import content_terms, split_sentences
from pressqa.answer.sources import Source, TermWeights
from pressqa.types import Citation

log = logging.getLogger(__name__)

# "[2]", "[1, 3]", "[1][2]": source markers as generators write them.
MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A claim is supported when its best passage holds this share of its word weight ...
LEXICAL_SUPPORT = 0.6
# ... or, reworded, at least this share and this cosine similarity in embedding space.
LEXICAL_FLOOR = 0.3
SEMANTIC_SUPPORT = 0.6

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Support:
    source: Source
    start: int  # offsets into source.text
    end: int
    lexical: float


@dataclass(slots=True)
class CitationBook:
    """Numbers citations in order of first use: the same quoted passage keeps its number."""

    citations: list[Citation] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def number(self, support: Support) -> int:
        source = support.source
        start, end = source.offset + support.start, source.offset + support.end
        for citation in self.citations:
            if citation.doc_id == source.hit.doc_id and (citation.start, citation.end) == (start, end):
                return citation.number
        hit = source.hit
        citation = Citation(
            number=len(self.citations) + 1,
            doc_id=hit.doc_id,
            title=hit.title,
            quote=source.text[support.start : support.end],
            start=start,
            end=end,
            source=hit.source,
            date=hit.date,
            url=hit.url,
            copies=hit.copies,
        )
        self.citations.append(citation)
        return citation.number


def claims(draft: str) -> list[str]:
    """The sentences of a drafted answer, each with the markers that follow it (a marker
    written after the full stop belongs to the sentence before)."""
    found: list[str] = []
    for start, end in split_sentences(draft):
        sentence = draft[start:end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and found:
            found[-1] += " " + leading.group().strip()
            sentence = sentence[leading.end() :].strip()
        if sentence:
            found.append(sentence)
    return found


class Verifier:
    """Checks claims against numbered sources; ``embed`` (optional) lets reworded claims stand."""

    def __init__(self, sources: Sequence[Source], weights: TermWeights, embed: Embed | None = None) -> None:
        self.sources = {source.number: source for source in sources}
        self.weights = weights
        self.embed = embed

    def check(self, claim: str, book: CitationBook) -> str | None:
        """The claim with its markers renumbered to checked citations in ``book``, or None
        (and the reason in ``book.removed``) if no citation of it holds."""
        cited = [int(number) for group in MARKER.findall(claim) for number in re.split(r"[,;]", group)]
        statement = re.sub(r"\s+([.!?,;:])", r"\1", " ".join(MARKER.sub(" ", claim).split()))
        if not statement.strip(" .") or not re.search(r"\w", statement):
            return None  # a stray marker
        if not cited:
            self._drop(book, f"no citation: {statement!r}")
            return None
        kept: list[int] = []
        for number in dict.fromkeys(cited):
            source = self.sources.get(number)
            if source is None:
                self._drop(book, f"[{number}] points to no source: {statement!r}")
                continue
            support = self.support(statement, source)
            if support is None:
                self._drop(book, f"[{number}] ({source.hit.doc_id}) does not support {statement!r}")
                continue
            kept.append(book.number(support))
        if not kept:
            self._drop(book, f"dropped, nothing supports it: {statement!r}")
            return None
        markers = "".join(f"[{number}]" for number in dict.fromkeys(kept))
        if statement[-1] in ".!?":
            return f"{statement[:-1]} {markers}{statement[-1]}"
        return f"{statement} {markers}"

    def support(self, statement: str, source: Source) -> Support | None:
        """The passage of ``source`` (one sentence or two in a row) that best supports
        ``statement``, if it supports it enough."""
        terms = list(dict.fromkeys(content_terms(statement)))
        weight = self.weights(terms)
        total = sum(weight.values()) or 1.0
        header = source.header_terms() | set(content_terms(_date_words(source)))
        header_numbers = set(_NUMBER.findall(f"{source.hit.title} {_date_words(source)}".replace(",", "")))
        numbers = set(_NUMBER.findall(statement.replace(",", "")))
        best: Support | None = None
        spans = list(source.sentences)
        windows = [*spans, *((first[0], second[1]) for first, second in itertools.pairwise(spans))]
        for start, end in windows:
            passage = source.text[start:end]
            found = set(content_terms(passage)) | header
            share = sum(weight[term] for term in terms if term in found) / total
            if best is None or share > best.lexical or (share == best.lexical and end - start < best.end - best.start):
                held = numbers <= set(_NUMBER.findall(passage.replace(",", ""))) | header_numbers
                best = Support(source, start, end, share) if held else best
        if best is None:
            return None
        if best.lexical >= LEXICAL_SUPPORT:
            return best
        if self.embed is not None and best.lexical >= LEXICAL_FLOOR:
            vectors = self.embed([statement, source.text[best.start : best.end]])
            if float(vectors[0] @ vectors[1]) >= SEMANTIC_SUPPORT:
                return best
        return None

    @staticmethod
    def _drop(book: CitationBook, reason: str) -> None:
        log.info("citation check: %s", reason)
        book.removed.append(reason)


def _date_words(source: Source) -> str:
    date = source.date
    return f"{date:%B} {date.day} {date.year} {date.isoformat()}" if date else ""
