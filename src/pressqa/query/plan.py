"""A question's search plan: the filters given, the time and issuers read from its words, and
its shape; and the publication window in which releases report on a time the question names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pressqa.errors import ConfigError
from pressqa.query.issuers import IssuerMatcher
from pressqa.query.shape import read_shape, subject_words
from pressqa.query.timeparse import parse_time
from pressqa.types import QueryPlan, SearchFilters, TimeSpan, Use

# Releases report events on the day or after: how long after a span its news still counts.
PUBLICATION_LAG = {
    "day": dt.timedelta(days=7),
    "week": dt.timedelta(days=7),
    "month": dt.timedelta(days=31),
    "year": dt.timedelta(days=62),
    "range": dt.timedelta(days=62),
    "fiscal-year": dt.timedelta(days=150),
    "open": dt.timedelta(0),
}


def make_plan(
    question: str,
    *,
    issuers: Sequence[str],
    latest: dt.date | None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Sequence[str] = (),
    as_of: dt.date | None = None,
    issuer_latest: Mapping[str, dt.date] | None = None,
) -> QueryPlan:
    """How ``question`` is searched in an archive of ``issuers`` whose newest release is of
    ``latest`` (``issuer_latest``: each issuer's newest).  Relative times ("last month") are
    read against ``as_of`` if given (releases after it are then left out), else against
    ``latest``, or the newest release of the issuers a question over releases names.
    Explicit ``since``/``until``/``sources`` win over what is read from the question;
    ``sources`` must be among ``issuers``.

    A question answered by releases over time (a timeline, the latest, a count) enforces the
    time and issuers it names as filters; others only favour them."""
    if since and until and since > until:
        raise ConfigError(f"since ({since}) is after until ({until})")
    if as_of and since and since > as_of:
        raise ConfigError(f"since ({since}) is after the day asked as of ({as_of})")
    unknown = [source for source in sources if source not in issuers]
    if unknown:
        raise ConfigError(
            f"no releases from {', '.join(map(repr, unknown))} in this archive; issuers are: " + "; ".join(issuers)
        )
    named = IssuerMatcher(issuers).match(question)
    newest = as_of or latest
    if as_of is None and issuer_latest:
        # Over releases, "last month" is read against the newest release of the issuers asked about.
        newest = max((issuer_latest[issuer] for issuer in named if issuer in issuer_latest), default=latest)
    time = parse_time(question, latest=newest, near=True)
    shape = read_shape(question, time, issuer_named=bool(named))
    if shape is None and as_of is None:
        time = parse_time(question, latest=latest)  # one passage answers it: no time near the newest release
    inferred: Use = "enforced" if shape else "boost"
    return QueryPlan(
        question=question,
        filters=SearchFilters(
            since=since, until=min(until, as_of) if until and as_of else until or as_of, sources=tuple(sources)
        ),
        time=time,
        time_use=("overridden" if since or until else inferred) if time else None,
        issuers=named,
        issuers_use=("overridden" if sources else inferred) if named else None,
        shape=shape,
        subject=subject_words(question, time, named) if shape else (),
        as_of=as_of,
    )


def scope_filters(plan: QueryPlan) -> SearchFilters:
    """``plan``'s filters narrowed to the time and issuers it enforces: the releases a
    question over releases (a timeline, a count) is answered from."""
    filters = plan.filters
    if plan.time is not None and plan.time_use == "enforced":
        since = max(filter(None, (filters.since, plan.time.start)), default=None)
        until = min(filter(None, (filters.until, plan.time.end)), default=None)
        filters = SearchFilters(since=since, until=until, sources=filters.sources)
    if plan.issuers and plan.issuers_use == "enforced":
        filters = SearchFilters(since=filters.since, until=filters.until, sources=plan.issuers)
    return filters


def publication_filter(span: TimeSpan) -> SearchFilters:
    """Admits the releases published when news of ``span`` comes out."""
    since, until = publication_window(span)
    return SearchFilters(since=since, until=until)


def publication_window(span: TimeSpan) -> tuple[dt.date | None, dt.date | None]:
    """The publication dates of releases likely to report on ``span``."""
    end = later(span.end, PUBLICATION_LAG[span.kind]) if span.end else None
    if span.kind == "fiscal-year" and span.end:
        # A fiscal year is asked about for its totals, announced in the months after it
        # ends; inside it fall the announcements of the year before.
        return later(span.end, dt.timedelta(days=1)), end
    return span.start, end


def later(day: dt.date, delta: dt.timedelta) -> dt.date:
    """``day + delta``, held at the last representable day (a span can end on 9999-12-31)."""
    return day + min(delta, dt.date.max - day)
