"""A press office's web site on 127.0.0.1 for sync tests: pages, feeds and sitemaps the
test writes, served over real HTTP with ETag/Last-Modified validators, redirects, delays,
failures, and a log of every request with its headers."""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"
XML = "application/xml"


@dataclass
class Doc:
    body: bytes
    content_type: str = HTML
    status: int = 200
    location: str | None = None  # for a redirect
    validators: bool = True  # send ETag and Last-Modified, and answer conditional requests with 304
    delay: float = 0.0  # seconds before the answer starts
    trickle: float = 0.0  # seconds between 1 KiB pieces of the body
    fail_first: int = 0  # answer 503 this many times first
    too_busy: int = 0  # answer 429 Too Many Requests (Retry-After: 1) this many times first
    send_length: bool = True  # without Content-Length, the body ends when the connection closes
    modified: float = field(default_factory=lambda: time.time() - 86400)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


class Site:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.docs: dict[str, Doc] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: str | bytes, content_type: str = HTML, **options: object) -> Doc:
        data = body.encode() if isinstance(body, str) else body
        doc = Doc(data, content_type, **options)  # type: ignore[arg-type]
        self.docs[path] = doc
        return doc

    def requested(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            with site.lock:
                site.requests.append(Request(self.path, headers))
                doc = site.docs.get(self.path)
                failing = doc is not None and doc.fail_first > 0
                busy = doc is not None and not failing and doc.too_busy > 0
                if doc is not None:
                    doc.fail_first -= failing
                    doc.too_busy -= busy
            if doc is None:
                return self._answer(404, b"<html><body>Not found</body></html>", HTML)
            if failing:
                return self._answer(503, b"unavailable", "text/plain", {"Retry-After": "0"})
            if busy:
                return self._answer(429, b"slow down", "text/plain", {"Retry-After": "1"})
            time.sleep(doc.delay)
            if doc.location is not None:
                return self._answer(doc.status, b"", HTML, {"Location": doc.location})
            extra = {}
            if doc.validators:
                extra = {"ETag": doc.etag, "Last-Modified": email.utils.formatdate(doc.modified, usegmt=True)}
                since = headers.get("if-modified-since")
                unchanged_since = since and email.utils.parsedate_to_datetime(since).timestamp() >= int(doc.modified)
                if headers.get("if-none-match") == doc.etag or (not headers.get("if-none-match") and unchanged_since):
                    return self._answer(304, b"", doc.content_type, extra)
            self._answer(doc.status, doc.body, doc.content_type, extra, doc.trickle, doc.send_length)

        def _answer(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None,
                    trickle: float = 0.0, send_length: bool = True) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status != 304 and send_length:
                self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            try:
                for start in range(0, len(body), 1024 if trickle else len(body) or 1):
                    self.wfile.write(body[start : start + (1024 if trickle else len(body))])
                    self.wfile.flush()
                    time.sleep(trickle)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should on a page that is too slow

    return Handler


@contextmanager
def serving() -> Iterator[Site]:
    """A site on a free port of 127.0.0.1, shut down at the end."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Site(0)))
    site = Site(server.server_address[1])
    server.RequestHandlerClass = _handler(site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def release_page(title: str, *paragraphs: str, date: str | None = None, site_name: str = "Ministry of Defence",
                 canonical: str | None = None) -> str:  # fmt: skip
    """A ministry's release page: menus and footer around the article, metadata in the head."""
    meta = [f'<meta property="og:site_name" content="{site_name}">']
    if date:
        meta.append(f'<meta property="article:published_time" content="{date}">')
    if canonical:
        meta.append(f'<link rel="canonical" href="{canonical}">')
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | {site_name}</title>'
        f"{''.join(meta)}</head><body>"
        '<nav><a href="/">Home</a> <a href="/about/">About</a> <a href="/news/">News</a></nav>'
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        f"<footer><p>{site_name}. All rights reserved. Contact the press office.</p></footer></body></html>"
    )


def rss(title: str, items: list[tuple[str, str, str | None]], link: str = "http://127.0.0.1/") -> str:
    """An RSS 2.0 feed of (title, link, RFC 822 date or None) items."""
    entries = "".join(
        f"<item><title>{item_title}</title><link>{href}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + f"<guid>{href}</guid><description>{item_title}</description></item>"
        for item_title, href, date in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link><description>Press releases</description>{entries}"
        "</channel></rss>"
    )


def atom(title: str, items: list[tuple[str, str, str]]) -> str:
    """An Atom feed of (title, link, ISO 8601 time) entries."""
    entries = "".join(
        f'<entry><title>{item_title}</title><link href="{href}"/><id>{href}</id>'
        f"<published>{when}</published><updated>{when}</updated></entry>"
        for item_title, href, when in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:press</id><updated>2021-12-01T00:00:00Z</updated>{entries}</feed>"
    )


def sitemap(urls: list[tuple[str, str | None]]) -> str:
    """A sitemap of (loc, lastmod or None)."""
    entries = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for loc, lastmod in urls
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'


def sitemap_index(locs: list[str]) -> str:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    )


# Releases in the words of these tests; the facts are public (the 2021 exercise in Ningxia).
EXERCISE = (
    "Joint strategic exercise ends in Ningxia",
    "The joint strategic exercise ZAPAD/INTERACTION-2021 came to an end on Friday at the Qingtongxia training "
    "base in the Ningxia Hui Autonomous Region of China.",
    "More than ten thousand troops of the two armed forces practised planning and commanding joint operations, "
    "with aircraft, armoured vehicles and artillery taking part in the final live-fire phase.",
)
DELEGATION = (
    "Defence minister receives naval delegation",
    "The Minister of Defence received a visiting naval delegation and discussed maritime security and the "
    "training of junior officers at sea.",
    "Both sides agreed to hold staff talks on search and rescue at sea before the end of the year.",
)
PATROL = (
    "Second joint air patrol over the Sea of Japan",
    "Strategic bombers of the two air forces carried out a joint air patrol over the Sea of Japan and the East "
    "China Sea, the ministry said in a statement on Friday.",
    "The patrol lasted about ten hours and followed a route agreed in advance by both general staffs.",
)
HOSPITAL = (
    "Field hospital opens for flood relief",
    "A military field hospital opened in the flooded district on Monday and treated more than two hundred "
    "residents on its first day, the ministry said.",
    "Engineers also restored two bridges so that supply convoys could reach the villages cut off by the water.",
)


def publish(site: Site, path: str, release: tuple[str, ...], date: str | None = None, **serving: object) -> str:
    """Put a release page on the site; ``serving`` says how it is served (see web_server.Doc)."""
    title, *paragraphs = release
    site.put(path, release_page(title, *paragraphs, date=date), **serving)
    return site.url(path)


def ministry_feed(site: Site) -> str:
    """A ministry's RSS feed of three releases; the delegation's has no date anywhere."""
    items = [
        (EXERCISE[0], publish(site, "/news/2021/exercise.html", EXERCISE), "Fri, 13 Aug 2021 09:00:00 GMT"),
        (DELEGATION[0], publish(site, "/news/2021/delegation.html", DELEGATION), None),
        (PATROL[0], publish(site, "/news/2021/patrol.html", PATROL, date="2021-11-19"), None),
    ]
    site.put("/feed.xml", rss("Ministry of Defence: news", items), RSS)
    return site.url("/feed.xml")
