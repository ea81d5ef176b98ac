"""Frozen data that crosses pressqa's layers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Release:
    """One press release as parsed from its source, before chunking.

    ``text`` is the body that citations quote: character offsets of chunks and
    quotes point into it.  ``origin`` says where it came from (a path, a
    ``zip!member`` or a ``file.jsonl:LINE``).
    """

    doc_id: str
    title: str
    text: str
    source: str | None = None
    date: dt.date | None = None
    url: str | None = None
    language: str | None = None
    origin: str = ""
    # When a wire service distributed this copy ("Distributed by ... on 11/25/2021 03:59"):
    # among same-day copies, the first distributed is the original.
    distributed_at: dt.datetime | None = None
    # Whether pressqa made ``doc_id`` from where the release was read (a file's path), not
    # read it from the release: such an id follows its file when the file moves.
    id_from_location: bool = False

    @property
    def date_int(self) -> int | None:
        return date_int(self.date) if self.date else None


def date_int(day: dt.date) -> int:
    """A date as ``YYYYMMDD``, the form Chroma filters on with ``$gte``/``$lte``."""
    return day.year * 10000 + day.month * 100 + day.day


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a release: ``release.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int


def make_chunk_id(doc_id: str, version: str, index: int) -> str:
    """A chunk's id names its release's version, so a new version is written beside the old."""
    return f"{doc_id}#{version}#{index}"


UNKNOWN_ISSUER = "(unknown)"  # how statistics count releases whose issuer was not found


def describe(release: Release) -> str:
    """``title | issuer | date``: the header put before each chunk's text when it is
    embedded and keyword-indexed, so a passage is found by who said it and when."""
    date = release.date.isoformat() if release.date else None
    return " | ".join(part for part in (release.title, release.source, date) if part)


@dataclass(frozen=True, slots=True)
class IngestProblem:
    """An input that could not be ingested, and why.

    ``count`` is more than 1 for a line that stands for several inputs of one file with
    the same kind of problem, which were not listed one by one.
    """

    path: str
    reason: str
    count: int = 1

    def shown(self) -> str:
        """``path: reason`` with control characters escaped, so that a file named with a
        newline cannot forge a line of a report."""
        more = f" ({self.count} inputs)" if self.count > 1 else ""
        return f"{printable(self.path)}: {printable(self.reason)}{more}"


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_POSITION = re.compile(r"(?::\d+|\[\d+\])$")  # a line of a JSONL file, a record of a JSON array


def origin_file(origin: str, *, member: bool = True) -> str:
    """The file (with ``member``: or zip member) an origin or problem path names, without its
    line or record number: ``exports/doj.jsonl:12`` -> ``exports/doj.jsonl``, ``pack.zip!a.txt``
    -> ``pack.zip`` (without ``member``)."""
    found = _POSITION.sub("", origin)
    return found if member else found.split("!", 1)[0]


def printable(text: str) -> str:
    """``text`` with control characters and line breaks shown as escapes (``\\n``, ``\\x00``)."""
    return _UNPRINTABLE.sub(lambda found: repr(found.group(0))[1:-1], text)


DuplicateKind = Literal["exact", "near"]


@dataclass(frozen=True, slots=True)
class DuplicateLink:
    """A release found to be a copy of an earlier one (its canonical release)."""

    doc_id: str
    canonical_id: str
    kind: DuplicateKind
    similarity: float


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Passed to the progress callback after each written batch."""

    releases_seen: int
    releases_total: int | None
    chunks_written: int


REPORT_PER_FILE = 20
REPORT_PER_RUN = 200


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest run did.  ``failed`` lists every input that was skipped, with the reason."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: int = 0
    # Releases found at a new place (their folder moved or was mounted elsewhere): they
    # keep their ids, and are added or updated only if their text changed too.
    moved: tuple[str, ...] = ()
    duplicates: tuple[DuplicateLink, ...] = ()
    # The problems listed one by one: at most ``REPORT_PER_FILE`` per file and
    # ``REPORT_PER_RUN`` in all; ``failed_count`` and ``failure_reasons`` count them all.
    failed: tuple[IngestProblem, ...] = ()
    failed_count: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)  # kind of problem -> inputs
    undated: tuple[str, ...] = ()
    # Releases ingested with part of their metadata set aside, and why (a date out of range
    # is stored as undated).
    notes: tuple[IngestProblem, ...] = ()
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    @property
    def unlisted(self) -> int:
        """Failed inputs counted in ``failed_count`` but not listed in ``failed``."""
        return self.failed_count - sum(problem.count for problem in self.failed)


@dataclass(frozen=True, slots=True)
class ArchiveStats:
    """Size and coverage of an archive, as ``pressqa stats`` shows it."""

    releases: int
    chunks: int
    issuers: dict[str, int] = field(default_factory=dict)
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    undated: int = 0
    duplicates: int = 0
    bytes_on_disk: int = 0
    embedding_model: str = ""
    # Dated releases per month ("2021-08": 4), oldest first.
    per_month: dict[str, int] = field(default_factory=dict)
    # The date of each issuer's newest release.
    issuer_latest: dict[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArchiveCheck:
    """What ``pressqa check`` found wrong between the registry, Chroma and the keyword
    index, what ``--repair`` put right, and what is left (``ok`` when nothing is)."""

    problems: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.remaining


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage of a release, with what a citation needs.

    ``copies`` lists releases linked to this one as duplicates; they were collapsed
    into this hit.
    """

    doc_id: str
    chunk_id: str
    title: str
    text: str
    start: int
    end: int
    score: float
    source: str | None = None
    date: dt.date | None = None
    url: str | None = None
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """Dates a question asks about, and the words that said so (for the user to see and undo)."""

    start: dt.date | None
    end: dt.date | None
    phrase: str
    kind: Literal["day", "week", "month", "year", "fiscal-year", "range", "open"]

    def label(self) -> str:
        if self.start and self.end:
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        if self.start:
            return f"since {self.start.isoformat()}"
        return f"until {self.end.isoformat()}" if self.end else "any time"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Limits on which releases may be retrieved; the dense and the keyword retriever
    both honour them.  ``sources`` are issuer names as stored (any of them matches)."""

    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] = ()

    def admits(self, date: dt.date | None, source: str | None) -> bool:
        if self.since or self.until:
            if date is None:
                return False  # an undated release cannot be shown to fall in the range
            if (self.since and date < self.since) or (self.until and date > self.until):
                return False
        return not self.sources or source in self.sources


Use = Literal["boost", "enforced", "overridden"]
# timeline: what releases said over a period; latest/earliest: the newest or first release
# on a subject; count: how many releases there are on it.
Shape = Literal["timeline", "latest", "earliest", "count"]


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """How a question is searched: the filters enforced, and what was read from its words.

    ``time`` is the span the question names; ``time_use`` says whether it favours
    releases published in or shortly after it ("boost"), admits only releases published in
    it ("enforced", for questions answered by releases over time), or is set aside because
    explicit ``since``/``until`` were given ("overridden").  ``issuers`` are the archive's
    issuers the question names, likewise favoured, enforced or overridden by ``sources``.

    ``shape`` is set for a question answered by a set of releases, not a sentence (see
    ``query.shape``); ``subject`` are then the words a release must hold to be in the set.
    ``as_of`` is the day the question is asked as of: later releases are filtered out and
    relative times ("last month") are read against it.
    """

    question: str
    filters: SearchFilters = SearchFilters()
    time: TimeSpan | None = None
    time_use: Use | None = None
    issuers: tuple[str, ...] = ()
    issuers_use: Use | None = None
    shape: Shape | None = None
    subject: tuple[str, ...] = ()
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """A quoted passage of a release that supports part of an answer.

    ``number`` is the marker ``[number]`` in ``Answer.text``; ``quote`` is
    ``release text[start:end]``, character offsets into the release as ingested.
    """

    number: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    source: str | None = None
    date: dt.date | None = None
    url: str | None = None
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One release in a timeline answer: what it says about the subject (``quote``, cited as
    ``number`` in ``Answer.text``), with its copies ("also issued as")."""

    date: dt.date | None
    doc_id: str
    title: str
    quote: str
    number: int
    source: str | None = None
    url: str | None = None
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    """The releases that answer a question asked of releases over time, oldest first.

    ``matched`` releases (wire copies counted once) hold the subject in the period;
    ``items`` are those shown; ``per_month`` counts the matched ones ("2011-03": 11);
    ``summary`` is the line before the items in ``Answer.text`` (how many, in which scope).
    An item whose sentence fails its citation check is left out, so there can be fewer
    items than releases chosen.
    """

    shape: Shape
    matched: int
    summary: str
    items: tuple[TimelineItem, ...] = ()
    per_month: dict[str, int] = field(default_factory=dict)
    # Whether it shows all it was asked for: the newest or first release, or every matched
    # one (if not, a higher limit shows the rest).
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer whose every sentence cites the releases it comes from, or an abstention.

    ``plan`` holds the filters applied and what was read from the question (see
    ``QueryPlan``); ``hits`` are the passages retrieved (when abstaining, the closest
    releases to look at); ``removed`` says what citation checking took out, and why;
    ``timings`` are seconds per step.
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    plan: QueryPlan | None = None
    generator: str = ""
    removed: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    # For a follow-up in a chat: the message as the user wrote it (``question`` is it
    # rewritten to stand alone).
    asked: str | None = None
    # For a question answered by releases over time: the releases, in date order.
    timeline: Timeline | None = None

    @property
    def filters(self) -> QueryPlan | None:
        """What was applied and inferred: the search plan."""
        return self.plan


SourceKind = Literal["web", "folder"]


@dataclass(frozen=True, slots=True)
class SyncSource:
    """A place an archive keeps itself current from: a web address (an RSS/Atom feed, a
    sitemap, a press-room listing page or a site's home page) or a folder of releases.

    ``every`` is seconds between scheduled syncs; ``issuer`` names who issues its releases
    (default: read from each page or feed).  ``found`` is the feed or sitemap found on a
    home page, synced in its place.  ``last_sync`` and ``last_report`` are of its last sync.
    """

    name: str
    location: str
    kind: SourceKind
    every: int
    issuer: str | None = None
    found: str | None = None
    last_sync: dt.datetime | None = None
    last_report: SyncReport | None = None

    def due_in(self, now: dt.datetime) -> float:
        """Seconds until it is due (0 or less: due now)."""
        return 0.0 if self.last_sync is None else self.every - (now - self.last_sync).total_seconds()

    def due(self, now: dt.datetime) -> bool:
        return self.due_in(now) <= 0


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync of a source did.

    ``requests`` counts every HTTP request made (robots.txt included), ``not_modified`` the
    pages and listings a conditional request found unchanged; ``failed`` names each URL (or
    file) that could not be fetched or read, and why; ``undated`` lists pages stored without
    a publication date; ``left`` counts pages left for the next sync by the per-run cap.
    """

    source: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: int = 0
    failed: tuple[IngestProblem, ...] = ()
    undated: tuple[str, ...] = ()
    requests: int = 0
    not_modified: int = 0
    left: int = 0
    seconds: float = 0.0
