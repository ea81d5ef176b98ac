"""Time expressions in a question ("in March 2011", "fiscal year 2012", "since 2019") as date spans.

No LLM: a handful of patterns cover how analysts name times.  Relative ones ("last
year") are read against the newest release in the archive, not the wall clock, since an
archive is a snapshot of its own past.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from pressqa.types import TimeSpan

D = dt.date

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_PART = r"(?P<part>early|mid|middle of|late|end of|beginning of|start of)"


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
    ("fiscal-year", re.compile(rf"\b(?:fiscal(?:\s+year)?|FY)\s*'?{_YEAR}\b", re.IGNORECASE)),
    (
        "range",
        re.compile(
            r"\b(?:between|from)\s+(?P<first>(?:19|20)\d{2})\s+(?:and|to|through|until|-)\s+(?P<last>(?:19|20)\d{2})\b",
            re.IGNORECASE,
        ),
    ),
    ("since", re.compile(rf"\b(?:since|after|from)\s+(?:(?:{_MONTH})\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("before", re.compile(rf"\b(?:before|until|prior to)\s+(?:(?:{_MONTH})\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b(?P<day>\d{{1,2}})\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)),
    ("month", re.compile(rf"\b(?:{_PART}[\s-]+)?{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)),
    ("year", re.compile(rf"\b(?:{_PART}[\s-]+)?{_YEAR}\b", re.IGNORECASE)),
    ("relative", re.compile(r"\b(?P<which>last|this|previous|past)\s+year\b", re.IGNORECASE)),
]


def parse_time(question: str, *, latest: dt.date | None = None) -> TimeSpan | None:
    """The span of dates a question names, or None.

    >>> parse_time("How much was recovered in fiscal year 2012?").label()
    '2011-10-01 to 2012-09-30'
    """
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match is None:
            continue
        # The most specific expression found decides; if it is impossible (February 30,
        # a backwards range) nothing is inferred rather than a vaguer part of it.
        span = _span(kind, match, latest)
        if span is None:
            return None
        return TimeSpan(span[0], span[1], match.group(0), "open" if kind in ("since", "before") else kind)
    return None


def _span(kind: str, match: re.Match[str], latest: dt.date | None) -> tuple[dt.date | None, dt.date | None] | None:
    groups = match.groupdict()
    month = _MONTHS[groups["month"].lower()] if groups.get("month") else None
    year = int(groups["year"]) if groups.get("year") else None
    part = groups["part"].lower() if groups.get("part") else None
    if kind == "fiscal-year" and year:  # US federal fiscal year: October to September
        return D(year - 1, 10, 1), D(year, 9, 30)
    if kind == "range":
        first, last = int(groups["first"]), int(groups["last"])
        return (D(first, 1, 1), D(last, 12, 31)) if first <= last else None
    if kind == "since" and year:
        return (_month_span(year, month)[0] if month else D(year, 1, 1)), None
    if kind == "before" and year:
        return None, (_month_span(year, month)[0] if month else D(year, 1, 1)) - dt.timedelta(days=1)
    if kind == "day" and year and month:
        try:
            day = D(year, month, int(groups["day"]))
        except ValueError:
            return None
        return day, day
    if kind == "month" and year and month:
        return _month_span(year, month, part)
    if kind == "year" and year:
        return _year_span(year, part)
    if kind == "relative" and latest is not None:
        offset = 0 if groups["which"].lower() == "this" else 1
        return _year_span(latest.year - offset)
    return None
