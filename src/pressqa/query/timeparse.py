"""Time expressions in a question ("in March 2011", "fiscal year 2012", "since 2019") as date spans.

No LLM: a handful of patterns cover how analysts name times.  Relative ones ("last
year", "this week", "recently") are read against the day a question is asked as of, by
default the newest release in the archive, not the wall clock, since an archive is a
snapshot of its own past.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

from pressqa.types import TimeSpan

D = dt.date

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
# "may" and "mar" are also words ("what may 2013 bring"): only capitalised are they months.
_MONTH = (
    r"(?P<month>"
    + "|".join(
        name if name not in ("may", "mar") else f"(?-i:{name.capitalize()})"
        for name in sorted(_MONTHS, key=len, reverse=True)
    )
    + r")\.?"
)
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_PART = r"(?P<part>early|mid|middle of|late|end of|beginning of|start of)"
# A bare number is a year only after words that introduce a time ("in 2012"), so that
# "the 2000 troops" or "Resolution 1973" are not read as dates.
_LEAD = r"(?:in|during|of|for|throughout|by|from)"


def _month_span(year: int, month: int, part: str | None = None) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(year, month)[1]
    if part in ("early", "beginning of", "start of"):
        return D(year, month, 1), D(year, month, 10)
    if part in ("mid", "middle of"):
        return D(year, month, 11), D(year, month, 20)
    if part in ("late", "end of"):
        return D(year, month, 21), D(year, month, last)
    return D(year, month, 1), D(year, month, last)


def _year_span(year: int, part: str | None = None) -> tuple[dt.date, dt.date]:
    if part in ("early", "beginning of", "start of"):
        return D(year, 1, 1), D(year, 4, 30)
    if part in ("mid", "middle of"):
        return D(year, 5, 1), D(year, 8, 31)
    if part in ("late", "end of"):
        return D(year, 9, 1), D(year, 12, 31)
    return D(year, 1, 1), D(year, 12, 31)


# Most specific first: the first pattern that matches decides.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "fiscal-year",
        re.compile(
            r"\b(?:fiscal(?:\s+years?)?|FY)\s*'?(?P<first>(?:19|20)?\d{2})"
            r"(?:\s*(?:-|\u2013|to|through|and)\s*(?:FY\s*)?'?(?P<last>(?:19|20)?\d{2}))?\b",
            re.IGNORECASE,
        ),
    ),
    (
        "range",
        re.compile(
            r"\b(?:between\s+|from\s+|in\s+)?(?P<first>(?:19|20)\d{2})\s*(?:-|\u2013|and|to|through|until)\s*"
            r"(?P<last>(?:19|20)?\d{2})\b",
            re.IGNORECASE,
        ),
    ),
    ("since", re.compile(rf"\b(?P<which>since|after)\s+(?:(?:{_MONTH})\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("before", re.compile(rf"\b(?P<which>before|until|prior to)\s+(?:(?:{_MONTH})\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b(?P<day>\d{{1,2}})\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)),
    ("month", re.compile(rf"\b(?:{_PART}[\s-]+)?{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("year", re.compile(rf"(?:\b{_LEAD}\s+|\b{_PART}[\s-]+)(?:the\s+year\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("relative", re.compile(r"\b(?P<which>last|this|past)\s+(?P<unit>year|month|week)\b", re.IGNORECASE)),
    (
        "recent",
        re.compile(
            r"\b(?:(?:in\s+)?the\s+)?(?:past|last)\s+(?P<count>\d{1,3}|two|three|four|five|six|ten|twelve)\s+"
            r"(?P<unit>days|weeks|months|years)\b"
            r"|\b(?<!most\s)(?P<recently>recently|lately|in\s+recent\s+(?:days|weeks))\b",
            re.IGNORECASE,
        ),
    ),
    ("today", re.compile(r"\b(?P<which>today|yesterday)\b", re.IGNORECASE)),
]
# How far back "recently" reaches, and the days in a unit of "the past three weeks".
RECENT_DAYS = 30
_UNIT_DAYS = {"days": 1, "weeks": 7, "months": 30, "years": 365}
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "twelve": 12}


# The kind a span is reported as (it sets how long after it releases still report on it).
_KINDS: dict[str, Literal["day", "week", "month", "year", "fiscal-year", "range", "open"]] = {
    "since": "open", "before": "open", "fiscal-year": "fiscal-year", "range": "range", "day": "day",
    "month": "month", "year": "year", "recent": "range", "today": "day",
}  # fmt: skip


# The forms a typed date filter takes (the page's fields, the CLI's --since/--until/--as-of).
DATE_FORMS = "YYYY-MM-DD, YYYY-MM or YYYY"


def typed_span(text: str) -> tuple[dt.date, dt.date]:
    """The days a typed date names: a day, a month ("2021-08") or a year ("2021"); a filter
    "since" takes the first, "until" and "as of" the last.  Raises ValueError saying why
    ``text`` cannot be read."""
    found = re.fullmatch(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?", text.strip())
    if not found:
        raise ValueError(f"{text.strip()!r} is not a date: write {DATE_FORMS}")
    year, month, day = (int(part) if part else None for part in found.groups())
    assert year is not None
    try:
        if month is None:
            return _year_span(year)
        if day is None:
            return _month_span(year, month)
        return D(year, month, day), D(year, month, day)
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"{text.strip()!r} is no day of the calendar") from None


def parse_time(question: str, *, latest: dt.date | None = None, near: bool = False) -> TimeSpan | None:
    """The span of dates a question names, or None.  Times near ``latest`` ("last week",
    "recently", "yesterday", "this month") are read only when ``near``: when a question is
    asked as of a day, or over releases.  Read against the newest release of a whole archive
    they would hide the answer to "Which company recently agreed to pay ...?".

    >>> parse_time("How much was recovered in fiscal year 2012?").label()
    '2011-10-01 to 2012-09-30'
    """
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match is None or (not near and _is_near(kind, match)):
            continue
        # The most specific expression found decides; if it is impossible (February 30,
        # a backwards range) nothing is inferred rather than a vaguer part of it.
        span = _span(kind, match, latest)
        if span is None:
            return None
        phrase = match.group(0).strip()
        if kind == "relative":
            return TimeSpan(span[0], span[1], phrase, match.group("unit").lower())  # type: ignore[arg-type]
        return TimeSpan(span[0], span[1], phrase, _KINDS[kind])
    return None


def _is_near(kind: str, match: re.Match[str]) -> bool:
    """Whether the time names days near the day asked ("last month", not "last year")."""
    return kind in ("recent", "today") or (kind == "relative" and match.group("unit").lower() != "year")


def _full_year(first: int, last: str | None) -> int | None:
    """The closing year of a range: "2012-13" ends in 2013, "2010 to 2012" in 2012."""
    if last is None:
        return first
    return int(last) if len(last) == 4 else first // 100 * 100 + int(last)


def _span(kind: str, match: re.Match[str], latest: dt.date | None) -> tuple[dt.date | None, dt.date | None] | None:
    groups = match.groupdict()
    month = _MONTHS[groups["month"].lower()] if groups.get("month") else None
    year = int(groups["year"]) if groups.get("year") else None
    part = groups["part"].lower() if groups.get("part") else None
    if kind in ("fiscal-year", "range"):
        first = int(groups["first"])
        first = first if first >= 100 else 2000 + first  # FY13
        last = _full_year(first, groups.get("last"))
        if last is None or last < first:
            return None
        if kind == "fiscal-year":  # US federal fiscal years run October to September
            return D(first - 1, 10, 1), D(last, 9, 30)
        return D(first, 1, 1), D(last, 12, 31)
    if year is None:
        return _relative_span(kind, groups, latest) if latest is not None else None
    named = _month_span(year, month) if month else _year_span(year)
    if kind == "since":  # "since 2019" includes 2019; "after 2019" starts in 2020
        return (named[0] if groups["which"].lower() == "since" else named[1] + dt.timedelta(days=1)), None
    if kind == "before":  # "until 2012" includes 2012; "before 2012" ends in 2011
        return None, (named[1] if groups["which"].lower() == "until" else named[0] - dt.timedelta(days=1))
    if kind == "day" and month:
        try:
            day = D(year, month, int(groups["day"]))
        except ValueError:
            return None
        return day, day
    if kind == "month" and month:
        return _month_span(year, month, part)
    return _year_span(year, part)


def _relative_span(kind: str, groups: dict[str, str | None], latest: dt.date) -> tuple[dt.date, dt.date] | None:
    """A span named relative to ``latest`` ("last month", "this week", "the past 3 weeks",
    "recently", "yesterday"): "this" is the whole unit ``latest`` is in, "last" the whole
    unit before, "past" reaches back a unit from ``latest``."""
    which = (groups.get("which") or "").lower()
    try:
        if kind == "today":
            day = latest - dt.timedelta(days=1 if which == "yesterday" else 0)
            return day, day
        if kind == "recent":
            if groups.get("recently"):
                return latest - dt.timedelta(days=RECENT_DAYS), latest
            count = str(groups["count"]).lower()
            days = (int(count) if count.isdigit() else _COUNTS[count]) * _UNIT_DAYS[str(groups["unit"]).lower()]
            return latest - dt.timedelta(days=days), latest
        unit = str(groups["unit"]).lower()
        if which == "past":
            return latest - dt.timedelta(days=_UNIT_DAYS[unit + "s"]), latest
        if unit == "year":
            return _year_span(latest.year - (0 if which == "this" else 1))
        if unit == "month":
            day = latest if which == "this" else latest.replace(day=1) - dt.timedelta(days=1)
            return _month_span(day.year, day.month)
        monday = latest - dt.timedelta(days=latest.weekday() + (0 if which == "this" else 7))
        return monday, monday + dt.timedelta(days=6)
    except (OverflowError, ValueError):
        return None  # before the first representable day
