"""One sync of a web source: its listing (feed, sitemap, listing page or home page), then
the release pages that are new or changed, ingested in batches through the normal pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

from protego import Protego

from pressqa.errors import IngestError
from pressqa.settings import Settings
from pressqa.sync.book import Known, SourceBook
from pressqa.sync.fetch import Fetcher, FetchError, Page
from pressqa.sync.read import Link, Listing, page_url, read_listing, read_release
from pressqa.types import IngestProblem, IngestReport, Release, SyncReport, SyncSource

log = logging.getLogger(__name__)

MAX_SITEMAPS = 50  # child sitemaps of an index read per sync
ROBOTS_AGENT = "pressqa"  # the token robots.txt rules name
ROBOTS_KEPT = dt.timedelta(hours=24)

# Ingests releases through the archive's pipeline, under its write lock.
IngestReleases = Callable[[Sequence[Release]], IngestReport]
# Whether the archive holds a release id.
Stored = Callable[[str], bool]


class WebSync:
    """One sync of one web source into an archive; ``run`` returns what it did."""

    def __init__(
        self, book: SourceBook, settings: Settings, ingest: IngestReleases, stored: Stored, source: SyncSource
    ) -> None:
        self.book = book
        self.settings = settings
        self.ingest = ingest
        self.stored = stored
        self.source = source
        self.fetcher = Fetcher(settings, robots=self._allowed)
        self.failed: list[IngestProblem] = []
        self.not_modified = 0
        self._now = dt.datetime.now(dt.UTC)
        self._robots: dict[str, Protego | None] = {}
        self._robots_lock = threading.Lock()

    def run(self) -> SyncReport:
        started = time.perf_counter()
        totals = _Totals()
        left = 0
        try:
            listing, unchanged, links = self._links()
            todo = self._to_fetch(links, unchanged)
            left = max(0, len(todo) - self.settings.sync_max_pages)
            todo = todo[: self.settings.sync_max_pages]
            with ThreadPoolExecutor(self.settings.sync_workers) as pool:
                size = self.settings.sync_batch_pages
                for begin in range(0, len(todo), size):
                    batch = todo[begin : begin + size]
                    outcomes = list(pool.map(lambda item: self._page(item[0], item[1], listing), batch))
                    self._ingest([outcome for outcome in outcomes if outcome is not None], totals)
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
            left=left,
            seconds=time.perf_counter() - started,
        )

    def _to_fetch(self, links: list[Link], unchanged: bool) -> list[tuple[Link, Known | None]]:
        """The pages to ask for: all but those ingested that the listing says are unchanged
        (it answered Not Modified, or dates their last change before their last fetch)."""
        todo = []
        for link in {page_url(link.url): link for link in links}.values():
            known = self.book.known(page_url(link.url))
            ingested = known is not None and known.doc_id is not None and self.stored(known.doc_id)
            spared = unchanged or (link.changed is not None and known is not None and link.changed <= known.fetched)
            if not (ingested and spared):
                todo.append((link, known))
        return todo

    # ---------------------------------------------------------------- listings

    def _links(self) -> tuple[Listing, bool, list[Link]]:
        """The source's listing, whether it answered Not Modified, and the pages it lists."""
        listing, unchanged = self._listing(self.source.found or self.source.location)
        if listing.kind == "home":
            listing, unchanged = self._discovered(listing)
        if listing.kind != "sitemap-index":
            return listing, unchanged, list(listing.links)
        links: list[Link] = []
        for child in listing.links[:MAX_SITEMAPS]:
            try:
                sitemap, same = self._listing(child.url)
            except FetchError as err:
                self.failed.append(IngestProblem(err.url, err.reason))
                continue
            if sitemap.kind != "sitemap":
                self.failed.append(IngestProblem(child.url, f"a {sitemap.kind} where a sitemap was expected"))
                continue
            unchanged = unchanged and same
            links += sitemap.links
        return listing, unchanged, links

    def _listing(self, url: str) -> tuple[Listing, bool]:
        known = self.book.known(page_url(url))
        usable = known if known and known.body is not None else None  # a 304 needs the body it stands for
        page = self.fetcher.get(
            url, etag=usable.etag if usable else None, last_modified=usable.last_modified if usable else None
        )
        if not page.modified:
            assert usable is not None and usable.body is not None
            self.not_modified += 1
            page = dataclasses.replace(page, body=usable.body)
        listing = read_listing(page)
        self.book.remember(page_url(url), self.source.name, etag=page.etag, last_modified=page.last_modified,
                           at=self._now, body=page.body)  # fmt: skip
        return listing, not page.modified

    def _discovered(self, home: Listing) -> tuple[Listing, bool]:
        """The feed a home page advertises, else the sitemap robots.txt names or /sitemap.xml."""
        source = self.source
        robots = self._robots_of(source.location)
        candidates = [*home.found, *(robots.sitemaps if robots else ()), urljoin(source.location, "/sitemap.xml")]
        for candidate in dict.fromkeys(candidates):
            try:
                listing, unchanged = self._listing(candidate)
            except FetchError:
                continue
            if listing.kind in ("feed", "sitemap", "sitemap-index"):
                self.book.found(source.name, candidate)
                log.info("source %s: syncing %s, found on its home page", source.name, candidate)
                return listing, unchanged
        raise FetchError(
            source.location,
            "a home page that names no feed, and no sitemap was found; add the address of the site's feed, "
            "sitemap or press-release listing page instead",
        )

    # ---------------------------------------------------------------- pages

    def _page(self, link: Link, known: Known | None, listing: Listing) -> tuple[str, Page, Release | None] | None:
        """Fetch and read one release page (in a worker thread); None if it failed."""
        url = page_url(link.url)
        conditional = known if known and known.doc_id and self.stored(known.doc_id) else None
        try:
            page = self.fetcher.get(
                link.url,
                etag=conditional.etag if conditional else None,
                last_modified=conditional.last_modified if conditional else None,
            )
            if not page.modified:
                return url, page, None
            return url, page, read_release(page, link, issuer=self.source.issuer, feed_title=listing.title)
        except (FetchError, IngestError) as err:
            self.failed.append(IngestProblem(url, err.reason))
            return None

    def _ingest(self, fetched: list[tuple[str, Page, Release | None]], totals: _Totals) -> None:
        """Ingest a batch of pages, then remember each one that is now in the archive."""
        releases: dict[str, Release] = {}
        for url, page, release in fetched:
            if release is None:
                self.not_modified += 1
                known = self.book.known(url)
                self.book.remember(url, self.source.name, etag=page.etag, last_modified=page.last_modified,
                                   at=self._now, doc_id=known.doc_id if known else None)  # fmt: skip
            else:
                releases.setdefault(release.doc_id, release)  # one page reached by two addresses is one release
        report = self.ingest(list(releases.values())) if releases else IngestReport()
        failed = {problem.path for problem in report.failed}
        self.failed += report.failed
        totals.added += report.added
        totals.updated += report.updated
        totals.unchanged += report.unchanged
        totals.undated += [releases[doc_id].url or doc_id for doc_id in report.undated]
        for url, page, release in fetched:
            if release is not None and release.origin not in failed:
                self.book.remember(url, self.source.name, etag=page.etag, last_modified=page.last_modified,
                                   at=self._now, doc_id=release.doc_id)  # fmt: skip

    # ---------------------------------------------------------------- robots.txt

    def _allowed(self, url: str) -> tuple[bool, float]:
        robots = self._robots_of(url)
        if robots is None:
            return True, 0.0
        return robots.can_fetch(url, ROBOTS_AGENT), float(robots.crawl_delay(ROBOTS_AGENT) or 0.0)

    def _robots_of(self, url: str) -> Protego | None:
        """The robots.txt rules of ``url``'s host (None: no rules), fetched once a sync."""
        parts = urlsplit(url)
        home = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            if home not in self._robots:
                self._robots[home] = self._fetch_robots(home + "/robots.txt")
            return self._robots[home]

    def _fetch_robots(self, url: str) -> Protego | None:
        """robots.txt, kept a day as RFC 9309 allows (then asked for again, conditionally)."""
        known = self.book.known(url)
        if known and known.body is not None and self._now - known.fetched < ROBOTS_KEPT:
            return Protego.parse(known.body.decode("utf-8", errors="replace"))
        usable = known if known and known.body is not None else None
        try:
            page = self.fetcher.get(url, etag=usable.etag if usable else None,
                                    last_modified=usable.last_modified if usable else None,
                                    obey_robots=False)  # fmt: skip
        except FetchError as err:
            if err.status is None or err.status >= 500:
                return None  # unreachable: the pages' own requests will say why
            page = Page(url, url, modified=True)  # 4xx: the site has no rules, RFC 9309 2.3.1.3
        if not page.modified:
            assert usable is not None and usable.body is not None
            self.not_modified += 1
            page = dataclasses.replace(page, body=usable.body)
        self.book.remember(url, self.source.name, etag=page.etag, last_modified=page.last_modified, at=self._now,
                           body=page.body)  # fmt: skip
        return Protego.parse(page.body.decode("utf-8", errors="replace"))


@dataclasses.dataclass
class _Totals:
    added: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: int = 0
    undated: list[str] = dataclasses.field(default_factory=list)
