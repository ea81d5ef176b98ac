"""What a fetched document holds: the release links of a feed, sitemap or listing page, or
one release (an HTML page or a PDF), read with feedparser, lxml, courlan and trafilatura."""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime as dt
import email.utils
import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from pressqa.errors import IngestError
from pressqa.ingest.readers import ParseJob
from pressqa.sync.fetch import FetchError, Page
from pressqa.types import Release

ListingKind = Literal["feed", "sitemap", "sitemap-index", "listing", "home"]
_XML_START = re.compile(rb"^\s*(<\?xml|<rss|<feed|<rdf:RDF|<urlset|<sitemapindex)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)
_NOT_A_RELEASE = re.compile(r"\.(css|js|json|png|jpe?g|gif|svg|webp|ico|zip|mp[34]|xml|rss)$", re.IGNORECASE)
_FEED_PATH = re.compile(r"(\.(xml|rss|atom)$|/(feed|rss|atom)s?(/|\.|$))", re.IGNORECASE)


GZIP_MAGIC = b"\x1f\x8b"
MAX_UNZIPPED = 50 << 20  # a sitemap may hold 50,000 URLs in at most 50 MB (sitemaps.org)


@dataclass(frozen=True, slots=True)
class Link:
    """A release page a listing points to, with what the listing says of it."""

    url: str
    title: str | None = None
    date: dt.date | None = None  # the publication date a feed gives
    changed: dt.datetime | None = None  # a feed item's update time or a sitemap's lastmod


@dataclass(frozen=True, slots=True)
class Listing:
    kind: ListingKind
    links: tuple[Link, ...] = ()
    title: str | None = None  # a feed's title: who issues its items, unless told otherwise
    found: tuple[str, ...] = ()  # for a home page: the feeds it names


def page_url(url: str) -> str:
    """The form of a URL used to know it again: no fragment, scheme and host in lower case."""
    import courlan

    bare, _ = urldefrag(url.strip())
    return courlan.normalize_url(bare) if courlan.is_valid_url(bare) else bare


def release_id(url: str) -> str:
    """A release's id from its canonical URL: the same page is one release however found."""
    host = (urlsplit(url).hostname or "web").removeprefix("www.")
    return f"{host}-{hashlib.sha1(page_url(url).encode()).hexdigest()[:12]}"


def read_listing(page: Page) -> Listing:
    """The links of a feed, sitemap (index) or listing page; a site's home page (path ``/``)
    also names the feeds it advertises.  Raises ``FetchError`` for anything else."""
    if page.body.startswith(GZIP_MAGIC):  # sitemap.xml.gz
        page = dataclasses.replace(page, body=_gunzipped(page), content_type="application/xml")
    body = page.body
    if page.content_type == "application/pdf" or body.startswith(b"%PDF"):
        raise FetchError(page.url, "a PDF document, not a feed, sitemap or listing page")
    xhtml = b"<html" in body[:2048].lower()  # an XHTML page may open with <?xml too
    if (_XML_START.match(body) or page.content_type.endswith("xml")) and not xhtml:
        return _read_xml(page)
    if page.content_type not in ("", "text/html", "application/xhtml+xml") and not _HTML_START.match(body):
        raise FetchError(page.url, f"{page.content_type} content, not a feed, sitemap or HTML page")
    if _FEED_PATH.search(urlsplit(page.requested).path):
        raise FetchError(page.url, "an HTML page where a feed was expected (the address looks like a feed's)")
    html = _decoded(page)
    links = tuple(Link(url) for url in _release_links(html, page.url))
    if urlsplit(page.url).path in ("", "/"):
        return Listing("home", links=links, found=tuple(_advertised_feeds(html, page.url)))
    return Listing("listing", links=links)


def page_job(page: Page) -> ParseJob:
    """How ingest's parsers read a fetched page (in a worker process, under a time limit):
    an HTML page as an ``.html`` file, a PDF as a ``.pdf``.  Raises ``IngestError`` else."""
    if page.content_type == "application/pdf" or page.body.startswith(b"%PDF"):
        return ParseJob(page.url, ".pdf", "web", data=page.body)
    if _HTML_START.match(page.body) or page.content_type in ("text/html", "application/xhtml+xml"):
        return ParseJob(page.url, ".html", "web", data=_decoded(page).encode())
    raise IngestError(page.url, f"{page.content_type or 'unknown'} content, not an HTML page or a PDF")


def web_release(release: Release, page: Page, link: Link, *, issuer: str | None, feed_title: str | None,
                listing: str) -> Release:  # fmt: skip
    """A parsed page as the release it is: its id from its canonical URL, its issuer the
    source's (else the site's name, else the feed's title), its date the feed item's (else
    the page's metadata, else a dateline in its text: never today's)."""
    if release.origin.endswith(".pdf") or page.body.startswith(b"%PDF"):
        url, title = page_url(page.url), link.title or release.title  # a PDF's first line is a poor title
    else:
        url, title = page_url(_canonical(release.url, page.url, listing)), release.title
    return dataclasses.replace(
        release,
        doc_id=release_id(url),
        url=url,
        title=title,
        source=issuer or release.source or feed_title,
        date=link.date or release.date,
        origin=page.url,
        id_from_location=False,
    )


def _canonical(declared: str | None, fetched: str, listing: str) -> str:
    """The page's canonical URL if it declares one on its own site, else where it was fetched.
    A canonical URL that is the site's root or the listing itself (a CMS that points every
    page there) is not taken: it would make all releases one."""
    absolute = _web_link(fetched, declared or "")
    if absolute is None or urlsplit(absolute).hostname != urlsplit(fetched).hostname:
        return fetched
    if urlsplit(absolute).path in ("", "/") or page_url(absolute) == page_url(listing):
        return fetched
    return absolute


def _decoded(page: Page) -> str:
    """The page's text: by the charset its headers or its ``<meta>`` name, else UTF-8 if it
    is that, else as trafilatura guesses (charset_normalizer)."""
    from trafilatura.utils import decode_file

    found = re.search(rb"charset=[\"']?([\w-]+)", page.body[:2048])
    charset = page.charset or (found.group(1).decode("ascii") if found else None)
    if charset:
        try:
            return page.body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            pass
    try:
        return page.body.decode("utf-8")
    except UnicodeDecodeError:
        return str(decode_file(page.body))


def _gunzipped(page: Page) -> bytes:
    unzip = zlib.decompressobj(wbits=31)
    try:
        body = unzip.decompress(page.body, MAX_UNZIPPED)
    except zlib.error as err:
        raise FetchError(page.url, f"damaged gzip data ({err})") from None
    if unzip.unconsumed_tail:
        raise FetchError(page.url, f"unpacks to more than {MAX_UNZIPPED >> 20} MB, the most a sitemap may hold")
    return body


def _read_xml(page: Page) -> Listing:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(page.body, parser)
    except etree.XMLSyntaxError as err:
        raise FetchError(page.url, f"malformed XML ({err})") from None
    tag = etree.QName(root).localname.lower()
    if tag in ("urlset", "sitemapindex"):
        links = []
        for entry in root:
            if not isinstance(entry.tag, str):
                continue
            fields = {
                etree.QName(child).localname: (child.text or "").strip()
                for child in entry
                if isinstance(child.tag, str)
            }
            loc = _web_link(page.url, fields.get("loc", ""))
            if loc and urlsplit(loc).hostname == urlsplit(page.url).hostname:  # a sitemap lists its own site only
                links.append(Link(loc, changed=_lastmod(fields.get("lastmod"))))
        return Listing("sitemap" if tag == "urlset" else "sitemap-index", links=tuple(links))
    if tag in ("rss", "feed", "rdf"):
        return _read_feed(page)
    raise FetchError(page.url, f"XML whose root is <{tag}>, not an RSS/Atom feed or a sitemap")


def _read_feed(page: Page) -> Listing:
    import feedparser

    feed = feedparser.parse(page.body, response_headers={"content-location": page.url})
    links = []
    for entry in feed.entries:
        href = _web_link(page.url, entry.get("link") or "") or next(
            (found for link in entry.get("links", []) if (found := _web_link(page.url, link.get("href") or ""))), None
        )
        if not href:
            continue
        # Atom's <updated> is when an entry last changed (never its publication); RSS has no such field.
        updated = entry.get("updated_parsed") if feed.version.startswith("atom") else None
        links.append(
            Link(
                href,
                title=(entry.get("title") or "").strip() or None,
                date=_published(entry),
                changed=dt.datetime.fromtimestamp(calendar.timegm(updated), dt.UTC) if updated else None,
            )
        )
    title = (feed.feed.get("title") or "").strip() or None
    return Listing("feed", links=tuple(links), title=title)


def _web_link(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base`` if it is a web address (not mailto:, file: ...)."""
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
        return url if href.strip() and parts.scheme in ("http", "https") and parts.hostname else None
    except ValueError:  # such as a broken IPv6 address
        return None


def _published(entry: Any) -> dt.date | None:
    """A feed item's publication day where it was published: "Fri, 13 Aug 2021 01:00 +0300"
    is the 13th (feedparser's own reading is in UTC, the 12th)."""
    raw = (entry.get("published") or "").strip()
    if not raw:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return email.utils.parsedate_to_datetime(raw).date()
    with contextlib.suppress(ValueError):
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    parsed = entry.get("published_parsed")
    return dt.date(*parsed[:3]) if parsed else None


def _lastmod(value: str | None) -> dt.datetime | None:
    """A sitemap's lastmod; a day alone stands for its end (a page changed later that day
    after it was fetched must not be taken as unchanged)."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value.strip()) == 10:  # YYYY-MM-DD
        when = when.replace(hour=23, minute=59, second=59)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _advertised_feeds(html: str, url: str) -> list[str]:
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(url).hostname or ""
    return determine_feed(html, FeedParameters(url, host, url))


def _release_links(html: str, url: str) -> list[str]:
    """Links of a listing page to its releases: same-site pages below the listing's own path
    (a ministry's /news/ lists /news/2021/...), or else any same-site page two levels deep;
    menus, log-in, tag and pagination pages left out (courlan's filters)."""
    import courlan
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(_XML_DECLARATION.sub("", html, count=1))  # lxml refuses one in a str
    except (ValueError, lxml_html.etree.ParserError):
        return []
    own = page_url(url)
    host = urlsplit(own).netloc  # as links are compared: normalised (WWW.Mod.example:443 is www.mod.example)
    links = []
    for anchor in tree.iter("a"):
        found = _web_link(url, anchor.get("href") or "")
        if found is None:
            continue
        link = page_url(found)
        parts = urlsplit(link)
        if (
            parts.netloc == host
            and link != own
            and not _NOT_A_RELEASE.search(parts.path)
            and not courlan.is_navigation_page(link)
            and not courlan.is_not_crawlable(link)
        ):
            links.append(link)
    base = urlsplit(url).path.rstrip("/") + "/"
    below = [link for link in links if urlsplit(link).path.startswith(base)]
    chosen = below or [link for link in links if urlsplit(link).path.strip("/").count("/") >= 1]
    return list(dict.fromkeys(chosen))
