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

from pressqa.answer.figures import Computed, read_computed
from pressqa.answer.relative_dates import STATED_DERIVATION, date_parts, derive
from pressqa.answer.sources import Source, TermWeights
from pressqa.query.question import DATELIKE
from pressqa.text import content_terms, split_sentences
from pressqa.types import Citation

log = logging.getLogger(__name__)

# "[2]", "[1, 3]", "[1][2]": source markers as generators write them.
MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+")
# "first time.[1] It": a marker glued to the full stop.
_GLUED_MARKER = re.compile(r"([.!?])(?=\[\s*\d)")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(million|billion|trillion|thousand|percent|%))?", re.IGNORECASE)
# Words that turn a claim around: it needs a passage that says so too.
NEGATIONS = frozenset({
    "not", "no", "never", "nor", "neither", "none", "without", "cannot", "refused", "refuses", "denied", "denies",
    "declined",
})  # fmt: skip
# A claim is supported when its best passage holds at least LEXICAL_FLOOR of its word
# weight on its own, and LEXICAL_SUPPORT counting the release's title, issuer and date, or,
# reworded, is that close to it in embedding space.
LEXICAL_FLOOR = 0.3
LEXICAL_SUPPORT = 0.6
SEMANTIC_SUPPORT = 0.6
# Two sentences are quoted instead of one only if they hold this much more of the claim.
PAIR_PENALTY = 0.2

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Support:
    """A passage ``source.text[start:end]`` and the share of the claim's word weight it
    holds, with the release's title, issuer and date (``lexical``) and alone (``own``)."""

    source: Source
    start: int
    end: int
    lexical: float
    own: float


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
    draft = _GLUED_MARKER.sub(r"\1 ", draft)
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
        computed = read_computed(claim)
        if computed is not None:
            return self._check_computed(computed, claim, book)
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
        # Dates are held by the date rule below, not by word weight: "January 15, 2019:" before
        # a quote dated that day would otherwise outweigh the quote's own words.  A claim
        # that is only a date is weighed by its words all the same.
        terms = list(dict.fromkeys(content_terms(DATELIKE.sub(" ", statement)) or content_terms(statement)))
        weight = self.weights(terms)
        total = sum(weight.values()) or 1.0
        header = source.header_terms() | set(content_terms(_date_words(source)))
        dates = [match.group() for match in DATELIKE.finditer(statement)]
        derivable = STATED_DERIVATION in statement  # a day the passage names as "yesterday"
        amounts = _amounts(DATELIKE.sub(" ", statement))
        title_amounts = _amounts(source.hit.title)
        negated = _negated(statement)
        best: Support | None = None
        best_rank = -1.0
        spans, terms_of = source.sentences, source.sentence_terms
        windows = [(*span, found, 0.0) for span, found in zip(spans, terms_of, strict=True)]
        windows += [
            (first[0], second[1], terms_of[at] | terms_of[at + 1], PAIR_PENALTY)
            for at, (first, second) in enumerate(itertools.pairwise(spans))
        ]
        for start, end, found, extra in windows:
            passage = source.text[start:end]
            # The passage itself must carry the claim: a window is chosen by its own words,
            # not by the title and issuer that every window of the release shares.
            own = sum(weight[term] for term in terms if term in found) / total
            if own - extra <= best_rank:
                continue
            if negated and not _negated(passage):
                continue  # "was not held" is not supported by "was held"
            if not _amounts_held(amounts, _amounts(passage) | title_amounts):
                continue  # every count and sum, with its unit: "$8.3 million" is not "$8.3 billion"
            claimed = _underived_dates(statement, passage, source) if derivable else dates
            if not all(_date_held(date, passage, source) for date in claimed):
                continue
            share = sum(weight[term] for term in terms if term in found or term in header) / total
            best, best_rank = Support(source, start, end, share, own), own - extra
        if best is None or best.own < LEXICAL_FLOOR:
            return None
        if best.lexical >= LEXICAL_SUPPORT:
            return best
        if self.embed is not None:
            vectors = self.embed([statement, source.text[best.start : best.end]])
            if float(vectors[0] @ vectors[1]) >= SEMANTIC_SUPPORT:
                return best
        return None

    def _check_computed(self, computed: Computed, claim: str, book: CitationBook) -> str | None:
        """A computed claim stands if its result is what its operands give and each operand
        is in a sentence of the source it cites (that sentence is the citation)."""
        if not computed.holds():
            self._drop(book, f"the arithmetic does not hold: {claim!r}")
            return None
        markers = []
        for figure, number in computed.operands:
            source = self.sources.get(number)
            held = re.compile(rf"(?<![\w.$]){re.escape(figure)}(?!\w)", re.IGNORECASE)
            spans = source.sentences if source is not None else ()
            sentence = next((span for span in spans if source and held.search(source.text[span[0] : span[1]])), None)
            if source is None or sentence is None:
                self._drop(book, f"[{number}] does not hold {figure!r}: {claim!r}")
                return None
            markers.append(f"[{book.number(Support(source, *sentence, 1.0, 1.0))}]")
        return computed.claim(*markers)

    @staticmethod
    def _drop(book: CitationBook, reason: str) -> None:
        log.info("citation check: %s", reason)
        book.removed.append(reason)


def _date_words(source: Source) -> str:
    date = source.date
    return f"{date:%B} {date.day} {date.year} {date.isoformat()}" if date else ""


def _amounts(text: str) -> set[tuple[str, str]]:
    """Numbers with their magnitude: "$8.3 billion" -> ("8.3", "billion"); "1,540" -> ("1540", "")."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return {(number, unit.lower().replace("%", "percent")) for number, unit in _AMOUNT.findall(text)}


def _amounts_held(claimed: set[tuple[str, str]], found: set[tuple[str, str]]) -> bool:
    """Each claimed amount is found with the same magnitude (a bare number with any)."""
    return all(
        (number, unit) in found if unit else any(number == other for other, _ in found) for number, unit in claimed
    )


def _negated(text: str) -> bool:
    words = set(re.findall(r"[a-z']+", text.lower()))
    return bool(words & NEGATIONS) or any(word.endswith("n't") for word in words)


def _underived_dates(statement: str, passage: str, source: Source) -> list[str]:
    """The dates of ``statement`` left when those derived from ``passage`` (in the form
    ``DerivedDate.stated`` writes) are taken out: the rest must be held as written.  Each
    sentence of the passage is read on its own, as the answerer reads it."""
    for start, end in split_sentences(passage):
        for derived in derive(passage[start:end], source.date):
            statement = statement.replace(derived.stated(), " ")
    return [match.group() for match in DATELIKE.finditer(statement)]


def _date_held(expression: str, passage: str, source: Source) -> bool:
    """A date of the claim is in the passage (however spelled) or is the release's date."""
    wanted = date_parts(expression)
    if source.date and all(value == getattr(source.date, part) for part, value in wanted.items()):
        return True
    return any(date_parts(match.group()) == wanted for match in DATELIKE.finditer(passage))
