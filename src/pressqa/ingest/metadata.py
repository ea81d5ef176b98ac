"""Metadata of a release: publication dates, clean text, stable ids, language, hashes."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from pathlib import Path

import dateparser

from pressqa.types import Release

# "11/25/2021 | Press release | Distributed by Public on 11/25/2021 03:59": the header
# line wire services put under the issuer.
WIRE_DATE_LINE = re.compile(r"^\s*(\d{1,2}/\d{1,2}/\d{4})\s*\|")
WIRE_DISTRIBUTED = re.compile(r"Distributed by .+? on (\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})")


def wire_distribution_time(line: str) -> dt.datetime | None:
    """The distribution time on a wire service's date line, if it gives one."""
    found = WIRE_DISTRIBUTED.search(line)
    if not found:
        return None
    month, day, year, hour, minute = map(int, found.groups())
    try:
        return dt.datetime(year, month, day, hour, minute)
    except ValueError:
        return None


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# Only full dates (day, month and year) count: a dateline without a year would make
# dateparser fill in the current year, and a release must never be given today's date.
_FULL_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}/\d{4})\b",
    re.IGNORECASE,
)
_DATEPARSER_SETTINGS = {
    "DATE_ORDER": "MDY",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DAY_OF_MONTH": "first",
    "PARSERS": ["absolute-time", "custom-formats"],
}


def parse_date(value: object) -> dt.date | None:
    """A publication date from a metadata value, or None when it holds no full date.

    >>> parse_date("11/25/2021"), parse_date("2021-11-25T03:59:00Z"), parse_date("Nov. 25, 2021")
    (datetime.date(2021, 11, 25), datetime.date(2021, 11, 25), datetime.date(2021, 11, 25))
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        try:
            return dt.date(*map(int, iso.groups()))
        except ValueError:
            return None
    us = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if us:
        month, day, year = map(int, us.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    # dateparser alone turns "today" or "2 days ago" into dates relative to now; only a
    # written-out full date may reach it.
    written = _FULL_DATE.search(text)
    if not written:
        return None
    parsed = dateparser.parse(written.group(0), languages=["en"], settings=_DATEPARSER_SETTINGS)
    return parsed.date() if parsed else None


def find_dateline(text: str, within: int = 400) -> dt.date | None:
    """The first full date near the start of a release (its dateline), if any."""
    for match in _FULL_DATE.finditer(text[:within]):
        found = parse_date(match.group(0))
        if found:
            return found
    return None


# Control characters other than tab and newline: invisible in every face, so "X\x00Ministry"
# would show as "XMinistry" beside a real "X Ministry"; NUL also ends strings in C tools.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def normalize_text(text: str) -> str:
    """Unix newlines, no control characters, no trailing spaces, at most one blank line
    between paragraphs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.replace("\f", " ").replace("\v", " "))
    text = re.sub(r"[ \t\f\v]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def clean_field(value: str) -> str:
    """A one-line metadata value (title, issuer, URL): control characters and line breaks
    become single spaces."""
    return " ".join(_CONTROL_OR_BREAK.sub(" ", unicodedata.normalize("NFC", value)).split())


def plausible_date(day: dt.date, today: dt.date) -> bool:
    """Whether ``day`` can be a release's publication date: a date before 1900 or more than
    a year after ``today`` is a misread or a placeholder (9999-12-31), not a publication."""
    return EARLIEST_DATE <= day <= today + dt.timedelta(days=366)


EARLIEST_DATE = dt.date(1900, 1, 1)


def first_line(text: str, limit: int = 200) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def file_doc_id(path: Path, member: str | None = None) -> str:
    """A stable id for a release read from a file: readable stem plus a hash of its location.

    The same file gets the same id however it is named on the command line, so an
    edited file replaces its earlier version instead of adding a second release.
    """
    location = str(path.resolve()) + (f"!{member}" if member else "")
    stem = Path(member).stem if member else path.stem
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()[:60] or "release"
    return f"{slug}-{hashlib.sha1(location.encode()).hexdigest()[:10]}"


def text_hash(text: str) -> str:
    """Hash of the body alone, with whitespace and case folded: equal for exact copies."""
    folded = " ".join(text.lower().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def content_hash(release: Release) -> str:
    """Hash of everything read for a release: a change in any of it means re-ingest.

    The language is left out: it is derived from the text, and only for changed releases.
    """
    parts = [
        release.title,
        release.text,
        release.source or "",
        str(release.date or ""),
        release.url or "",
        str(release.distributed_at or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@functools.cache
def _language_identifier():  # type: ignore[no-untyped-def]
    # py3langid ships its model in the wheel; loading it takes ~0.5 s, so only once.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short to tell."""
    sample = text[:2000]
    if len(sample.split()) < 5:
        return None
    code, probability = _language_identifier().classify(sample)
    return str(code) if probability >= 0.5 else None
