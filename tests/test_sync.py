"""Keeping an archive current from a press office's web site: feeds, sitemaps, listing pages
and home pages served over real HTTP on 127.0.0.1 (tests/web_server.py), and watched folders."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import itertools
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from pressqa import Archive, ConfigError, Settings, SyncReport
from pressqa.cli import EXIT_SOME_INPUTS_FAILED, main
from pressqa.sync.book import every_label, parse_every
from pressqa.sync.fetch import Fetcher, FetchError, Page, private_address
from pressqa.sync.read import read_listing
from pressqa.sync.schedule import run_due
from web_server import (
    ATOM,
    DELEGATION,
    EXERCISE,
    HOSPITAL,
    PATROL,
    RSS,
    XML,
    Site,
    atom,
    ministry_feed,
    publish,
    release_page,
    rss,
    serving,
    sitemap,
    sitemap_index,
)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as serving_site:
        serving_site.put("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        yield serving_site


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Archive]:
    """An archive that syncs without waiting between requests."""
    with Archive.open(settings=_settings(tmp_path)) as archive:
        yield archive


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(archive=tmp_path / "archive", sync_delay_s=0, sync_backoff_s=0.01, **overrides)  # type: ignore[arg-type]


def _one(reports: list[SyncReport]) -> SyncReport:
    assert len(reports) == 1
    return reports[0]


def test_a_feeds_releases_are_ingested_with_their_metadata(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="mod")
    report = _one(synced.sync())
    assert len(report.added) == 3 and not report.failed
    by_title = {release.title: release for release in synced.releases()}
    exercise = by_title[EXERCISE[0]]
    assert exercise.date is not None and exercise.date.isoformat() == "2021-08-13"  # the feed item's date
    assert exercise.source == "Ministry of Defence"  # the site's name
    assert exercise.url == site.url("/news/2021/exercise.html")
    assert by_title[PATROL[0]].date is not None and by_title[PATROL[0]].date.isoformat() == "2021-11-19"  # page's
    # A page dated nowhere is stored undated and reported, never given today's date.
    assert by_title[DELEGATION[0]].date is None
    assert report.undated == (site.url("/news/2021/delegation.html"),)
    text = synced.release_texts([exercise.doc_id])[exercise.doc_id]
    assert "Qingtongxia" in text and "All rights reserved" not in text and "About" not in text  # menus dropped

    answer = synced.ask("Where did the ZAPAD/INTERACTION-2021 exercise end?")
    assert not answer.abstained
    assert answer.citations[0].url == site.url("/news/2021/exercise.html")
    [source] = synced.sources.list()
    assert source.last_sync is not None and source.last_report == report


def test_a_second_sync_of_unchanged_sources_makes_only_conditional_requests(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="feed")
    pages = [publish(site, f"/press/{n}.html", release) for n, release in enumerate((HOSPITAL, DELEGATION))]
    site.put("/sitemap.xml", sitemap([(url, None) for url in pages]), XML)
    synced.sources.add(site.url("/sitemap.xml"), name="sitemap")
    first = synced.sync()
    assert sum(len(report.added) for report in first) == 5
    site.requests.clear()

    again = synced.sync()
    assert site.requests and all(request.conditional for request in site.requests), site.requests
    assert all(not report.added and not report.updated and not report.failed for report in again)
    assert sum(report.requests for report in again) == len(site.requests)
    assert sum(report.not_modified for report in again) == len(site.requests)


def test_a_changed_page_updates_its_release_and_a_new_item_is_added(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="mod")
    synced.sync()
    exercise = next(release for release in synced.releases() if release.title == EXERCISE[0])
    corrected = (EXERCISE[0], EXERCISE[1], "Correction: about 13,000 troops took part, not ten thousand.")
    publish(site, "/news/2021/exercise.html", corrected)
    items = [
        (HOSPITAL[0], publish(site, "/news/2021/hospital.html", HOSPITAL), "Mon, 26 Jul 2021 07:00:00 GMT"),
        (EXERCISE[0], site.url("/news/2021/exercise.html"), "Fri, 13 Aug 2021 09:00:00 GMT"),
        (DELEGATION[0], site.url("/news/2021/delegation.html"), None),
        (PATROL[0], site.url("/news/2021/patrol.html"), None),
    ]
    site.put("/feed.xml", rss("Ministry of Defence: news", items), RSS)
    site.requests.clear()

    report = _one(synced.sync())
    assert report.updated == (exercise.doc_id,)  # the same release, by its URL
    assert len(report.added) == 1 and synced.release(report.added[0]).title == HOSPITAL[0]
    assert report.not_modified == 2  # the two pages that did not change answered 304
    text = synced.release_texts([exercise.doc_id])[exercise.doc_id]
    assert "13,000" in text
    assert len(synced.releases()) == 4


def test_an_item_in_two_feeds_is_one_release(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="rss")
    entries = [
        (PATROL[0], site.url("/news/2021/patrol.html#top"), "2021-11-19T08:00:00Z"),  # the same page, another address
        (HOSPITAL[0], publish(site, "/news/2021/hospital.html", HOSPITAL), "2021-07-26T07:00:00Z"),
    ]
    site.put("/atom.xml", atom("Ministry of Defence", entries), ATOM)
    synced.sources.add(site.url("/atom.xml"), name="atom")
    reports = synced.sync()
    assert sum(len(report.added) for report in reports) == 4
    assert len(synced.releases()) == 4
    assert not any(report.failed for report in reports)


def test_a_sitemap_index_is_followed_and_lastmod_spares_requests(site: Site, synced: Archive) -> None:
    first = [publish(site, "/a/exercise.html", EXERCISE, date="2021-08-13")]
    second = [publish(site, "/b/hospital.html", HOSPITAL, date="2021-07-26")]
    site.put("/sitemap-a.xml", sitemap([(url, "2021-08-13") for url in first]), XML)
    site.put("/sitemap-b.xml", sitemap([(url, "2021-07-26T10:00:00+00:00") for url in second]), XML)
    site.put("/sitemap.xml", sitemap_index([site.url("/sitemap-a.xml"), site.url("/sitemap-b.xml")]), XML)
    synced.sources.add(site.url("/sitemap.xml"), name="sitemaps")
    report = _one(synced.sync())
    assert len(report.added) == 2 and not report.failed

    publish(site, "/b/patrol.html", PATROL, date="2021-11-19")
    site.put("/sitemap-b.xml", sitemap([(second[0], "2021-07-26T10:00:00+00:00"), (site.url("/b/patrol.html"), None)]),
             XML)  # fmt: skip
    site.requests.clear()
    report = _one(synced.sync())
    assert len(report.added) == 1
    # The page whose lastmod is older than its last fetch is not asked for again.
    assert not site.requested("/b/hospital.html") and not site.requested("/a/exercise.html")


MINISTRY_LISTING = """<!doctype html><html><head><title>Press releases | Ministry of Defence</title></head><body>
<nav><a href="/">Home</a> <a href="/about/">About the ministry</a> <a href="/contact/">Contact</a>
<a href="/login">Log in</a></nav>
<main><h1>Press releases</h1><ul>
<li><a href="/news/2021/exercise.html">Joint strategic exercise ends in Ningxia</a> <span>13.08.2021</span></li>
<li><a href="/news/2021/patrol.html">Second joint air patrol</a> <span>19.11.2021</span></li>
<li><a href="/news/2021/hospital.html">Field hospital opens</a> <span>26.07.2021</span></li>
</ul><p><a href="/news/page/2">Next page</a> <a href="/news/tag/exercises">Exercises</a></p></main>
<footer><a href="/privacy/">Privacy</a></footer></body></html>"""


def test_a_listing_pages_release_links_are_followed_one_level(site: Site, synced: Archive) -> None:
    for path, release in (("exercise", EXERCISE), ("patrol", PATROL), ("hospital", HOSPITAL)):
        publish(site, f"/news/2021/{path}.html", release, date="2021-08-13")
    for path in ("/about/", "/contact/", "/privacy/"):
        publish(site, path, DELEGATION)
    site.put("/news/", MINISTRY_LISTING)
    synced.sources.add(site.url("/news/"), name="press-room", issuer="Ministry of Defence of Examplestan")
    report = _one(synced.sync())
    assert len(report.added) == 3 and not report.failed
    assert {release.title for release in synced.releases()} == {EXERCISE[0], PATROL[0], HOSPITAL[0]}
    assert {release.source for release in synced.releases()} == {"Ministry of Defence of Examplestan"}
    assert not site.requested("/about/") and not site.requested("/news/page/2")


def test_a_home_page_leads_to_its_feed(site: Site, synced: Archive) -> None:
    feed = ministry_feed(site)
    site.put("/", '<!doctype html><html><head><title>Ministry of Defence</title>'
                  f'<link rel="alternate" type="application/rss+xml" href="{feed}"></head>'
                  "<body><h1>Welcome</h1></body></html>")  # fmt: skip
    source = synced.sources.add(site.url("/"), name="home")
    report = _one(synced.sync())
    assert len(report.added) == 3
    assert synced.sources.named(source.name).found == feed


def test_a_home_page_without_a_feed_leads_to_the_sitemap_robots_names(site: Site, synced: Archive) -> None:
    page = publish(site, "/releases/hospital.html", HOSPITAL, date="2021-07-26")
    site.put("/maps/releases.xml", sitemap([(page, None)]), XML)
    site.put("/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {site.url('/maps/releases.xml')}\n", "text/plain")
    site.put("/", "<!doctype html><html><head><title>Ministry</title></head><body><p>Welcome</p></body></html>")
    synced.sources.add(site.url("/"), name="home")
    report = _one(synced.sync())
    assert len(report.added) == 1
    assert synced.sources.named("home").found == site.url("/maps/releases.xml")


def _pdf(*lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_each_bad_page_is_reported_by_url_and_the_rest_are_ingested(site: Site, tmp_path: Path) -> None:
    good = publish(site, "/news/exercise.html", EXERCISE, date="2021-08-13")
    busy = publish(site, "/news/patrol.html", PATROL, date="2021-11-19", fail_first=1)  # 503 once, then fine
    site.put("/news/statement.pdf", _pdf("Statement by the press office, 26 July 2021.", *HOSPITAL), "application/pdf")
    site.put("/news/loop-a.html", b"", status=302, location="/news/loop-b.html")
    site.put("/news/loop-b.html", b"", status=302, location="/news/loop-a.html")
    site.put("/news/huge.html", release_page("Huge", "word " * 40_000))
    site.put("/news/slow.html", release_page("Slow", *DELEGATION, "padding " * 3_000), trickle=0.3)
    site.put("/news/empty.html", "<!doctype html><html><head><title>Nothing</title></head><body></body></html>")
    publish(site, "/private/minutes.html", DELEGATION)
    bad = {
        "/news/missing.html": "HTTP 404 Not Found",
        "/news/loop-a.html": "redirect loop",
        "/news/huge.html": "page cap",
        "/news/slow.html": "still sending after",
        "/news/empty.html": "no main text",
        "/private/minutes.html": "robots.txt disallows",
    }
    items = [(path, site.url(path), None) for path in bad] + [("Statement", site.url("/news/statement.pdf"), None)]
    site.put("/feed.xml", rss("News", [("Exercise", good, None), ("Patrol", busy, None), *items]), RSS)
    settings = _settings(tmp_path, sync_timeout_s=1.5, sync_max_page_mb=0.1, sync_retries=1)
    with Archive.open(settings=settings) as archive:
        archive.sources.add(site.url("/feed.xml"), name="mod")
        report = _one(archive.sync())
        titles = {release.title for release in archive.releases()}
    assert titles == {EXERCISE[0], PATROL[0], "Statement"}  # the PDF's feed title, the 503 retried
    reasons = {problem.path.removeprefix(site.base): problem.reason for problem in report.failed}
    assert set(reasons) == set(bad), reasons
    for path, words in bad.items():
        assert words in reasons[path], (path, reasons[path])


def test_redirects_are_followed_and_a_canonical_url_names_the_release(site: Site, synced: Archive) -> None:
    canonical = site.url("/news/2021/exercise.html")
    site.put("/news/2021/exercise.html", release_page(*EXERCISE, date="2021-08-13", canonical=canonical))
    site.put("/news/print.html?id=7", release_page(*EXERCISE, date="2021-08-13", canonical=canonical))
    site.put("/old/exercise", b"", status=301, location="/news/2021/exercise.html")
    site.put("/busy.html", release_page(*HOSPITAL), too_busy=1)
    links = [site.url("/old/exercise"), site.url("/news/print.html?id=7"), site.url("/busy.html")]
    site.put("/sitemap.xml", sitemap([(url, None) for url in links]), XML)
    synced.sources.add(site.url("/sitemap.xml"), name="mod")
    report = _one(synced.sync())
    assert not report.failed, report.failed
    assert len(report.added) == 2  # the moved page and its printable copy are one release
    assert {release.url for release in synced.releases()} == {canonical, site.url("/busy.html")}
    assert len(site.requested("/busy.html")) == 2  # asked again after its 429
    site.requests.clear()
    _one(synced.sync())  # each address of the one release is known: only the sitemap is asked for
    assert [(request.path, request.conditional) for request in site.requests] == [("/sitemap.xml", True)]


def test_a_site_that_changes_its_markup_keeps_its_releases(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="mod")
    _one(synced.sync())
    title, *paragraphs = PATROL
    redesigned = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="og:site_name" content="Ministry of Defence">'
        '<meta property="article:published_time" content="2021-11-19"></head><body>'
        '<div class="header"><ul class="menu"><li><a href="/">Start</a></li><li><a href="/press">Press</a></li></ul>'
        f'</div><div class="content-wrapper"><div class="press-release"><h2 class="headline">{title}</h2>'
        + "".join(f'<div class="para">{paragraph}</div>' for paragraph in paragraphs)
        + '</div></div><div class="site-footer">Ministry of Defence. Contact the press office.</div></body></html>'
    )
    site.put("/news/2021/patrol.html", redesigned)
    site.put("/feed.xml", site.docs["/feed.xml"].body.replace(b"</channel>", b" </channel>"), RSS)
    report = _one(synced.sync())
    assert not report.failed and not report.added
    assert not report.updated and report.unchanged == 1  # the same words in new markup: nothing to embed again
    assert len(synced.releases()) == 3


def test_the_pages_a_sync_leaves_are_fetched_by_the_next(site: Site, tmp_path: Path) -> None:
    releases = (EXERCISE, PATROL, HOSPITAL)
    pages = [publish(site, f"/r/{n}.html", release) for n, release in enumerate(releases)]
    site.put("/sitemap.xml", sitemap([(url, None) for url in pages]), XML)
    with Archive.open(settings=_settings(tmp_path, sync_max_pages=2)) as archive:
        archive.sources.add(site.url("/sitemap.xml"), name="mod")
        first = _one(archive.sync())
        assert len(first.added) == 2 and first.left == 1
        site.requests.clear()
        second = _one(archive.sync())
        assert len(second.added) == 1 and second.left == 0
        assert [request.path for request in site.requests] == ["/sitemap.xml", "/r/2.html"]
        assert len(archive.releases()) == 3


def test_a_changed_page_that_failed_is_asked_for_again_when_its_feed_is_unchanged(site: Site, synced: Archive) -> None:
    synced.sources.add(ministry_feed(site), name="mod")
    _one(synced.sync())
    corrected = (EXERCISE[0], EXERCISE[1], "Correction: about 13,000 troops took part, not ten thousand.")
    publish(site, "/news/2021/exercise.html", corrected, fail_first=4)  # its first try and its 3 retries
    site.put("/feed.xml", site.docs["/feed.xml"].body.replace(b"</channel>", b" </channel>"), RSS)
    with_failure = _one(synced.sync())
    assert [problem.reason for problem in with_failure.failed] == ["HTTP 503 Service Unavailable"]
    again = _one(synced.sync())  # the feed unchanged since: its pages are still asked for
    assert len(again.updated) == 1 and not again.failed
    assert "13,000" in synced.release_texts(list(again.updated))[again.updated[0]]
    third = _one(synced.sync())  # now every page was handled: the feed's 304 spares them
    assert third.requests == third.not_modified == 1


def test_a_page_without_a_length_is_cut_off_at_the_cap(site: Site, tmp_path: Path) -> None:
    site.put("/big.html", release_page("Big", "word " * 40_000), send_length=False)
    publish(site, "/fine.html", HOSPITAL)
    site.put("/sitemap.xml", sitemap([(site.url("/big.html"), None), (site.url("/fine.html"), None)]), XML)
    with Archive.open(settings=_settings(tmp_path, sync_max_page_mb=0.1)) as archive:
        archive.sources.add(site.url("/sitemap.xml"), name="mod")
        report = _one(archive.sync())
    assert len(report.added) == 1
    [problem] = report.failed
    assert problem.path.endswith("/big.html") and "over the 0.1 MiB page cap" in problem.reason


def test_robots_txt_that_fails_closes_the_site_for_now(site: Site, synced: Archive) -> None:
    site.put("/robots.txt", "oops", "text/plain", status=503)
    synced.sources.add(ministry_feed(site), name="mod")
    report = _one(synced.sync())
    assert not report.added
    [problem] = report.failed  # the feed itself may not be fetched
    assert problem.path.endswith("/feed.xml") and "robots.txt is unavailable" in problem.reason


def test_a_public_source_may_not_lead_to_this_machine(site: Site) -> None:
    publish(site, "/inside.html", HOSPITAL)
    fetcher = Fetcher(Settings(sync_retries=0), private_ok=False)
    with pytest.raises(FetchError, match="private network"):
        fetcher.get(site.url("/inside.html"))
    assert fetcher.requests == 0
    assert private_address("127.0.0.1") and private_address("169.254.169.254") and private_address("10.1.2.3")
    assert private_address("localhost") and not private_address("8.8.8.8")


def test_a_feed_items_date_is_its_own_day() -> None:
    xml = rss("News", [("Late", "https://www.mod.example/a.html", "Fri, 13 Aug 2021 01:00:00 +0300")])
    listing = read_listing(Page("https://www.mod.example/rss", "https://www.mod.example/rss", True, xml.encode()))
    assert listing.links[0].date == dt.date(2021, 8, 13)  # 12 Aug 22:00 in UTC, but the 13th where it was issued
    updated_only = atom("News", [("Undated", "https://www.mod.example/b.html", "2021-08-13T00:00:00Z")])
    updated_only = updated_only.replace("<published>2021-08-13T00:00:00Z</published>", "")
    listing = read_listing(Page("https://www.mod.example/atom", "https://www.mod.example/atom", True,
                                updated_only.encode()))  # fmt: skip
    assert listing.links[0].date is None  # <updated> is when it changed, not when it was issued


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("path", "body", "content_type", "words"),
    [
        ("/broken.xml", "<?xml version='1.0'?><rss><channel><item><title>Cut off", RSS, "malformed XML"),
        ("/rss.xml", "<!doctype html><html><body><p>Our feed has moved</p></body></html>", "text/html",
         "an HTML page where a feed was expected"),
        ("/statement.pdf", b"%PDF-1.4 not really", "application/pdf", "a PDF document, not a feed"),
        ("/data.xml", "<?xml version='1.0'?><catalog><book/></catalog>", XML, "not an RSS/Atom feed or a sitemap"),
        ("/unreachable", "", "", "cannot connect"),
    ],
)  # fmt: skip
def test_a_bad_source_is_reported_and_nothing_is_lost(
    site: Site, synced: Archive, path: str, body: str | bytes, content_type: str, words: str
) -> None:
    synced.sources.add(ministry_feed(site), name="good")
    _one(synced.sync())
    if path == "/unreachable":
        url = f"http://127.0.0.1:{_closed_port()}/feed.xml"
    else:
        site.put(path, body, content_type)
        url = site.url(path)
    synced.sources.add(url, name="bad")
    report = _one(synced.sync("bad"))
    assert not report.added
    [problem] = report.failed
    assert words in problem.reason and problem.path.endswith(url.rsplit("/", 1)[1])
    assert len(synced.releases()) == 3


def test_robots_crawl_delay_and_the_user_agent(site: Site, tmp_path: Path) -> None:
    site.put("/robots.txt", "User-agent: pressqa\nCrawl-delay: 0.5\nDisallow:\n", "text/plain")
    pages = [publish(site, f"/n/{n}.html", release) for n, release in enumerate((EXERCISE, PATROL, HOSPITAL))]
    site.put("/sitemap.xml", sitemap([(url, None) for url in pages]), XML)
    with Archive.open(settings=_settings(tmp_path)) as archive:
        archive.sources.add(site.url("/sitemap.xml"), name="mod")
        report = _one(archive.sync())
    assert len(report.added) == 3
    starts = sorted(request.at for request in site.requests if request.path.startswith("/n/"))
    assert all(later - earlier >= 0.4 for earlier, later in itertools.pairwise(starts)), starts
    assert all(request.headers["user-agent"].startswith("pressqa/") for request in site.requests)


def test_a_killed_sync_resumes_where_it_stopped(site: Site, tmp_path: Path) -> None:
    releases = (EXERCISE, PATROL, HOSPITAL, DELEGATION)
    pages = [publish(site, f"/r/{n}.html", release, date="2021-08-13") for n, release in enumerate(releases)]
    site.docs["/r/3.html"].delay = 120  # the last page hangs: the sync is killed waiting for it
    site.put("/sitemap.xml", sitemap([(url, None) for url in pages]), XML)
    settings = _settings(tmp_path, sync_batch_pages=1, sync_workers=1)
    with Archive.open(settings=settings) as archive:
        archive.sources.add(site.url("/sitemap.xml"), name="mod")
    env = {**os.environ, "PRESSQA_SYNC_BATCH_PAGES": "1", "PRESSQA_SYNC_WORKERS": "1", "PRESSQA_SYNC_DELAY_S": "0"}
    command = [sys.executable, "-m", "pressqa.cli", "sync", "--archive", str(settings.archive)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not site.requested("/r/3.html") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert site.requested("/r/3.html"), "the sync never reached the last page"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    site.docs["/r/3.html"].delay = 0
    site.requests.clear()
    with Archive.open(settings=settings) as archive:
        assert archive.check().ok
        assert len(archive.releases()) == 3  # what was ingested before the kill is kept
        report = _one(archive.sync())
        assert len(report.added) == 1 and archive.release(report.added[0]).title == DELEGATION[0]
        assert len(archive.releases()) == 4
    fetched_again = [request.path for request in site.requests if request.path.startswith("/r/")]
    assert fetched_again == ["/r/3.html"]


def test_questions_are_answered_while_a_sync_runs(site: Site, tmp_path: Path) -> None:
    pages = [publish(site, f"/r/{n}.html", release, delay=1.5) for n, release in enumerate((PATROL, HOSPITAL))]
    site.put("/sitemap.xml", sitemap([(url, None) for url in pages]), XML)
    with Archive.open(settings=_settings(tmp_path, sync_workers=1)) as archive:
        publish(site, "/first.html", EXERCISE)
        site.put("/first.xml", sitemap([(site.url("/first.html"), None)]), XML)
        archive.sources.add(site.url("/first.xml"), name="first")
        archive.sync()
        archive.sources.add(site.url("/sitemap.xml"), name="slow", every=1)
        stop = threading.Event()
        syncer = archive.reopened()
        reports: list[SyncReport] = []
        schedule = threading.Thread(target=run_due, args=(syncer, stop, reports.append))
        schedule.start()
        answered_mid_sync = 0
        try:
            deadline = time.monotonic() + 120
            while not site.requested("/r/0.html") and time.monotonic() < deadline:
                time.sleep(0.05)
            # Asked again and again while the pages are fetched and while they are written.
            while not any(report.source == "slow" for report in reports) and time.monotonic() < deadline:
                answer = archive.ask("Where did the ZAPAD/INTERACTION-2021 exercise end?")
                assert not answer.abstained and answer.citations[0].title == EXERCISE[0]
                answered_mid_sync += syncer.syncing().locked()  # the sync was still under way
        finally:
            stop.set()
            schedule.join()
            syncer.close()
        assert answered_mid_sync >= 1
        assert len(next(report for report in reports if report.source == "slow").added) == 2
        assert archive.ask("How long did the joint air patrol last?").citations[0].title == PATROL[0]


def _save(path: Path, release: tuple[str, ...]) -> None:
    """Write a release file whole, as editors save (a hidden file renamed into place): the
    watcher never reads it half written, however often it is written again."""
    hidden = path.with_name(f".{path.name}.tmp")
    hidden.write_text("\n\n".join(release))
    os.replace(hidden, path)


def test_sync_watch_ingests_files_added_to_and_changed_in_a_folder_source(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "hospital.txt").write_text("\n\n".join(HOSPITAL))
    archive = str(tmp_path / "archive")
    assert main(["sources", "add", str(folder), "--name", "inbox", "--archive", archive]) == 0
    command = [sys.executable, "-m", "pressqa.cli", "sync", "--watch", "--json", "--archive", archive]
    # Ctrl-C reaches it as it reaches a command run in a terminal, even when the tests run in a
    # background job, whose children start with SIGINT ignored (then Python sets no handler).
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True).start()

    def report_after(write: Callable[[], None], kind: str) -> dict[str, Any]:
        """The next sync report that ``kind`` (added, updated) a release, writing until one comes
        (the watcher may start after the first write; a write seen twice reports unchanged)."""
        for _ in range(20):
            write()
            try:
                report = dict(json.loads(lines.get(timeout=15)))
            except queue.Empty:
                continue
            if report[kind]:
                return report
        raise AssertionError(f"sync --watch reported nothing {kind}")

    try:
        first = json.loads(lines.get(timeout=120))  # the sync it starts with
        assert first["source"] == "inbox" and len(first["added"]) == 1
        added = report_after(lambda: _save(folder / "patrol.txt", PATROL), "added")
        assert len(added["added"]) == 1 and not added["failed"]
        corrected = (*HOSPITAL[:2], "Correction: the hospital treated 240 residents on its first day.")
        changed = report_after(lambda: _save(folder / "hospital.txt", corrected), "updated")
        assert len(changed["updated"]) == 1 and not changed["added"]
        # Ctrl-C once the watcher is idle (during an ingest it stops that, exit 130, not 0).
        with contextlib.suppress(queue.Empty):
            while True:
                lines.get(timeout=20)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # never left behind, whatever failed above
            process.kill()
            process.wait()
    assert process.returncode == 0  # Ctrl-C ends it cleanly
    with Archive.open(archive) as opened:
        texts = opened.release_texts([release.doc_id for release in opened.releases()])
    assert len(texts) == 2 and any("240 residents" in text for text in texts.values())


def test_sources_from_the_command_line(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = str(tmp_path / "archive")
    monkeypatch.setenv("PRESSQA_SYNC_DELAY_S", "0")
    monkeypatch.setenv("PRESSQA_SYNC_BACKOFF_S", "0.01")
    feed = ministry_feed(site)
    assert (
        main(["sources", "add", feed, "--name", "mod", "--every", "30m", "--issuer", "MoD", "--archive", archive]) == 0
    )
    assert main(["sources", "add", feed, "--archive", archive]) == 1
    assert "already the source 'mod'" in capsys.readouterr().err
    assert main(["sources", "add", "not-a-folder", "--archive", archive]) == 1
    assert "neither a web address" in capsys.readouterr().err
    assert main(["sync", "--archive", archive]) == 0
    out = capsys.readouterr().out
    assert "mod: 3 added" in out and "undated" in out
    site.docs["/news/2021/patrol.html"].status = 500
    site.docs["/news/2021/patrol.html"].body = b"oops"
    site.put("/feed.xml", site.docs["/feed.xml"].body + b" ", RSS)  # the feed changed: pages are asked again
    assert main(["sync", "--archive", archive]) == EXIT_SOME_INPUTS_FAILED
    assert "FAILED" in capsys.readouterr().out
    assert main(["sources", "--archive", archive]) == 0
    listed = capsys.readouterr().out
    assert "every 30m, issuer MoD" in listed and "last sync" in listed and "1 failed" in listed
    assert main(["sources", "remove", "mod", "--archive", archive]) == 0
    assert "releases stay" in capsys.readouterr().out
    assert main(["sources", "list", "--archive", archive, "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["sync", "--source", "mod", "--archive", archive]) == 1
    assert "no source named 'mod'" in capsys.readouterr().err


def test_listings_keep_only_web_links_and_unpack_gzipped_sitemaps() -> None:
    base = "https://www.mod.example/news/"
    xml = sitemap([("https://www.mod.example/news/a.html", "2021-08-13"), ("mailto:press@mod.example", None),
                   ("javascript:alert(1)", None), ("http://[::1/broken", None)])  # fmt: skip
    listing = read_listing(Page(base + "sitemap.xml.gz", base + "sitemap.xml.gz", True, gzip.compress(xml.encode())))
    assert [link.url for link in listing.links] == ["https://www.mod.example/news/a.html"]
    page = (
        '<html><body><a href="2021/a.html">A</a><a href="mailto:x@y">Mail</a><a href="http://[::1">Bad</a>'
        '<a href="file:///etc/passwd">File</a><a href="https://other.example/news/b.html">Other</a></body></html>'
    )
    listing = read_listing(Page(base, base, True, page.encode(), "text/html"))
    assert [link.url for link in listing.links] == ["https://www.mod.example/news/2021/a.html"]
    shouted = "https://WWW.Mod.example:443/news/"  # the same site, as a user may type it
    listing = read_listing(Page(shouted, shouted, True, page.encode(), "text/html"))
    assert [link.url for link in listing.links] == ["https://www.mod.example/news/2021/a.html"]
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        + page[6:]
    )
    listing = read_listing(Page(base, base, True, xhtml.encode(), "application/xhtml+xml"))
    assert [link.url for link in listing.links] == ["https://www.mod.example/news/2021/a.html"]
    bomb = gzip.compress(b"<urlset>" + b" " * (60 << 20) + b"</urlset>")
    with pytest.raises(FetchError, match="unpacks to more than"):
        read_listing(Page(base + "big.xml.gz", base + "big.xml.gz", True, bomb))


def test_durations() -> None:
    assert parse_every("90s") == 90 and parse_every("1h30m") == 5400 and parse_every("2d") == 172800
    assert every_label(5400) == "1h30m" and every_label(3600) == "1h"
    for bad in ("", "1x", "h", "10 minutes", "0s"):
        with pytest.raises(ConfigError):
            parse_every(bad)
