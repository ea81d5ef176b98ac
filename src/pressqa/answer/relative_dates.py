"""Days a release names only relative to its own date: "late yesterday", "on Friday",
"this morning", "last week", "earlier this month".

Releases are written on the day they are dated, so such a phrase is read against the
release's publication date: "yesterday" in a release of May 13, 2016 is May 12, 2016.  The
offline answerer states the day it derives, with the phrase and the release date it comes
from; the citation checker accepts a stated day that is in no passage only when the same
rule derives it from the cited passage.  Undated releases derive nothing.

A weekday is the last one on or before the release date ("on Friday" in a release of
Friday is that day), or the next one after it when the sentence speaks of what will
happen ("will", "next", "this coming").  A week or a month is stated as such ("the week
of May 2, 2016", "May 2016"), never as a day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from pressqa.query.question import DAY

_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_MONTH_NUMBERS = {name.lower()[:3]: number for number, name in enumerate(calendar.month_name) if name}
_WEEKDAY = "|".join(calendar.day_name)
# Longest first: "late yesterday" before "yesterday".
RELATIVE = re.compile(
    r"\b(?:(?P<part>late|early|earlier|later)\s+)?(?P<day>yesterday|today|tonight|tomorrow)\b"
    r"|\b(?P<now>this (?:morning|afternoon|evening))\b"
    r"|\b(?P<night>last night)\b"
    # Not "Friday, Jan. 5, 2018" or "Friday, 5 January": a weekday before a written date.
    rf"|\b(?:(?P<which>last|next|this coming|this past|on|this)\s+)?(?P<weekday>{_WEEKDAY})\b(?!,?\s+(?:{DAY.pattern}))"
    r"|\b(?P<week>(?:earlier |later )?this week|last week|next week)\b"
    r"|\b(?P<month>(?:earlier |later )?this month|last month|next month)\b",
    re.IGNORECASE,
)
# What joins a derived date's phrase to the release date it is read against.
STATED_DERIVATION = '" in the release of '
# Words that put a weekday after the release date when they come shortly before it: "will
# meet on Monday" (not "arrested on Monday and will be sentenced in June").
_FUTURE = re.compile(r"\b(?:will|shall|is to|are to|scheduled|plans? to|is expected to)\b", re.IGNORECASE)
FUTURE_REACH = 40  # characters before the weekday
# A weekday that is part of a name or another day's description: "Black Friday", "Cyber
# Monday", "the following Monday", "every Tuesday".
_NOT_THIS_WEEKDAY = re.compile(r"(?:\b[A-Z][\w.]*|\b(?:following|previous|every|each|same|that))\s+$")


@dataclass(frozen=True, slots=True)
class DerivedDate:
    """A phrase of a sentence (``phrase``, at ``start``:``end``) read against the release's
    date ``published``: ``label`` says what it means ("May 12, 2016", "the week of May 2,
    2016", "May 2016"); ``day`` is set when it means one day."""

    phrase: str
    start: int
    end: int
    published: dt.date
    label: str
    day: dt.date | None

    def stated(self) -> str:
        """The date as an answer states it, with how it was found: ``May 12, 2016
        ("yesterday" in the release of May 13, 2016)``.  The citation checker accepts a date
        that no passage holds only in this form, derived again from the cited passage."""
        return f'{self.label} ("{self.phrase}{STATED_DERIVATION}{long_date(self.published)})'


def derive(sentence: str, published: dt.date | None) -> list[DerivedDate]:
    """The relative time phrases of ``sentence``, each read against ``published`` (none
    when the release is undated)."""
    if published is None:
        return []
    found = []
    for match in RELATIVE.finditer(sentence):
        before = sentence[: match.start()]
        if match.group("weekday") and not match.group("which") and _NOT_THIS_WEEKDAY.search(before):
            continue
        if match.group("day") and match.group()[0].isupper() and before.strip():
            continue  # "USA Today", "the Today show": a name, not the day
        future = bool(_FUTURE.search(sentence, max(0, match.start() - FUTURE_REACH), match.start()))
        try:
            meaning = _meaning(match, published, future)
        except OverflowError:  # a day before 0001-01-01 or after 9999-12-31
            continue
        if meaning is not None:
            label, day = meaning
            found.append(DerivedDate(match.group().strip(), match.start(), match.end(), published, label, day))
    return found


def _meaning(match: re.Match[str], published: dt.date, future: bool) -> tuple[str, dt.date | None] | None:
    if match.group("day"):
        step = {"yesterday": -1, "tomorrow": 1}.get(match.group("day").lower(), 0)
        day = published + dt.timedelta(days=step)
        return long_date(day), day
    if match.group("now"):
        return long_date(published), published
    if match.group("night"):
        day = published - dt.timedelta(days=1)
        return long_date(day), day
    if match.group("weekday"):
        which = (match.group("which") or "").lower()
        wanted = _WEEKDAYS[match.group("weekday").lower()]
        if which in ("next", "this coming") or (future and which not in ("last", "this past")):
            ahead = (wanted - published.weekday()) % 7 or (7 if which else 0)
            day = published + dt.timedelta(days=ahead)
        else:
            back = (published.weekday() - wanted) % 7 or (7 if which in ("last", "this past") else 0)
            day = published - dt.timedelta(days=back)
        return long_date(day), day
    if match.group("week"):
        step = {"last": -7, "next": 7}.get(match.group("week").split()[0].lower(), 0)
        monday = published - dt.timedelta(days=published.weekday()) + dt.timedelta(days=step)
        return f"the week of {long_date(monday)}", None
    if match.group("month"):
        first = published.replace(day=1)
        word = match.group("month").split()[0].lower()
        if word == "last":
            first = (first - dt.timedelta(days=1)).replace(day=1)
        elif word == "next":
            first = (first + dt.timedelta(days=32)).replace(day=1)
        return f"{first:%B} {first.year}", None
    return None


def long_date(day: dt.date) -> str:
    """``May 12, 2016``."""
    return f"{day:%B} {day.day}, {day.year}"


def date_parts(expression: str) -> dict[str, int]:
    """``{"year": 2012, "month": 3, "day": 6}`` for "March 6, 2012", as far as it says."""
    parts: dict[str, int] = {}
    month = re.search(r"[A-Za-z]{3}", expression)
    if month and month.group().lower() in _MONTH_NUMBERS:
        parts["month"] = _MONTH_NUMBERS[month.group().lower()]
    for number in re.findall(r"\d+", expression):
        parts["year" if len(number) == 4 else "day"] = int(number)
    return parts
