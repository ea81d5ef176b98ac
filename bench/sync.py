"""Web sync next to plain JSONL ingest of the same releases, measured in one run.

    python bench/sync.py                    # the first 1,000 DOJ releases of ../shared/corpora
    python bench/sync.py --releases 50      # a smoke check
    python bench/sync.py --releases 200 --no-record

Serves the releases as press-office HTML pages (title, og:site_name, article:published_time
and a canonical link in the head; a menu, the article and a footer in the body) with a
sitemap and a robots.txt, from a local HTTP server in a child process (ETag and
Last-Modified validators, 304 to a conditional request).  Then, each into a fresh archive:

  1. ``archive.ingest`` of the same releases written to a JSONL file;
  2. ``archive.sync`` of a source added for the sitemap (sync_delay_s=0, other settings default);
  3. a second ``archive.sync`` of the same, unchanged source;
  4. fetch and parse of every page without ingest, as a sync does them (``Fetcher`` in
     ``sync_workers`` threads; ``page_job`` in ingest's parse workers and ``web_release``;
     batches of ``sync_batch_pages``), then fetch alone and parse alone, for the share of a
     sync that is not embedding.

The embedding model is loaded (a throwaway ingest of 20 other releases) before anything is timed.  Prints a table
and appends it, with the machine description, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import email.utils
import hashlib
import html
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from common import HERE, machine, peak_rss_mb, report  # bench/ is the script's folder, first on sys.path
from pressqa import Archive, Settings
from pressqa.errors import IngestError
from pressqa.ingest.readers import InputReader
from pressqa.sync.fetch import Fetcher, FetchError, Page
from pressqa.sync.read import Link, page_job, web_release
from pressqa.types import IngestProblem

CORPORA = HERE.parent.parent / "shared" / "corpora"
DEFAULT_CORPUS = CORPORA / "doj-press-releases" / "doj-press-releases.jsonl"

HTML_TYPE = "text/html; charset=utf-8"
NAV = "".join(
    f'<li><a href="/{path}/">{label}</a></li>'
    for path, label in [
        ("", "Home"),
        ("about", "About"),
        ("news", "News"),
        ("news/press-releases", "Press Releases"),
        ("news/speeches", "Speeches"),
        ("agencies", "Agencies"),
        ("resources", "Resources"),
        ("careers", "Careers"),
        ("contact", "Contact"),
    ]
)


# ---------------------------------------------------------------- the site


def release_page(record: dict[str, Any], url: str) -> str:
    """A press office's page for one release: metadata in the head, menus and footer around it."""
    title = html.escape(record["title"] or "")
    site = html.escape(record["source"] or "")
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} | {site}</title>",
        f'<meta property="og:site_name" content="{site}">',
        f'<meta property="og:title" content="{title}">',
        '<meta property="og:type" content="article">',
        f'<link rel="canonical" href="{html.escape(url)}">',
        '<link rel="stylesheet" href="/static/site.css">',
    ]
    if record.get("date"):
        head.append(f'<meta property="article:published_time" content="{record["date"]}">')
    return (
        f'<!doctype html><html lang="en"><head>{"".join(head)}</head><body>'
        '<a class="skip" href="#main">Skip to main content</a>'
        f'<header><div class="logo"><a href="/">{site}</a></div>'
        '<form action="/search"><input type="search" name="q" aria-label="Search"></form></header>'
        f'<nav aria-label="Main"><ul>{NAV}</ul></nav>'
        '<nav aria-label="Breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/news/">News</a> &rsaquo; '
        '<a href="/news/press-releases/">Press Releases</a></nav>'
        f'<main id="main"><article><h1>{title}</h1>'
        f'<div class="date"><time datetime="{record.get("date") or ""}">{record.get("date") or ""}</time></div>'
        f"{_body(record['text'] or '')}</article>"
        '<aside><h2>Related</h2><ul><li><a href="/news/press-releases/">More press releases</a></li>'
        '<li><a href="/news/speeches/">Speeches</a></li></ul></aside></main>'
        f'<footer><p>{site}</p><ul><li><a href="/privacy/">Privacy</a></li>'
        '<li><a href="/accessibility/">Accessibility</a></li><li><a href="/foia/">FOIA</a></li></ul>'
        "<p>Contact the Office of Public Affairs at 202-514-2007.</p></footer></body></html>"
    )


def _body(text: str) -> str:
    """Paragraphs as <p>, runs of ``- `` lines as a list."""
    parts = []
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            parts.append("<ul>" + "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            parts.append(f"<p>{html.escape(' '.join(lines))}</p>")
    return "".join(parts)


def sitemap(entries: list[tuple[str, str | None]]) -> str:
    urls = "".join(
        f"<url><loc>{html.escape(loc)}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for loc, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


class Doc:
    def __init__(self, body: str, content_type: str, modified: float) -> None:
        self.body = body.encode("utf-8")
        self.content_type = content_type
        self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'
        self.modified = int(modified)
        self.last_modified = email.utils.formatdate(self.modified, usegmt=True)


class Counters:
    """What the server answered, shared with the parent process."""

    def __init__(self) -> None:
        self.requests = multiprocessing.Value("i", 0)
        self.conditional = multiprocessing.Value("i", 0)
        self.not_modified = multiprocessing.Value("i", 0)

    def snapshot(self) -> tuple[int, int, int]:
        return self.requests.value, self.conditional.value, self.not_modified.value


def handler(docs: dict[str, Doc], counters: Counters) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real server
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            doc = docs.get(self.path)
            etag_asked = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            with counters.requests.get_lock():
                counters.requests.value += 1
            if etag_asked or since:
                with counters.conditional.get_lock():
                    counters.conditional.value += 1
            if doc is None:
                return self._answer(404, b"<html><body>Not found</body></html>", HTML_TYPE, {})
            validators = {"ETag": doc.etag, "Last-Modified": doc.last_modified}
            if etag_asked:
                unchanged = etag_asked == doc.etag
            elif since and email.utils.parsedate_tz(since):
                unchanged = email.utils.parsedate_to_datetime(since).timestamp() >= doc.modified
            else:
                unchanged = False
            if unchanged:
                with counters.not_modified.get_lock():
                    counters.not_modified.value += 1
                return self._answer(304, b"", doc.content_type, validators)
            self._answer(200, doc.body, doc.content_type, validators)

        def _answer(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            if status != 304:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

    return Handler


def _serve(server: ThreadingHTTPServer) -> None:
    server.serve_forever()


# ---------------------------------------------------------------- measuring


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def fetch_and_parse(settings: Settings, urls: list[str], listing: str, *, parse: bool) -> tuple[list[Page], list[str]]:
    """Every page fetched in ``sync_workers`` threads and, if ``parse``, read as a sync reads
    it (``page_job`` in ingest's parse workers, then ``web_release``), batch by batch of
    ``sync_batch_pages``, without ingest; returns the pages and the failures."""
    fetcher = Fetcher(settings, private_ok=True)  # the site is on 127.0.0.1, as a sync of it allows
    reader = InputReader(settings)
    pages: list[Page] = []
    failures: list[str] = []

    def fetch(url: str) -> Page | None:
        try:
            return fetcher.get(url)
        except FetchError as err:
            failures.append(f"{url}: {err.reason}")
            return None

    with ThreadPoolExecutor(settings.sync_workers) as pool:
        for begin in range(0, len(urls), settings.sync_batch_pages):
            batch = [page for page in pool.map(fetch, urls[begin : begin + settings.sync_batch_pages]) if page]
            pages += batch
            if parse:
                failures += parse_pages(reader, batch, listing)
    fetcher.close()
    return pages, failures


def parse_pages(reader: InputReader, pages: list[Page], listing: str) -> list[str]:
    """Read fetched pages as a sync does, in one ``reader.parse`` (one pool of parse workers);
    returns the failures."""
    failures = []
    jobs = []
    for page in pages:
        try:
            jobs.append((page, page_job(page)))
        except IngestError as err:
            failures.append(f"{page.url}: {err.reason}")
    for (page, _), parsed in zip(jobs, reader.parse(job for _, job in jobs), strict=True):
        if isinstance(parsed, IngestProblem):
            failures.append(f"{page.url}: {parsed.reason}")
        else:
            web_release(parsed, page, Link(page.requested), issuer=None, feed_title=None, listing=listing)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="JSONL releases (id,title,date,source,url,text)"
    )
    parser.add_argument("--releases", type=int, default=1000, help="releases to serve and ingest (default 1000)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(
            f"corpus {args.corpus} not found: it lives in ../shared/corpora beside the repository "
            "(shared/ missing?); pass --corpus",
            file=sys.stderr,
        )
        return 2
    if args.releases < 1:
        parser.error("--releases must be at least 1")

    with args.corpus.open(encoding="utf-8") as corpus:
        lines = [line for line in itertools.islice(corpus, args.releases) if line.strip()]
    records = [json.loads(line) for line in lines]
    count = len(records)

    # The site: bound here (its port goes into the pages), served by a child process so that
    # its work does not share this process's interpreter lock with the sync it answers.
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/releases/{number}.html" for number in range(1, count + 1)]
    docs: dict[str, Doc] = {}
    now = time.time()
    for record, url in zip(records, urls, strict=True):
        modified = (
            dt.datetime.fromisoformat(record["date"]).replace(tzinfo=dt.UTC).timestamp() if record.get("date") else now
        )
        docs[url.removeprefix(base)] = Doc(release_page(record, url), HTML_TYPE, modified)
    docs["/sitemap.xml"] = Doc(
        sitemap([(url, record.get("date")) for record, url in zip(records, urls, strict=True)]), "application/xml", now
    )
    docs["/robots.txt"] = Doc(f"User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\n", "text/plain", now)
    page_bytes = sum(len(doc.body) for path, doc in docs.items() if path.startswith("/releases/"))
    counters = Counters()
    server.RequestHandlerClass = handler(docs, counters)
    site = multiprocessing.get_context("fork").Process(target=_serve, args=(server,), daemon=True)
    site.start()
    server.server_close()  # the child holds the listening socket now

    try:
        with tempfile.TemporaryDirectory(prefix="pressqa-bench-sync-") as tmp:
            folder = Path(tmp)
            source = folder / "releases.jsonl"
            source.write_text("".join(lines), encoding="utf-8")
            warm_up = folder / "warm-up.jsonl"  # other releases: the corpus's last 20, into a throwaway archive
            with args.corpus.open(encoding="utf-8") as corpus:
                warm_up.write_text("".join(collections.deque(corpus, maxlen=20)), encoding="utf-8")

            def settings(name: str) -> Settings:
                return Settings(archive=folder / name, sync_delay_s=0, sync_max_pages=max(count, 1000))

            with Archive.open(settings=settings("warm-up")) as warm:
                warm.ingest([warm_up])
                warm.warm_up()

            # 1. JSONL ingest.
            with Archive.open(settings=settings("jsonl")) as archive:
                ingested, ingest_seconds = timed(lambda: archive.ingest([source]))
                jsonl_stats = archive.stats()

            # 2 and 3. Sync, then sync again.
            with Archive.open(settings=settings("web")) as archive:
                archive.sources.add(f"{base}/sitemap.xml", name="bench")
                before = counters.snapshot()
                (first,), sync_seconds = timed(lambda: archive.sync("bench"))
                middle = counters.snapshot()
                (again,), again_seconds = timed(lambda: archive.sync("bench"))
                after = counters.snapshot()
                web_stats = archive.stats()
                web_releases = archive.releases()

            # 4. Fetch and parse alone; fetch alone; parse alone.
            plain = settings("none")
            listing = f"{base}/sitemap.xml"
            (_, parse_failures), parse_seconds = timed(lambda: fetch_and_parse(plain, urls, listing, parse=True))
            (pages, fetch_failures), fetch_seconds = timed(lambda: fetch_and_parse(plain, urls, listing, parse=False))
            alone_failures, alone_seconds = timed(lambda: parse_pages(InputReader(plain), pages, listing))
    finally:
        site.terminate()
        site.join(10)

    server_first = [b - a for a, b in zip(before, middle, strict=True)]
    server_again = [b - a for a, b in zip(middle, after, strict=True)]
    embed_share = max(0.0, sync_seconds - parse_seconds)
    rss_mb = peak_rss_mb()

    def rate(seconds: float) -> str:
        return f"{count / seconds:.1f}" if seconds else ""

    rows = [
        ("JSONL ingest, `archive.ingest`", f"{ingest_seconds:.1f}", rate(ingest_seconds), ""),
        ("sync, first (`archive.sync` of the sitemap)", f"{sync_seconds:.1f}", rate(sync_seconds),
         str(first.requests)),
        ("sync, second (unchanged)", f"{again_seconds:.2f}", "", str(again.requests)),
        (f"fetch + parse only ({plain.sync_workers} threads, {plain.sync_per_host} per host, "
         f"batches of {plain.sync_batch_pages})",
         f"{parse_seconds:.1f}", rate(parse_seconds), str(count)),
        ("fetch only", f"{fetch_seconds:.1f}", rate(fetch_seconds), str(count)),
        (f"parse only, all pages in one pool ({plain.parse_workers} parse worker(s))", f"{alone_seconds:.1f}",
         rate(alone_seconds), ""),
    ]  # fmt: skip
    failures = [f"{problem.path}: {problem.reason}" for problem in first.failed]
    agree = len(first.added) == len(ingested.added) == count - len(first.failed)
    dated = sum(1 for release in web_releases if release.date is not None)
    lines_out = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/sync.py, {count} DOJ releases",
        "",
        f"Machine: {machine()}",
        "",
        f"{count} releases of {args.corpus.name} (the first {count}), served as HTML pages of "
        f"{page_bytes / count / 1024:.1f} KiB on average from a local server (a child process) with a sitemap; "
        f"settings: sync_delay_s=0, sync_workers={plain.sync_workers}, sync_per_host={plain.sync_per_host}, "
        f"sync_batch_pages={plain.sync_batch_pages}. Peak RSS {rss_mb:.0f} MB.",
        "",
        "| step | seconds | releases/s | requests |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        f"- sync / JSONL ingest time: **{sync_seconds / ingest_seconds:.2f}**; "
        f"fetch + parse alone is **{parse_seconds / sync_seconds:.0%}** of the sync "
        f"({parse_seconds:.1f} s, vs {embed_share:.1f} s for the rest: ingest with embedding); "
        f"fetch alone {fetch_seconds:.1f} s, parse alone {alone_seconds:.1f} s",
        f"- counts: JSONL ingest added {len(ingested.added)} ({ingested.chunks_added} chunks, "
        f"{len(ingested.failed)} failed); sync added {len(first.added)} ({web_stats.chunks} chunks), "
        f"{len(first.failed)} failed, {len(first.undated)} undated "
        f"({dated} of {len(web_releases)} stored with a date), "
        f"left {first.left}: " + ("**agree**" if agree else "**disagree**")
        + f"; archives hold {jsonl_stats.releases} and {web_stats.releases} releases",
        f"- first sync: {first.requests} requests counted by pressqa, {server_first[0]} answered by the server "
        f"({server_first[1]} conditional)",
        f"- second sync: {again_seconds:.2f} s, {again.requests} request(s) "
        f"({server_again[1]} conditional, {server_again[2]} answered 304 Not Modified; "
        f"not_modified={again.not_modified}), {len(again.added)} added, {len(again.updated)} updated, "
        f"{len(again.failed)} failed: "
        + ("**all conditional**" if server_again[0] == server_again[1] else "**not all conditional**"),
    ]  # fmt: skip
    other_failures = sorted(set(parse_failures + fetch_failures + alone_failures))
    if failures:
        lines_out.append("- sync failures: " + "; ".join(failures[:10]) + (" ..." if len(failures) > 10 else ""))
    if other_failures:
        lines_out.append(
            "- fetch/parse-only failures: "
            + "; ".join(other_failures[:10])
            + (" ..." if len(other_failures) > 10 else "")
        )
    lines_out.append("")
    results = HERE / "RESULTS.md"
    if results.is_file() and not results.read_text(encoding="utf-8").endswith("\n\n"):
        lines_out.insert(0, "")  # a blank line before the heading
    report(lines_out, keep=not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
