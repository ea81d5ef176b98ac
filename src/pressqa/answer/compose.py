"""Questions that need two releases: "how many ... in total in April and in October", "by how
much did the recoveries of fiscal year 2014 exceed those of 2013", "which official stood
with him at both announcements, in February and in October".

Such a question names two events apart (two times, or "both A and B") and asks to add, to
subtract, or what the two have in common.  It is read as two questions, one per event
(``read_composition``); each is searched and answered as any question is; then the answer
leads with the result: the sum or the difference of the two figures, the arithmetic shown
with each operand cited (the citation checker computes it again from the cited passages),
or the person both releases name; each part's sentence follows, quoted and cited.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pressqa.answer.extractive import Candidate, Reading, asked_quantities, claim, clause, read_sentences
from pressqa.answer.figures import computed_claim, figure_value
from pressqa.answer.sources import Source, TermWeights
from pressqa.query.question import NOT_A_NAME, PERSON_CUES, is_person, names, question_type
from pressqa.text import stem
from pressqa.types import QueryPlan

Operation = Literal["sum", "difference", "common"]

_SUM = re.compile(r"\b(?:taken together|together|in total|total|combined|altogether|in all|sum)\b", re.IGNORECASE)
_DIFFERENCE = re.compile(
    r"\b(?:by how much|how (?:much|many) (?:more|fewer|less)|difference|exceed(?:ed|s)?|increase[ds]?|"
    r"r[io]se|fell|drop(?:ped)?|decline[ds]?)\b",
    re.IGNORECASE,
)
_BOTH = re.compile(r"\b(?:both|each of the two|in each)\b", re.IGNORECASE)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_YEAR = r"(?:19|20)\d\d"
# What tells the two events apart: a time ("fiscal year 2014", "April 2011", "February"),
# with what a parenthesis adds ("April 2011 (Dangam district)").
_EVENT = re.compile(
    rf"(?:\b(?:fiscal\s+(?:year\s+)?|FY\s*){_YEAR}|\b{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?(?:,?\s+{_YEAR})?"
    rf"|\b{_YEAR}\b)(?:\s*\([^()]{{1,60}}\))?"
)
# What joins the two: "and (in)", "than (in)", "exceed those of", "compared with", "versus".
_JOIN = re.compile(
    r"\b(?:and|than|compared\s+(?:with|to)|versus|vs\.|exceed(?:ed|s)?\s+(?:those|that))"
    r"(?:\s+(?:in|on|during|for|of|those\s+of|that\s+of))?\s+",
    re.IGNORECASE,
)
# How far apart the two may be: the words they share ("the July 2017 *health care fraud
# takedown* than the June 2016 one"), and those that open the second ("than in *the* June 2016").
MAX_SHARED_WORDS = 8
MAX_OPENING_WORDS = 4
_BOTH_OF = re.compile(r"\bboth\s+(?P<first>[^,?]+?)\s+and\s+(?P<second>[^,?]+?)(?=[,?.]|$)", re.IGNORECASE)
# Words of the operation, left out of each part's question.
_OPERATION_WORDS = re.compile(
    r"\b(?:taken together|altogether|in total|combined|in all)\b,?\s*|\bboth(?:\s+of)?\s+|\bby (?=how much)"
    r"|(?<=how much )more\b|(?<=how many )(?:more|fewer)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Composition:
    """A question read as two (``parts``, each standing alone) and what to do with their
    answers."""

    operation: Operation
    parts: tuple[str, str]


def read_composition(question: str) -> Composition | None:
    """``question`` as two questions over two events, or None if it is about one.

    >>> read_composition("How many were killed in total in May 2011 and in June 2011?").parts
    ('How many were killed in May 2011?', 'How many were killed in June 2011?')
    """
    wanted = question_type(question)
    if wanted.kind == "number":
        operation: Operation | None = (
            "difference" if _DIFFERENCE.search(question) else "sum" if _SUM.search(question) else None
        )
    else:
        operation = "common" if wanted.kind in ("person", "name") and _BOTH.search(question) else None
    if operation is None:
        return None
    parts = _event_parts(question) or _both_parts(question)
    if parts is None:
        return None
    return Composition(operation, tuple(_tidy(part) for part in parts))  # type: ignore[arg-type]


def _event_parts(question: str) -> tuple[str, str] | None:
    """The question once with each of two events it names by their times: "in April 2011
    (Dangam district) and October 2011 (Khas Konar district)", "in the July 2017 takedown
    than in the June 2016 one", "the May and October 2010 takedowns".  The second's words
    stand where the first's did; a month without a year takes the year named elsewhere."""
    events = list(_EVENT.finditer(question))
    for first, second in itertools.pairwise(events):
        joins = list(_JOIN.finditer(question, first.end(), second.start()))
        if not joins:
            continue
        join = joins[-1]
        shared = question[first.end() : join.start()]  # " health care fraud takedown"
        opening = question[join.end() : second.start()]  # "the " of "than in the June 2016 one"
        if len(shared.split()) > MAX_SHARED_WORDS or len(opening.split()) > MAX_OPENING_WORDS:
            continue
        start = first.start()
        if opening.strip():  # the first is opened the same way: "the July 2017 takedown"
            found = [m.start() for m in re.finditer(rf"\b{re.escape(opening.split()[0])}\b", question[:start], re.I)]
            if found and len(question[found[-1] : start].split()) <= MAX_OPENING_WORDS:
                start = found[-1]
        tail = question[second.end() :]
        one = re.match(r"\s+ones?\b", tail)  # "than the June 2016 one": the shared words
        second_words = question[join.end() : second.end()]
        if one or not opening.strip():
            second_words += shared
            tail = tail[one.end() :] if one else tail
        years = [match.group() for match in re.finditer(_YEAR, question)]
        first_part = question[: join.start()] + tail
        second_part = question[:start] + second_words + tail
        return _with_year(first_part, first.group(), years), _with_year(second_part, second.group(), years)
    return None


def _with_year(part: str, event: str, years: list[str]) -> str:
    if re.search(_YEAR, event) or len(set(years)) != 1:
        return part
    dated = re.sub(rf"^({_MONTH}(?:\s+\d{{1,2}})?)", rf"\1 {years[0]}", event)
    return part.replace(event, dated, 1)


def _both_parts(question: str) -> tuple[str, str] | None:
    """The question once with each of "both A and B"."""
    found = _BOTH_OF.search(question)
    if found is None:
        return None
    before, after = question[: found.start()], question[found.end() :]
    return before + found.group("first") + after, before + found.group("second") + after


def _tidy(part: str) -> str:
    part = _OPERATION_WORDS.sub("", part)
    part = re.sub(r"\bthe two\b", "the", part, flags=re.IGNORECASE)
    part = re.sub(r"\s+([?.,])", r"\1", " ".join(part.split())).strip(" ,")
    part = re.sub(r",+([?.])", r"\1", part)
    return part[:1].upper() + part[1:]


@dataclass(frozen=True, slots=True)
class Part:
    """One part's question, its search plan, and the sources found for it."""

    question: str
    plan: QueryPlan
    sources: tuple[Source, ...]


class ComposingGenerator:
    """The offline answerer for questions over two releases: answers each part from its
    own sources and leads with the result (see the module's doc).  Abstains when a part
    has no answer, or both parts find the same one."""

    name = "extractive"
    reads_whole_releases = True

    def __init__(self, composition: Composition, parts: Sequence[Part], weights: TermWeights) -> None:
        self.composition, self.parts, self.weights = composition, parts, weights

    def draft(self, question: str, plan: QueryPlan, sources: Sequence[Source]) -> Iterator[str]:
        if self.composition.operation == "common":
            chosen, lead = self._common()
        else:
            chosen, lead = self._computed()
        if lead is None:
            return
        yield lead + "\n\n"
        for position, candidate in enumerate(chosen):
            first_of_source = all(earlier.source is not candidate.source for earlier in chosen[:position])
            yield claim(candidate, first_of_source, True, False, set()) + "\n\n"

    def _computed(self) -> tuple[list[Candidate], str | None]:
        """Each part's figure, and the claim that adds or subtracts them."""
        figures: list[tuple[Candidate, str, float]] = []
        for part in self.parts:
            reading = read_sentences(part.question, part.plan, part.sources, self.weights)
            found = _figure(reading)
            if found is None:
                return [], None
            candidate, text, value = found
            figures.append((clause(candidate, reading, holding=text), text, value))
        if figures[0][0] == figures[1][0] and figures[0][1] == figures[1][1]:
            return [], None  # both parts found the same figure: the question was not told apart
        operation = self.composition.operation
        if operation == "difference":
            figures.sort(key=lambda figure: -figure[2])  # the larger less the smaller
        (first, first_text, _), (second, second_text, _) = figures
        assert operation != "common"
        lead = computed_claim(operation, (first_text, first.source.number), (second_text, second.source.number))
        return [first, second], lead

    def _common(self) -> tuple[list[Candidate], str | None]:
        """The person (or name) both parts' sentences name, best placed beside the noun
        asked about, with a sentence of each part that names them."""
        best: list[dict[str, tuple[float, Candidate, str]]] = []
        readings = [read_sentences(part.question, part.plan, part.sources, self.weights) for part in self.parts]
        for reading in readings:
            named: dict[str, tuple[float, Candidate, str]] = {}
            for candidate in reading.candidates:
                text = candidate.source.sentence(candidate.index)
                for name in names(text, reading.question_words):
                    if reading.wanted.kind == "person" and not is_person(name, text):
                        continue  # "Human Services" of a department is named in both, and no one
                    nearby = text[max(0, name.start - 60) : name.end + 60].lower()
                    beside = bool(reading.wanted.focus & {stem(word) for word in re.findall(r"[a-z]+", nearby)})
                    score = candidate.score + 0.5 * beside
                    person = _without_titles(name.text)
                    if not person:
                        continue  # "the Office of Inspector General": titles, no one
                    key = person.split()[-1].lower()  # "Michele M. Leonhart" and "Leonhart" are one person
                    if key not in named or score > named[key][0]:
                        named[key] = (score, candidate, person)
            best.append(named)
        common = set(best[0]) & set(best[1])
        if not common:
            return [], None
        key = max(common, key=lambda name: best[0][name][0] + best[1][name][0])
        (_, first, first_name), (_, second, second_name) = best[0][key], best[1][key]
        if first == second:
            return [], None
        shown = max(first_name, second_name, key=len)
        quoted = [clause(first, readings[0], first_name), clause(second, readings[1], second_name)]
        return quoted, f"{shown} [{first.source.number}][{second.source.number}]."


def _without_titles(name: str) -> str:
    """A person's name without the titles and offices before it: "Harbor Police Chief Nora
    Vance" -> "Nora Vance"."""
    words = name.split()
    titles = [at for at, word in enumerate(words) if word.lower().strip(".,") in NOT_A_NAME | PERSON_CUES]
    return " ".join(words[max(titles, default=-1) + 1 :])


def _figure(reading: Reading) -> tuple[Candidate, str, float] | None:
    """The figure the part's best sentence gives for its question, and its value."""
    if not reading.candidates:
        return None
    best = reading.candidates[0]
    scored = asked_quantities(reading.wanted, best.source.sentence(best.index), reading.question_words)
    for _, _, text in sorted(scored, key=lambda found: (-found[0], found[1])):
        value = figure_value(text)
        if value is not None:
            return best, text, value
    return None
