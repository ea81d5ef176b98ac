"""Answers made of releases over time: a timeline (one cited sentence per release, oldest
first), the newest or the first release on a subject ("as of" its date), a count of releases.

The releases are those ``retrieve.timeline`` matched; the count and the period come from
them, never from a number found in one passage.  Each item quotes the sentence of its
release that holds most of the subject's word weight (the earliest among equals: a
release's lead says what it reports), and passes the same citation check as any answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pressqa.answer.relative_dates import long_date
from pressqa.answer.sources import Source, TermWeights
from pressqa.present import issuer_label
from pressqa.query.plan import scope_filters
from pressqa.query.question import DATELIKE
from pressqa.retrieve.timeline import Match, per_month
from pressqa.text import content_terms, words
from pressqa.types import QueryPlan, Shape

# An item quotes a sentence of at least this many words when its release has one that
# holds the subject: shorter ones are datelines and headings ("KABUL, Afghanistan (March 3)").
MIN_ITEM_WORDS = 8
# Items a timeline shows unless asked for more (0: all); the CLI's ``--limit``.
TIMELINE_ITEMS = 20
# A longer sentence is quoted in part: from a little before the subject's first word.
MAX_ITEM_WORDS = 45
LEAD_WORDS = 10
# "KABUL, Afghanistan (Jan. 28, 2011) - ", "YINCHUAN, Aug. 9 -- ": where and when, which the
# item's date says already.
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'-]{2,}(?:,\s+[A-Za-z .'-]+?)?"
    r"(?:\s*\([^)]{3,40}\)|,\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s+\d{4})?)\s*[-\u2013\u2014]+\s*"
)


def shown(shape: Shape, matches: Sequence[Match], limit: int) -> list[Match]:
    """The matches an answer shows, oldest first: the newest or first one for "latest" and
    "earliest"; otherwise all, or the ``limit`` that hold most of the subject."""
    if not matches:
        return []
    if shape == "latest":
        dated = [match for match in matches if match.date]
        return [(dated or list(matches))[-1]]
    if shape == "earliest":
        return [matches[0]]
    if not limit or len(matches) <= limit:
        return list(matches)
    kept = sorted(matches, key=lambda match: -match.share)[:limit]  # stable: the older among equals
    return [match for match in matches if match in kept]


@dataclass(frozen=True, slots=True)
class Listing:
    """What the answer says before its items: how many releases matched, in which scope."""

    shape: Shape
    matched: int
    header: str
    per_month: dict[str, int]
    complete: bool  # whether the chosen releases are all that was asked for


def listing(plan: QueryPlan, matches: Sequence[Match], chosen: Sequence[Match]) -> Listing:
    """The header of the answer to ``plan``'s question from ``matches`` (``chosen`` shown)."""
    assert plan.shape is not None
    scope = _scope(plan)
    count = len(matches)
    releases = f"{count} release{'s' if count != 1 else ''}{scope}"
    one = plan.shape in ("latest", "earliest")
    if not matches:
        header = f"No release{scope} was found in the archive."
    elif one:
        day = long_date(chosen[0].date) if chosen[0].date else None
        if plan.shape == "latest":
            header = f"As of {day}, the newest of {releases}:" if day else f"The newest of {releases} is undated:"
        else:
            header = f"The first of {releases} is of {day}:" if day else f"The first of {releases} is undated:"
    elif len(chosen) < count:
        header = f"{releases}; {len(chosen)} of them shown, oldest first:"
    else:
        header = f"{releases}, oldest first:"
    return Listing(plan.shape, count, header, per_month(list(matches)), one or len(chosen) >= count)


def _scope(plan: QueryPlan) -> str:
    """`` from ISAF, published 2011-03-01 to 2011-03-31, on "helmand province"``."""
    filters = scope_filters(plan)
    parts = []
    if filters.sources:
        parts.append(" from " + " or ".join(issuer_label(source) for source in filters.sources))
    if filters.since and filters.until:
        parts.append(f" published {filters.since.isoformat()} to {filters.until.isoformat()}")
    elif filters.since or filters.until:
        parts.append(f" published {'since ' + filters.since.isoformat() if filters.since else ''}"
                     f"{'until ' + filters.until.isoformat() if filters.until else ''}")  # fmt: skip
    if plan.subject:
        parts.append(f' on "{" ".join(plan.subject)}"')
    return ",".join(parts)


class TimelineGenerator:
    """Drafts one item per source, oldest first: ``- March 3, 2011: <sentence> [n]``."""

    name = "timeline"
    reads_whole_releases = True

    def __init__(self, weights: TermWeights) -> None:
        self.weights = weights

    def draft(self, question: str, plan: QueryPlan, sources: Sequence[Source]) -> Iterator[str]:
        subject = list(dict.fromkeys(content_terms(" ".join(plan.subject))))
        weight = self.weights(subject)
        for source in sources:
            index = _telling_sentence(source, subject, weight)
            if index is None:
                continue
            date = long_date(source.date) if source.date else "Undated"
            yield f"- {date}: {_excerpt(source.sentence(index), subject)} [{source.number}]\n\n"


def _excerpt(sentence: str, subject: list[str]) -> str:
    """``sentence`` without its dateline, and at most ``MAX_ITEM_WORDS`` of it, cut with an
    ellipsis, from ``LEAD_WORDS`` before the first word of the subject; never inside a date,
    which the citation check would then not find."""
    text = _DATELINE.sub("", sentence)
    tokens = list(re.finditer(r"\S+", text))
    if len(tokens) <= MAX_ITEM_WORDS:
        return " ".join(token.group() for token in tokens)
    wanted = {stem for term in subject for stem in term.split()}
    at = next((at for at, token in enumerate(tokens) if set(content_terms(token.group())) & wanted), 0)
    first = max(0, min(at - LEAD_WORDS, len(tokens) - MAX_ITEM_WORDS))
    start, end = tokens[first].start(), tokens[first + MAX_ITEM_WORDS - 1].end()
    for date in DATELIKE.finditer(text):  # widen the cut to hold a date it would split
        if date.start() < start < date.end():
            start = date.start()
        if date.start() < end < date.end():
            end = date.end()
    start = text.rfind(" ", 0, start) + 1  # whole words
    end = len(text) if text.find(" ", end) < 0 else text.find(" ", end)
    return ("\u2026 " if start else "") + " ".join(text[start:end].split()) + (" \u2026" if end < len(text) else "")


def _telling_sentence(source: Source, subject: list[str], weight: dict[str, float]) -> int | None:
    """The sentence of ``source`` that holds most of the subject's weight: the earliest
    among equals, a long one before a heading."""
    best: tuple[bool, float, bool, int] | None = None
    for index, found in enumerate(source.sentence_terms):
        size = words(source.sentence(index))
        if size < 3:
            continue
        held = sum(weight[term] for term in subject if term in found)
        long = size >= MIN_ITEM_WORDS
        rank = (long and held > 0, held, long, -index)
        if best is None or rank > best:
            best = rank
    return -best[3] if best is not None else None
