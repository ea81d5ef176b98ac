"""The default answerer: offline, no language model.  It answers with the sentences of the
retrieved releases that best match the question and hold an answer of the type it asks
for, and abstains when no sentence does.

A sentence scores the weight of the question's words it shares (rare words weigh more;
words in the release's title or the sentence before count half), plus a bonus when it
holds an answer of the asked type (a count beside the counted noun scores highest), plus
a little for the rank of its release.  A sentence may answer only if

- it holds an answer of the asked type (for number, date, person, place and name questions),
- its release shares most of the question's word weight and of the words of names in
  it (so "Manafort" must be there when asked), and
- its release was published in the time the question names, or the sentence names that year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pressqa.answer.sources import Source, TermWeights
from pressqa.query.plan import publication_filter
from pressqa.query.question import (
    DAY,
    PLACE_CUES,
    QuestionType,
    entity_terms,
    is_person,
    key_terms,
    names,
    quantities,
    question_type,
)
from pressqa.text import stem, words
from pressqa.types import QueryPlan

# Weights of the score parts; measured on the dev questions (eval/RESULTS.md).
CONTEXT_WEIGHT = 0.5
TYPE_WEIGHT = 1.0
RANK_WEIGHT = 0.3
# Share of the question's word weight its release must hold for a sentence to answer,
# and share of the words of the names in the question.
MIN_RELEASE_COVERAGE = 0.5
MIN_NAME_COVERAGE = 0.66
# Sentences an answer to a list question may have (one fact takes one sentence).
LIST_SENTENCES = 3
# Shorter "sentences" are headings and boilerplate ("For Immediate Release").
MIN_SENTENCE_WORDS = 4
_RELATIVE_DAY = re.compile(r"\b(today|yesterday|tonight|this (?:morning|afternoon|evening|week))\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    source: Source
    index: int
    score: float
    type_score: float


def extract_answer(question: str, plan: QueryPlan, sources: Sequence[Source], weights: TermWeights) -> list[str]:
    """The answer's sentences, each a quoted release sentence ending in its source marker
    ``[n]``; empty when no sentence answers the question (the caller abstains)."""
    wanted = question_type(question)
    terms = key_terms(question)
    named = entity_terms(question)
    weight = weights(terms)
    total = sum(weight.values()) or 1.0
    question_words = {word.lower() for word in re.findall(r"[\w.'-]+", question)}
    candidates: list[Candidate] = []
    for rank, source in enumerate(sources):
        sentence_terms = source.sentence_terms
        header = source.header_terms()
        in_release = set().union(header, *sentence_terms)
        if sum(weight[term] for term in terms if term in in_release) / total < MIN_RELEASE_COVERAGE:
            continue
        if named and sum(term in in_release for term in named) / len(named) < MIN_NAME_COVERAGE:
            continue  # "Paul Manafort" asked, and not in it
        in_window = _published_in_window(plan, source)
        for index, found in enumerate(sentence_terms):
            text = source.sentence(index)
            if words(text) < MIN_SENTENCE_WORDS:
                continue
            if not in_window and not _names_asked_year(plan, text):
                continue
            kind_score = type_score(wanted, text, question_words, source)
            if wanted.kind != "other" and kind_score == 0:
                continue
            # A detail sentence stands on the release's title and the sentence before it.
            context = header | (sentence_terms[index - 1] if index else set())
            shared = sum(weight[term] for term in terms if term in found) / total
            beside = sum(weight[term] for term in terms if term not in found and term in context) / total
            score = shared + CONTEXT_WEIGHT * beside + TYPE_WEIGHT * kind_score + RANK_WEIGHT / (rank + 1)
            candidates.append(Candidate(source, index, score, kind_score))
    if not candidates:
        return []
    candidates.sort(key=lambda candidate: -candidate.score)
    chosen = [candidates[0]]
    if wanted.wants_list:
        for candidate in candidates[1:]:
            if len(chosen) == LIST_SENTENCES:
                break
            if candidate.score >= candidates[0].score - TYPE_WEIGHT / 2 and candidate.type_score > 0:
                chosen.append(candidate)
    state = wanted.kind == "date" or plan.time is not None or bool(plan.issuers)
    claims = []
    for position, candidate in enumerate(chosen):
        first_of_source = all(earlier.source is not candidate.source for earlier in chosen[:position])
        claims.append(_claim(candidate, state and first_of_source))
    return claims


def type_score(wanted: QuestionType, sentence: str, question_words: set[str], source: Source) -> float:
    """How surely ``sentence`` holds an answer of the wanted kind: 1 sure, 0 not at all."""
    if wanted.kind == "number":
        found = [(at, text) for at, text in quantities(sentence) if text.lower().lstrip("$") not in question_words]
        if not found:
            return 0.0
        best = 0.5
        for at, text in found:
            after = {stem(word) for word in re.findall(r"[a-z]+", sentence[at + len(text) :].lower())[:6]}
            if wanted.focus & after:
                best = 1.0  # "seven felony charges" for "how many felony charges"
            elif wanted.money and text.startswith("$"):
                best = max(best, 0.8)
        return best
    if wanted.kind == "date":
        if DAY.search(sentence):
            return 1.0
        # "announced today": the day is the release's date, which the answer states.
        return 0.7 if source.date and _RELATIVE_DAY.search(sentence) else 0.0
    if wanted.kind == "other":
        return 0.0
    candidates = names(sentence, question_words)
    if wanted.kind == "person":
        candidates = [name for name in candidates if len(name.words) >= 2 or is_person(name, sentence)]
    best = 0.0
    for name in candidates:
        cued = (wanted.kind == "person" and is_person(name, sentence)) or (
            wanted.kind == "place" and bool(PLACE_CUES & set(name.before[-1:]))
        )
        nearby = sentence[max(0, name.start - 60) : name.end + 60].lower()
        # Beside the noun asked about: "mortgage servicers: Bank of America".
        beside = bool(wanted.focus & {stem(word) for word in re.findall(r"[a-z]+", nearby)})
        best = max(best, 0.5 + 0.25 * cued + 0.25 * beside)
    return best


def _published_in_window(plan: QueryPlan, source: Source) -> bool:
    if plan.time is None or plan.time_use != "boost":
        return True
    return publication_filter(plan.time).admits(source.date, None)


def _names_asked_year(plan: QueryPlan, sentence: str) -> bool:
    """Whether ``sentence`` names a year of the time the question asks about (for a fiscal
    year, its own number: "fiscal year 2022" is not in a sentence about 2021)."""
    span = plan.time
    if span is None:
        return False
    if span.kind == "fiscal-year" and span.end:
        first = last = span.end.year
    else:
        first = (span.start or dt.date(1900, 1, 1)).year
        last = (span.end or dt.date(2999, 12, 31)).year
    return any(first <= int(year) <= last for year in re.findall(r"\b((?:19|20)\d\d)\b", sentence))


def _claim(candidate: Candidate, state_source: bool) -> str:
    """The sentence as a claim with its marker, saying who issued it and when if asked
    about a time or an issuer (once per source), or if the sentence says "today"."""
    source = candidate.source
    text = source.sentence(candidate.index)
    hit = source.hit
    if (state_source or _RELATIVE_DAY.search(text)) and (hit.source or hit.date):
        said = ", ".join(part for part in (hit.source, hit.date and format_date(hit.date)) if part)
        text = f"{said}: {text}"
    return f"{text} [{source.number}]"


def format_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"
