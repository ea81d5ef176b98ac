"""One sync of a web source: its listing (feed, sitemap, listing page or home page), then
the release pages that are new or changed, ingested in batches through the normal pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

from protego import Protego

from pressqa.errors import IngestError
from pressqa.ingest.readers import InputReader, ParseJob
from pressqa.settings import Settings
from pressqa.sync.book import Known, SourceBook
from pressqa.sync.fetch import Fetcher, FetchError, Page, private_address
from pressqa.sync.read import Link, Listing, page_job, page_url, read_listing, web_release
from pressqa.types import IngestProblem, IngestReport, Release, SyncReport, SyncSource

log = logging.getLogger(__name__)

MAX_SITEMAPS = 50  # child sitemaps of an index read per sync
ROBOTS_AGENT = "pressqa"  # the token robots.txt rules name
ROBOTS_KEPT = dt.timedelta(hours=24)

# Ingests releases through the archive's pipeline, under its write lock.
IngestReleases = Callable[[Sequence[Release]], IngestReport]
# Whether the archive holds a release id.
Stored = Callable[[str], bool]


@dataclasses.dataclass
class _Fetched:
    """A release page fetched in this sync: ``page`` answered Not Modified, or holds a release."""

    url: str  # as the listing names it (normalised): the key its fetch state is kept under
    link: Link
    page: Page


class WebSync:
    """One sync of one web source into an archive; ``run`` returns what it did.  ``stop``,
    once set, ends it after the batch under way (a server shutting down)."""

    def __init__(self, book: SourceBook, settings: Settings, ingest: IngestReleases, stored: Stored,
                 source: SyncSource, stop: threading.Event | None = None) -> None:  # fmt: skip
        self.book = book
        self.settings = settings
        self.ingest = ingest
        self.stored = stored
        self.source = source
        self.stop = stop or threading.Event()
        self.fetcher = Fetcher(settings, robots=self._robots_check, private_ok=_private_source(source.location))
        self.failed: list[IngestProblem] = []
        self.not_modified = 0
        self._now = dt.datetime.now(dt.UTC)
        self._robots: dict[str, Protego | str | None] = {}
        self._robots_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._lock = threading.Lock()

    def run(self) -> SyncReport:
        started = time.perf_counter()
        totals = _Totals()
        try:
            listing, links = self._links()
            todo = self._to_fetch(links)
            totals.left = max(0, len(todo) - self.settings.sync_max_pages)
            todo = todo[: self.settings.sync_max_pages]
            reader = InputReader(self.settings)
            with ThreadPoolExecutor(self.settings.sync_workers) as pool:
                size = self.settings.sync_batch_pages
                for begin in range(0, len(todo), size):
                    if self.stop.is_set():
                        totals.left += len(todo) - begin
                        break
                    fetched = pool.map(lambda item: self._fetch_page(*item), todo[begin : begin + size])
                    self._ingest([page for page in fetched if page is not None], listing, reader, totals)
        except FetchError as err:  # the source itself failed: nothing to fetch
            self.failed.append(IngestProblem(err.url, err.reason))
        finally:
            self.fetcher.close()
        return SyncReport(
            self.source.name,
            added=tuple(totals.added),
            updated=tuple(totals.updated),
            unchanged=totals.unchanged,
            failed=tuple(self.failed),
            undated=tuple(totals.undated),
            requests=self.fetcher.requests,
            not_modified=self.not_modified,
            left=totals.left,
            seconds=time.perf_counter() - started,
        )

    def _to_fetch(self, links: list[tuple[Link, dt.datetime]]) -> list[tuple[Link, Known | None]]:
        """The pages to ask for, those never ingested first: a page ingested is spared if it
        was fetched after its listing last changed, or the listing dates its last change
        before that fetch.  So a page that failed, or that a capped or killed sync left, is
        asked for by the next sync, and a listing that did not change costs one request."""
        new, again = [], []
        for link, listed in {page_url(link.url): (link, listed) for link, listed in links}.values():
            known = self.book.known(page_url(link.url))
            if known is None or known.doc_id is None or not self.stored(known.doc_id):
                new.append((link, known))
            elif known.fetched < listed and (link.changed is None or link.changed > known.fetched):
                again.append((link, known))
        return new + again

    # ---------------------------------------------------------------- listings

    def _links(self) -> tuple[Listing, list[tuple[Link, dt.datetime]]]:
        """The source's listing, and the pages it lists with when their listing last changed."""
        listing, changed = self._listing(self.source.found or self.source.location)
        if listing.kind == "home":
            listing, changed = self._discovered(listing, changed)
        if listing.kind != "sitemap-index":
            return listing, [(link, changed) for link in listing.links]
        links: list[tuple[Link, dt.datetime]] = []
        for child in listing.links[:MAX_SITEMAPS]:
            try:
                sitemap, sitemap_changed = self._listing(child.url)
            except FetchError as err:
                self.failed.append(IngestProblem(err.url, err.reason))
                continue
            if sitemap.kind != "sitemap":
                self.failed.append(IngestProblem(child.url, f"a {sitemap.kind} where a sitemap was expected"))
                continue
            links += [(link, sitemap_changed) for link in sitemap.links]
        return listing, links

    def _listing(self, url: str) -> tuple[Listing, dt.datetime]:
        """A feed, sitemap or listing page, and when its content last changed."""
        key = page_url(url)
        kept = self._kept(key)
        page = self._get_kept(url, kept)
        changed = self._now
        if kept is not None and page.body == kept.body:  # Not Modified, or sent again as it was
            changed = kept.changed or kept.fetched
        listing = read_listing(page)
        self.book.remember(key, self.source.name, etag=page.etag, last_modified=page.last_modified, at=self._now,
                           body=page.body, changed=changed)  # fmt: skip
        return listing, changed

    def _kept(self, url: str) -> Known | None:
        """What ``url`` answered last, if its body was kept (a 304 needs the body it stands for)."""
        known = self.book.known(url)
        return known if known is not None and known.body is not None else None

    def _get_kept(self, url: str, kept: Known | None, *, obey_robots: bool = True) -> Page:
        """``url`` asked for conditionally on what was kept of it; Not Modified gives the kept body."""
        page = self.fetcher.get(
            url,
            etag=kept.etag if kept else None,
            last_modified=kept.last_modified if kept else None,
            obey_robots=obey_robots,
        )
        if page.modified:
            return page
        assert kept is not None and kept.body is not None  # get() refuses a 304 to an unconditional request
        with self._lock:  # robots.txt is read from the worker threads
            self.not_modified += 1
        return dataclasses.replace(page, body=kept.body)

    def _discovered(self, home: Listing, home_changed: dt.datetime) -> tuple[Listing, dt.datetime]:
        """The feed a home page advertises, else the sitemap robots.txt names or /sitemap.xml,
        else the home page's own release links."""
        source = self.source
        robots = self._robots_of(source.location)
        sitemaps = robots.sitemaps if isinstance(robots, Protego) else ()
        candidates = [*home.found, *sitemaps, urljoin(source.location, "/sitemap.xml")]
        for candidate in dict.fromkeys(candidates):
            try:
                listing, changed = self._listing(candidate)
            except FetchError:
                continue
            if listing.kind in ("feed", "sitemap", "sitemap-index"):
                self.book.found(source.name, candidate)
                log.info("source %s: syncing %s, found on its home page", source.name, candidate)
                return listing, changed
        if home.links:
            return dataclasses.replace(home, kind="listing"), home_changed
        raise FetchError(
            source.location,
            "a home page that names no feed and links to no releases, and no sitemap was found; add the address "
            "of the site's feed, sitemap or press-release listing page instead",
        )

    # ---------------------------------------------------------------- pages

    def _fetch_page(self, link: Link, known: Known | None) -> _Fetched | None:
        """Fetch one release page (in a worker thread); None if it failed or the sync stops."""
        url = page_url(link.url)
        if self.stop.is_set():
            return None
        conditional = known if known and known.doc_id and self.stored(known.doc_id) else None
        try:
            page = self.fetcher.get(
                link.url,
                etag=conditional.etag if conditional else None,
                last_modified=conditional.last_modified if conditional else None,
            )
        except FetchError as err:
            self._failed(url, err.reason)
            return None
        return _Fetched(url, link, page)

    def _failed(self, url: str, reason: str) -> None:
        with self._lock:
            self.failed.append(IngestProblem(url, reason))

    def _ingest(self, fetched: list[_Fetched], listing: Listing, reader: InputReader, totals: _Totals) -> None:
        """Parse a batch of pages in ingest's worker processes, ingest them, then remember
        each one that is now in the archive."""
        jobs: list[tuple[_Fetched, ParseJob]] = []
        for item in fetched:
            if not item.page.modified:
                self.not_modified += 1
                known = self.book.known(item.url)
                self.book.remember(item.url, self.source.name, etag=item.page.etag,
                                   last_modified=item.page.last_modified, at=self._now,
                                   doc_id=known.doc_id if known else None)  # fmt: skip
                continue
            try:
                jobs.append((item, page_job(item.page)))
            except IngestError as err:
                self._failed(item.url, err.reason)
        parsed_pages: list[tuple[_Fetched, Release]] = []
        for (item, _), parsed in zip(jobs, reader.parse(job for _, job in jobs), strict=True):
            if isinstance(parsed, IngestProblem):
                self._failed(item.url, parsed.reason)
                continue
            release = web_release(parsed, item.page, item.link, issuer=self.source.issuer, feed_title=listing.title,
                                  listing=self.source.found or self.source.location)  # fmt: skip
            parsed_pages.append((item, release))
        releases: dict[str, Release] = {}
        for _, release in parsed_pages:
            releases.setdefault(release.doc_id, release)  # one page reached by two addresses is one release
        report = self.ingest(list(releases.values())) if releases else IngestReport()
        failed = {problem.path for problem in report.failed}  # origins: the URLs pages were fetched at
        self.failed += report.failed
        totals.added += report.added
        totals.updated += report.updated
        totals.unchanged += report.unchanged
        totals.undated += [releases[doc_id].url or doc_id for doc_id in report.undated]
        for item, release in parsed_pages:  # every address of a release stored is known from now on
            if releases[release.doc_id].origin not in failed:
                self.book.remember(item.url, self.source.name, etag=item.page.etag,
                                   last_modified=item.page.last_modified, at=self._now,
                                   doc_id=release.doc_id)  # fmt: skip

    # ---------------------------------------------------------------- robots.txt

    def _robots_check(self, url: str) -> tuple[str | None, float]:
        """Why robots.txt refuses ``url`` (None: it may be fetched), and the host's crawl delay."""
        robots = self._robots_of(url)
        if isinstance(robots, str):
            return robots, 0.0
        if robots is None:
            return None, 0.0
        refused = None if robots.can_fetch(url, ROBOTS_AGENT) else "robots.txt disallows it for pressqa's user agent"
        return refused, float(robots.crawl_delay(ROBOTS_AGENT) or 0.0)

    def _robots_of(self, url: str) -> Protego | str | None:
        """The robots.txt rules of ``url``'s host: None if it has none, a reason if the
        whole host is off limits for now.  Fetched once a sync (one host at a time)."""
        parts = urlsplit(url)
        home = f"{parts.scheme}://{parts.netloc}"
        with self._robots_locks[home]:
            if home not in self._robots:
                self._robots[home] = self._fetch_robots(home + "/robots.txt")
            return self._robots[home]

    def _fetch_robots(self, url: str) -> Protego | str | None:
        """robots.txt, kept a day as RFC 9309 allows (then asked for again, conditionally)."""
        kept = self._kept(url)
        if kept is not None and kept.body is not None and self._now - kept.fetched < ROBOTS_KEPT:
            return Protego.parse(kept.body.decode("utf-8", errors="replace"))
        try:
            page = self._get_kept(url, kept, obey_robots=False)
        except FetchError as err:
            if err.status is None:
                return None  # unreachable: the pages' own requests will say why
            if err.status >= 500:  # RFC 9309 2.3.1.4: then nothing of the site may be fetched
                return f"robots.txt is unavailable ({err.reason}), so the site may not be crawled now (RFC 9309)"
            page = Page(url, url, modified=True)  # 4xx: the site has no rules (RFC 9309 2.3.1.3)
        self.book.remember(url, self.source.name, etag=page.etag, last_modified=page.last_modified, at=self._now,
                           body=page.body)  # fmt: skip
        return Protego.parse(page.body.decode("utf-8", errors="replace"))


def _private_source(location: str) -> bool:
    """Whether a source is itself on this machine or a private network: only then may its
    pages and redirects lead there (else a feed could make pressqa read an intranet)."""
    return private_address(urlsplit(location).hostname or "")


@dataclasses.dataclass
class _Totals:
    added: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: int = 0
    undated: list[str] = dataclasses.field(default_factory=list)
    left: int = 0
