"""The default answerer: offline, no language model.  It answers with the sentences of the
retrieved releases that best match the question and hold an answer of the type it asks
for, and abstains when no sentence does.

A sentence scores the weight of the question's words it shares (rare words weigh more;
words in the release's title or the sentence before count half), plus a bonus when it
holds an answer of the asked type (a count beside the counted noun scores highest), plus
a little for the rank of its release and for standing in its lead (a release states its
news first), less when it names only other years than the one asked ("since January 2009"
asked about fiscal year 2013).  A sentence may answer only if

- it holds an answer of the asked slot (for number, date, person, place and name
  questions): asked how many of a thing, a figure of that thing ("three hours" does not
  answer how many inches of snow; an age or "a one-count information" is no amount);
  asked which of a kind, a name in a sentence that names that kind, or marked as one ("near
  Vladivostok" in a sentence about a patrol does not answer which warships); asked for a
  prison term given, not one faced,
- its release shares most of the question's word weight and of the words of names in
  it (so "Manafort" must be there when asked), and
- its release was published in the time the question names, or the sentence names that year.

Answers compose what a release says in pieces: asked "when", a day the release names only
relative to its date ("yesterday", "on Friday") leads the answer as a date, with how it was
read (``relative_dates``); asked for a list, a sentence that announces the items ("five of
its leaders") is followed by the sentences that name them; a sentence that holds the answer
but little of the question is quoted with the sentence before it, which says what it is
about.  Questions over two releases are read as two (``compose``).

One answer, not a pile of sentences: a single answer leads with the figure or the person's
name it gives, when it gives one surely ("78 months [1]."), and a long sentence is quoted by
the clauses that answer (``clause``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pressqa.answer.relative_dates import DerivedDate, date_parts, derive, long_date
from pressqa.answer.sources import Source, TermWeights
from pressqa.query.plan import publication_filter
from pressqa.query.question import (
    DAY,
    IMPOSED,
    NUMBER_VALUES,
    NUMBER_WORDS,
    PERSON_TITLES,
    PLACE_CUES,
    QuestionType,
    entity_terms,
    is_person,
    key_terms,
    names,
    quantities,
    question_type,
)
from pressqa.text import content_terms, stem, words
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
# List questions: a sentence that announces the asked items ("five of its leaders") and
# holds this share of the question's word weight is answered with the items that follow
# it, found within LIST_REACH sentences.
MIN_ANNOUNCEMENT_SHARE = 0.2
LIST_REACH = 8
_ANNOUNCED_COUNT = re.compile(
    rf"\b(?P<count>{NUMBER_WORDS}|\d+)\s+(?!dozen|hundred|thousand|million)(?:of\s+)?[a-z]", re.IGNORECASE
)
MAX_ANNOUNCED = 20  # a bigger count is not a list of names to follow sentence by sentence
ANNOUNCED_NOUN_REACH = 12  # words after the count where the noun asked about may stand
_OPEN_LIST = re.compile(r":\s*$")
_QUOTED = re.compile(r"[\"\u201c\u201d]")
# A day in an answer to "when" counts this much (of 1) unless it stands within ANCHOR_CHARS
# of a word of what the question asks happened.
UNANCHORED_DAY = 0.6
ANCHOR_CHARS = 30
# A release's lead (its first LEAD_SENTENCES sentences) states its news: a bonus for them.
LEAD_WEIGHT = 0.15
LEAD_SENTENCES = 2
_AGE = re.compile(r",\s")
_COMPOUND = re.compile(r"-([A-Za-z]+)")
# Units a figure in a compound may measure what is asked in ("a 10-year sentence").
_UNIT_WORDS = frozenset({
    "year", "month", "week", "day", "hour", "minut", "percent", "dollar", "million", "billion", "thousand",
    "pound", "kilogram", "kilo", "gram", "ton", "tonn", "mile", "kilomet", "time",
})  # fmt: skip
# A sentence that names years, none of them in the time the question asks about ("since
# January 2009" asked about fiscal year 2013), speaks of another time: it loses this much.
OTHER_TIME_WEIGHT = 0.5
# A sentence that holds this share of the question's word weight and no answer of the asked
# kind may be answered with its neighbour's (counted at NEIGHBOUR_DISCOUNT of its own); an
# answer that holds less of it is quoted with the sentence before, when that one holds it.
MIN_JOINED_SHARE = 0.5
NEIGHBOUR_DISCOUNT = 0.5
# A quote longer than this many words is cut to the clauses that answer (``clause``).
MAX_QUOTE_WORDS = 30
_CLAUSE_BREAK = re.compile(r"(?<=[,;])\s+|\s+(?=[\u2013\u2014]\s)")
_NEGATION = re.compile(r"\b(?:not|no|never|nor|neither|none|without)\b|n't\b", re.IGNORECASE)
# Shorter "sentences" are headings and boilerplate ("For Immediate Release").
MIN_SENTENCE_WORDS = 4


@dataclass(frozen=True, slots=True)
class Candidate:
    source: Source
    index: int
    score: float
    type_score: float
    # The part of the sentence to quote (start, end), when not all of it (``clause``).
    quote: tuple[int, int] | None = None
    # The adjacent sentence that says what this one answers about, quoted with it.
    joined: int | None = None


def extract_answer(question: str, plan: QueryPlan, sources: Sequence[Source], weights: TermWeights) -> list[str]:
    """The answer's sentences, each a quoted release sentence ending in its source marker
    ``[n]``; empty when no sentence answers the question (the caller abstains)."""
    reading = read_sentences(question, plan, sources, weights)
    wanted, candidates, event_terms = reading.wanted, reading.candidates, reading.event_terms
    state = wanted.kind == "date" or plan.time is not None or bool(plan.issuers)
    asks_date = wanted.kind == "date"
    for announcement in reading.announced:
        items = _items(announcement, wanted, reading.question_words)
        if items:
            chosen = [announcement, *items]
            return [claim(item, item is announcement, state, False, event_terms) for item in chosen]
    if not candidates:
        return []
    best = candidates[0]
    if best.joined is not None:  # the answer first, then the sentence that says what it answers about
        return [
            claim(replace(best, joined=None), True, state, asks_date, event_terms),
            claim(replace(best, index=best.joined, joined=None), False, state, False, event_terms),
        ]
    chosen = [clause(best, reading)]
    if wanted.wants_list:
        for candidate in candidates[1:]:
            if len(chosen) == LIST_SENTENCES:
                break
            if (
                candidate.score >= best.score - TYPE_WEIGHT / 2
                and candidate.type_score > 0
                and candidate.joined is None
            ):
                chosen.append(candidate)
    claims = []
    if len(chosen) == 1 and wanted.kind in ("number", "person"):
        # The answer first, when the sentence gives one surely: "78 months [1]."
        sentence = chosen[0].source.sentence(chosen[0].index)
        answers = surest_answers(sentence, reading)
        if len(answers) == 1 and (wanted.kind == "number" or _titled(answers[0], sentence)):
            claims.append(f"{_with_noun(answers[0], sentence, wanted)} [{chosen[0].source.number}].")
    for position, candidate in enumerate(chosen):
        first_of_source = all(earlier.source is not candidate.source for earlier in chosen[:position])
        claims.append(claim(candidate, first_of_source, state, asks_date, event_terms))
    return claims


@dataclass(frozen=True, slots=True)
class Reading:
    """What a question asks and the sentences that may answer it, best first
    (``announced``: for a list question, the sentences that announce its items)."""

    wanted: QuestionType
    question_words: set[str]
    event_terms: set[str]
    weight: dict[str, float]
    candidates: list[Candidate]
    announced: list[Candidate]


def read_sentences(question: str, plan: QueryPlan, sources: Sequence[Source], weights: TermWeights) -> Reading:
    """Scores the sentences of ``sources`` that may answer ``question`` (see the module's
    doc for the score and what a sentence needs to answer)."""
    wanted = question_type(question)
    terms = key_terms(question)
    named = entity_terms(question)
    event_terms = set(terms) - set(named)  # "sentenced", "filed": what happened, not to whom
    weight = weights(terms)
    total = sum(weight.values()) or 1.0
    question_words = {word.lower() for word in re.findall(r"[\w.'-]+", question)}
    candidates: list[Candidate] = []
    announced: list[Candidate] = []
    for rank, source in enumerate(sources):
        sentence_terms = source.sentence_terms
        header = source.header_terms()
        in_release = set().union(header, *sentence_terms)
        if sum(weight[term] for term in terms if term in in_release) / total < MIN_RELEASE_COVERAGE:
            continue
        if named and sum(term in in_release for term in named) / len(named) < MIN_NAME_COVERAGE:
            continue  # "Paul Manafort" asked, and not in it
        in_window = _published_in_window(plan, source)
        lead = 0
        for index, found in enumerate(sentence_terms):
            text = source.sentence(index)
            if words(text) < MIN_SENTENCE_WORDS:
                continue
            lead += 1
            if not in_window and not _names_asked_year(plan, text):
                continue
            shared = sum(weight[term] for term in terms if term in found) / total
            if wanted.wants_list and shared >= MIN_ANNOUNCEMENT_SHARE and _announces(text, wanted) is not None:
                announced.append(Candidate(source, index, shared + RANK_WEIGHT / (rank + 1), 0.0))
            kind_score = type_score(wanted, text, question_words, source, event_terms)
            answer_at, joined = index, None
            if wanted.kind != "other" and kind_score == 0:
                # It says what was asked about, a neighbour what was asked: quoted together.
                if shared < MIN_JOINED_SHARE or not in_window:
                    continue
                answering, kind_score = _neighbour(source, index, wanted, question_words, event_terms)
                if answering is None:
                    continue
                kind_score *= NEIGHBOUR_DISCOUNT
                answer_at, joined = answering, index
            # A detail sentence stands on the release's title and the sentence before it.
            context = header | (sentence_terms[answer_at - 1] if answer_at else set())
            beside = sum(weight[term] for term in terms if term not in found and term in context) / total
            if joined is None and answer_at and shared < MIN_JOINED_SHARE:
                before = sum(weight[term] for term in terms if term in sentence_terms[answer_at - 1]) / total
                joined = answer_at - 1 if before >= MIN_JOINED_SHARE else None  # what it answers is said before it
            score = shared + CONTEXT_WEIGHT * beside + TYPE_WEIGHT * kind_score + RANK_WEIGHT / (rank + 1)
            # The lead's day is the release's own ("announced today"): no bonus for it asked when.
            score += LEAD_WEIGHT * (lead <= LEAD_SENTENCES and wanted.kind != "date")
            score -= OTHER_TIME_WEIGHT * _names_other_years(plan, text)
            if kind_score > 0 or wanted.kind == "other":
                candidates.append(Candidate(source, answer_at, score, kind_score, joined=joined))
    candidates.sort(key=lambda candidate: -candidate.score)
    announced.sort(key=lambda candidate: -candidate.score)
    return Reading(wanted, question_words, event_terms, weight, candidates, announced)


def type_score(
    wanted: QuestionType, sentence: str, question_words: set[str], source: Source, event_terms: set[str]
) -> float:
    """How surely ``sentence`` holds an answer of the wanted kind: 1 sure, 0 not at all."""
    if wanted.kind == "number":
        if wanted.imposed_term and not IMPOSED.search(sentence):
            return 0.0  # "faces up to five years" does not say what he was given
        scored = asked_quantities(wanted, sentence, question_words)
        return max((score for score, _, _ in scored), default=0.0)
    if wanted.kind == "date":
        # "concluded on Friday": the day is read against the release's date, and stated.
        derived = derive(sentence, source.date)
        spans = [match.span() for match in DAY.finditer(sentence)] + [(d.start, d.end) for d in derived if d.day]
        if not spans:
            return 0.5 if derived else 0.0
        # A day beside the words of what the question asks happened ("filed yesterday") is
        # surer than one elsewhere in the sentence ("announced today").
        return 1.0 if _beside(spans, event_terms, sentence) else UNANCHORED_DAY
    if wanted.kind == "other":
        return 0.0
    return max((score for score, _ in asked_names(wanted, sentence, question_words, event_terms)), default=0.0)


def _neighbour(
    source: Source, index: int, wanted: QuestionType, question_words: set[str], event_terms: set[str]
) -> tuple[int | None, float]:
    """The sentence before or after ``index`` in its release that holds an answer of the
    asked kind, and how surely (the surer of the two)."""
    best: tuple[int | None, float] = (None, 0.0)
    for other in (index - 1, index + 1):
        if 0 <= other < len(source.sentences) and words(source.sentence(other)) >= MIN_SENTENCE_WORDS:
            score = type_score(wanted, source.sentence(other), question_words, source, event_terms)
            if score > best[1]:
                best = (other, score)
    return best


def asked_names(
    wanted: QuestionType, sentence: str, question_words: set[str], event_terms: set[str]
) -> list[tuple[float, str]]:
    """The names of ``sentence`` that may answer a person, place or name question, each with
    how surely (a title or "said" marks a person, "in" a place; beside the asked noun)."""
    candidates = names(sentence, question_words)
    if wanted.kind == "person":
        candidates = [name for name in candidates if len(name.words) >= 2 or is_person(name, sentence)]
    scored = []
    in_sentence = {stem(word) for word in re.findall(r"[a-z]+", sentence.lower())}
    for name in candidates:
        cued = (wanted.kind == "person" and is_person(name, sentence)) or (
            wanted.kind == "place" and bool(PLACE_CUES & set(name.before[-1:]))
        )
        nearby = sentence[max(0, name.start - 60) : name.end + 60].lower()
        # Beside the noun asked about: "mortgage servicers: Bank of America" (the noun, not a
        # name in the question: "warships", not "Russian").
        asked = wanted.focus & event_terms or wanted.focus
        beside = bool(asked & {stem(word) for word in re.findall(r"[a-z]+", nearby)})
        if asked and not (cued or beside or asked & in_sentence):
            continue  # "Vladivostok" asked which warships: a name, not of the asked kind
        scored.append((0.5 + 0.25 * cued + 0.25 * beside, name.text))
    return scored


def asked_quantities(wanted: QuestionType, sentence: str, question_words: set[str]) -> list[tuple[float, int, str]]:
    """The counts and amounts of ``sentence`` the question does not state itself, each with
    how surely it is the one asked for (1: beside the counted noun, "seven felony charges"),
    and its offset."""
    scored = []
    found = quantities(sentence)
    ends = [start for start, _ in found[1:]] + [len(sentence)] if found else []
    for (at, text), next_at in zip(found, ends, strict=True):
        if text.lower().lstrip("$") in question_words:
            continue
        if not wanted.age and _AGE.match(sentence, at + len(text)) and sentence[:at].rstrip().endswith(","):
            continue  # "Bobby Jay Elkin Jr., 50, of Washington": an age, asked how much he paid
        compound = _COMPOUND.match(sentence, at + len(text))
        if compound and stem(compound.group(1).lower()) not in _UNIT_WORDS | wanted.focus:
            continue  # "a one-count information" asked how much he paid: no amount
        # The words it counts, up to the next figure: "301 individuals, including 61 doctors".
        following = [stem(word) for word in re.findall(r"[a-z]+", sentence[at + len(text) : next_at].lower())[:6]]
        if wanted.focus & set(following):
            scored.append((1.0, at, text))  # "seven felony charges" for "how many felony charges"
        elif wanted.money and text.startswith("$"):
            scored.append((0.8, at, text))
        elif not wanted.focus:
            scored.append((0.5, at, text))
        # Else a figure of another thing than the one counted ("three hours" asked how many
        # inches of snow, "four insurgents" asked how much money): no answer.
    return scored


def _event_words(sentence: str, event_terms: set[str]) -> list[tuple[int, int]]:
    """Where the words of what the question asks happened stand in ``sentence``."""
    return [match.span() for match in re.finditer(r"[A-Za-z]+", sentence) if stem(match.group().lower()) in event_terms]


def _beside(spans: Sequence[tuple[int, int]], event_terms: set[str], sentence: str) -> bool:
    """Whether one of ``spans`` is within ``ANCHOR_CHARS`` of a word of ``event_terms``."""
    near = _event_words(sentence, event_terms)
    return any(
        start - ANCHOR_CHARS <= word_end and word_start <= end + ANCHOR_CHARS
        for word_start, word_end in near
        for start, end in spans
    )


def _announces(sentence: str, wanted: QuestionType) -> int | None:
    """How many items ``sentence`` announces of the kind the question asks for ("five of its
    leaders" for "which leaders"; 0: an open list, "the following", a closing colon), or None."""
    if wanted.kind not in ("person", "name"):
        return None
    for match in _ANNOUNCED_COUNT.finditer(sentence):
        count = match.group("count").lower()
        value = int(count) if count.isdigit() else NUMBER_VALUES.get(count)
        if value is None or value < 2 or value > MAX_ANNOUNCED:
            continue  # "one of the leaders", "hundreds", a year: not a list to follow
        # The counted noun, or one it is said to be: "five of the insurgents ... were Taliban commanders".
        following = re.findall(r"[A-Za-z]+", sentence[match.end("count") :])[:ANNOUNCED_NOUN_REACH]
        if any(word.endswith("s") and stem(word.lower()) in wanted.focus for word in following):
            return value
    # "the following vessels:", "named the defendants:", but not "the attorney general said:".
    if _OPEN_LIST.search(sentence) and any(
        word.endswith("s") and stem(word.lower()) in wanted.focus for word in re.findall(r"[A-Za-z]+", sentence)
    ):
        return 0
    return None


def _items(announcement: Candidate, wanted: QuestionType, question_words: set[str]) -> list[Candidate]:
    """The sentences after ``announcement`` in its release that hold the items it announces:
    names of the asked kind, quotations skipped, until as many names as announced (an open
    list: each following sentence that holds one), within LIST_REACH sentences."""
    count = _announces(announcement.source.sentence(announcement.index), wanted)
    source, seen = announcement.source, 0
    items: list[Candidate] = []
    for index in range(announcement.index + 1, min(len(source.sentences), announcement.index + 1 + LIST_REACH)):
        text = source.sentence(index)
        if _QUOTED.search(text):
            continue
        found = names(text, question_words)
        if wanted.kind == "person":
            found = [name for name in found if len(name.words) >= 2 or is_person(name, text)]
        if not found:
            if count == 0 and items:
                break  # an open list ends at its first sentence without an item
            continue
        items.append(Candidate(source, index, 0.0, 0.0))
        seen += len(found)
        if count and seen >= count:
            return items
    return items if count == 0 else []


def _published_in_window(plan: QueryPlan, source: Source) -> bool:
    if plan.time is None or plan.time_use != "boost":
        return True
    return publication_filter(plan.time).admits(source.date, None)


def _names_asked_year(plan: QueryPlan, sentence: str) -> bool:
    """Whether ``sentence`` names a year of the time the question asks about (for a fiscal
    year, its own number: "fiscal year 2022" is not in a sentence about 2021)."""
    asked = _asked_years(plan)
    return asked is not None and any(asked[0] <= year <= asked[1] for year in _years(sentence))


def _names_other_years(plan: QueryPlan, sentence: str) -> bool:
    """Whether ``sentence`` names years, and none of the time the question asks about."""
    asked, named = _asked_years(plan), _years(sentence)
    return asked is not None and bool(named) and not any(asked[0] <= year <= asked[1] for year in named)


def _asked_years(plan: QueryPlan) -> tuple[int, int] | None:
    span = plan.time
    if span is None:
        return None
    if span.kind == "fiscal-year" and span.end:
        return span.end.year, span.end.year
    return (span.start or dt.date(1900, 1, 1)).year, (span.end or dt.date(2999, 12, 31)).year


def _years(sentence: str) -> list[int]:
    return [int(year) for year in re.findall(r"\b((?:19|20)\d\d)\b", sentence)]


def clause(candidate: Candidate, reading: Reading, holding: str | None = None) -> Candidate:
    """``candidate`` quoting only the clauses of its sentence that answer, when it is longer
    than MAX_QUOTE_WORDS: the run of clauses that holds its answers (the surest figures or
    names, ``holding``, the one the answer states, or the "yesterday" a "when" answer reads),
    whom or what the question names, and most of the question's words.  A list, a "when"
    answer with no relative day, and a negated sentence whose negation would be left out stay
    whole."""
    text = candidate.source.sentence(candidate.index)
    wanted = reading.wanted
    if words(text) <= MAX_QUOTE_WORDS or wanted.kind == "other" or wanted.wants_list:
        return candidate
    if wanted.kind == "date":  # the day it states from a "yesterday", else the whole sentence
        day = _day_asked(reading.event_terms, text, candidate.source.date)
        if day is None:
            return candidate
        answers = [day.phrase]
    else:
        answers = [holding] if holding is not None else surest_answers(text, reading)
    named = (set(reading.weight) - reading.event_terms) & candidate.source.sentence_terms[candidate.index]
    cuts = [0, *(match.end() for match in _CLAUSE_BREAK.finditer(text)), len(text)]
    best: tuple[tuple[float, int], int, int] | None = None
    for first, start in enumerate(cuts[:-1]):
        for end in cuts[first + 1 :]:
            piece = text[start:end].rstrip(" ,;")
            if words(piece) > MAX_QUOTE_WORDS:
                break
            if not all(answer in piece for answer in answers) or not named <= set(content_terms(piece)):
                continue  # the answer, and whom or what the question names ("Elizabeth Holmes")
            if _NEGATION.search(text) and not _NEGATION.search(piece):
                continue  # "was not convicted" must not be quoted as "was convicted"
            kind_score = type_score(wanted, piece, reading.question_words, candidate.source, reading.event_terms)
            if kind_score < candidate.type_score:
                continue
            shared = sum(reading.weight[term] for term in set(content_terms(piece)) if term in reading.weight)
            rank = (shared, -words(piece))
            if best is None or rank > best[0]:
                best = (rank, start, start + len(piece))
    return candidate if best is None else replace(candidate, quote=best[1:])


def surest_answers(sentence: str, reading: Reading) -> list[str]:
    """The figures or names of ``sentence`` that answer the question most surely (one, or
    several that tie)."""
    wanted = reading.wanted
    if wanted.kind == "number":
        offered = [(score, figure) for score, _, figure in asked_quantities(wanted, sentence, reading.question_words)]
    else:
        offered = asked_names(wanted, sentence, reading.question_words, reading.event_terms)
    surest = max((score for score, _ in offered), default=0.0)
    return list(dict.fromkeys(found for score, found in offered if score == surest))


def _titled(name: str, sentence: str) -> bool:
    """Whether ``name`` is plainly a person's in ``sentence``: an initial in it ("Michele M.
    Leonhart"), a title right before it ("Judge Jorge Solis") or "said" right after it."""
    at = sentence.find(name)
    before = re.findall(r"[A-Za-z]+", sentence[:at])[-1:]
    after = re.findall(r"[a-z]+", sentence[at + len(name) : at + len(name) + 12])[:1]
    return (
        bool(re.search(r"\b[A-Z]\.(?=\s)", name))
        or bool({word.lower() for word in before} & PERSON_TITLES)
        or after == ["said"]
    )


def _with_noun(answer: str, sentence: str, wanted: QuestionType) -> str:
    """A count with the words it counts, as the sentence puts them: "78 months", "seven
    felony charges"; a sum of money or a name as it is."""
    if wanted.kind != "number" or answer.startswith("$"):
        return answer.rstrip(".")
    after = re.findall(r"[A-Za-z]+", sentence[sentence.find(answer) + len(answer) :])[:3]
    counted = [at + 1 for at, word in enumerate(after) if stem(word.lower()) in wanted.focus | _UNIT_WORDS]
    return " ".join([answer, *after[: max(counted, default=0)]])


def claim(candidate: Candidate, first_of_source: bool, state: bool, asks_date: bool, event_terms: set[str]) -> str:
    """The sentence as a claim with its marker.  Asked when, a sentence that names its day
    only relative to the release ("yesterday") leads with the day that means and how it was
    read; otherwise the claim says who issued it and when if asked about a time or an issuer,
    or if the sentence says "today" (once per source)."""
    source = candidate.source
    text = source.sentence(candidate.index)
    if candidate.quote is not None:  # a clause of it: "… obtained a record $5.69 billion …"
        start, end = candidate.quote
        text = ("… " if start else "") + text[start:end] + (" …" if end < len(text) else "")
    hit = source.hit
    derived = derive(text, source.date)
    day = _day_asked(event_terms, text, source.date) if asks_date else None
    if day is not None:
        text = f"{day.stated()}: {text}"
    elif first_of_source and (state or derived) and (hit.source or hit.date):
        said = ", ".join(part for part in (hit.source, hit.date and long_date(hit.date)) if part)
        text = f"{said}: {text}"
    return f"{text} [{source.number}]"


def _day_asked(event_terms: set[str], sentence: str, published: dt.date | None) -> DerivedDate | None:
    """The day a "when" answer should state from ``sentence`` when the sentence names it
    relative to the release ("was sentenced yesterday"): a relative phrase, unless a date
    written out in full is nearer to the words of what the question asks happened ("the
    murder ... on June 20, 2013" for "when was he murdered").  A written date that is the
    release's own (a dateline) does not count."""
    derived = [date for date in derive(sentence, published) if date.day is not None]
    if not derived:
        return None
    written = [
        (match.start(), match.end())
        for match in DAY.finditer(sentence)
        if published is None or date_parts(match.group()) != date_parts(long_date(published))
    ]
    anchors = [start for start, _ in _event_words(sentence, event_terms)]
    if not anchors:
        # Nothing to tell them apart: one relative day is the answer; beside a written date,
        # the sentence (which holds it) answers as it is.
        return derived[0] if len(derived) == 1 and not written else None

    def distance(span: tuple[int, int]) -> int:
        return min(max(span[0] - anchor, anchor - span[1], 0) for anchor in anchors)

    nearest = min(derived, key=lambda date: distance((date.start, date.end)))
    return nearest if not written or distance((nearest.start, nearest.end)) < min(map(distance, written)) else None
