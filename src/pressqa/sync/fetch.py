"""HTTP for a sync: robots.txt obeyed, a rate limit and a concurrency cap per host, retries
with backoff, redirects within limits, a size and time cap on every body, conditional GET."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pressqa.settings import Settings

_CHARSET = re.compile(r"charset=[\"']?([\w-]+)", re.IGNORECASE)
RETRIED = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 120.0  # a server asking for longer is treated as failing this time


class FetchError(Exception):
    """A URL that could not be fetched; ``reason`` says why, for the sync report."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status  # the HTTP status that answered, if one did


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched URL: ``url`` is where it was found after redirects; ``body`` is empty when
    the server answered 304 Not Modified (``modified`` false)."""

    requested: str
    url: str
    modified: bool
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None  # as the Content-Type header names it
    etag: str | None = None
    last_modified: str | None = None


# Why robots.txt refuses a URL (None: it may be fetched), and the host's crawl delay; the
# sync run supplies it (it keeps robots.txt like any other document).
RobotsCheck = Callable[[str], tuple[str | None, float]]


@functools.cache
def private_address(host: str) -> bool:
    """Whether ``host`` is this machine, a private network or a link-local address (such as
    a cloud's metadata service at 169.254.169.254), by its address or what it resolves to."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(info[4][0]) for info in socket.getaddrinfo(host, None)]
        except (OSError, UnicodeError, ValueError):
            return False  # not resolvable: the request fails and says so
    return any(
        address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
        for address in addresses
    )


class _Host:
    """One host's share: at most ``per_host`` requests at once, ``interval`` seconds apart."""

    def __init__(self, per_host: int, interval: float) -> None:
        self.slots = threading.Semaphore(per_host)
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.interval = interval

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self.slots:
            with self.lock:
                now = time.monotonic()
                start = max(now, self.next_at)
                self.next_at = start + self.interval
            time.sleep(start - now)
            yield


class Fetcher:
    """GETs for one sync run; thread-safe.  ``requests`` counts what went over the wire."""

    def __init__(self, settings: Settings, robots: RobotsCheck | None = None, *, private_ok: bool = False) -> None:
        self.settings = settings
        self.robots = robots
        self.private_ok = private_ok  # whether addresses on this machine or a private network may be fetched
        self.requests = 0
        self._client = httpx.Client(
            headers={"User-Agent": settings.sync_user_agent},
            timeout=httpx.Timeout(settings.sync_timeout_s),
            follow_redirects=False,  # followed here, so that each hop is checked against robots.txt
        )
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, obey_robots: bool = True
    ) -> Page:
        """Fetch ``url``, conditionally if validators are given; raises ``FetchError``.
        ``obey_robots`` false is for robots.txt itself."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited = [url]
        current = url
        for _ in range(self.settings.sync_max_redirects + 1):
            delay = 0.0
            if not self.private_ok and private_address(urlsplit(current).hostname or ""):
                raise FetchError(
                    current, "an address on this machine or a private network, refused for a public source"
                )
            if self.robots is not None and obey_robots:
                refused, delay = self.robots(current)
                if refused:
                    raise FetchError(current, refused)
            status, response_headers, body = self._request(current, headers, delay)
            if status in (301, 302, 303, 307, 308):
                target = response_headers.get("location")
                if not target:
                    raise FetchError(current, f"HTTP {status} redirect without a Location header")
                try:
                    current = urljoin(current, target)
                    scheme = urlsplit(current).scheme
                except ValueError:
                    raise FetchError(url, f"redirected to {target!r}, not an address") from None
                if scheme not in ("http", "https"):
                    raise FetchError(url, f"redirected to {current!r}, not a web address")
                if current in visited:
                    raise FetchError(url, "redirect loop: " + " -> ".join([*visited, current]))
                visited.append(current)
                continue
            if status == 304:
                if not (etag or last_modified):
                    raise FetchError(current, "answered 304 Not Modified to a request that was not conditional")
                return Page(url, current, modified=False, etag=etag, last_modified=last_modified)
            if status != 200:
                raise FetchError(current, f"HTTP {status}{_phrase(status)}", status)
            content_type = response_headers.get("content-type", "")
            return Page(
                url,
                current,
                modified=True,
                body=body,
                content_type=content_type.split(";")[0].strip().lower(),
                charset=found.group(1) if (found := _CHARSET.search(content_type)) else None,
                etag=response_headers.get("etag"),
                last_modified=response_headers.get("last-modified"),
            )
        raise FetchError(url, f"more than {self.settings.sync_max_redirects} redirects: " + " -> ".join(visited))

    def _host(self, url: str, delay: float) -> _Host:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = _Host(self.settings.sync_per_host, self.settings.sync_delay_s)
            found = self._hosts[host]
            found.interval = max(found.interval, delay)  # robots.txt's Crawl-delay, once it is read
            return found

    def _request(self, url: str, headers: dict[str, str], delay: float) -> tuple[int, httpx.Headers, bytes]:
        """One GET, retried on 429/5xx and on a connection that fails or stalls."""
        host = self._host(url, delay)
        for attempt in range(self.settings.sync_retries + 1):
            last = attempt == self.settings.sync_retries
            wait = self.settings.sync_backoff_s * 2**attempt
            try:
                with host.turn():
                    with self._lock:
                        self.requests += 1
                    with self._client.stream("GET", url, headers=headers) as response:
                        if response.status_code in RETRIED and not last:
                            wait = _retry_after(response.headers.get("retry-after"), wait)
                            if wait > MAX_RETRY_AFTER_S:
                                raise FetchError(url, f"HTTP {response.status_code}, retry after {wait:.0f} s")
                        else:
                            return response.status_code, response.headers, self._body(url, response)
            except httpx.TimeoutException:
                if last:
                    raise FetchError(url, f"no answer within {self.settings.sync_timeout_s:g} s") from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
                raise FetchError(url, f"not an address that can be fetched ({err})") from None
            except httpx.TransportError as err:
                if last:
                    raise FetchError(url, f"cannot connect ({err or type(err).__name__})") from None
            except httpx.HTTPError as err:  # a body that cannot be decoded, and the like
                raise FetchError(url, f"unreadable answer ({err or type(err).__name__})") from None
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _body(self, url: str, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            return b""
        cap = int(self.settings.sync_max_page_mb * 1024 * 1024)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(url, f"{int(declared) / 1e6:.1f} MB is over the {self.settings.sync_max_page_mb:g} MiB "
                                  "page cap (PRESSQA_SYNC_MAX_PAGE_MB)")  # fmt: skip
        deadline = time.monotonic() + self.settings.sync_timeout_s
        parts, size = [], 0
        for part in response.iter_bytes():
            size += len(part)
            if size > cap:
                raise FetchError(url, f"over the {self.settings.sync_max_page_mb:g} MiB page cap "
                                      "(PRESSQA_SYNC_MAX_PAGE_MB)")  # fmt: skip
            if time.monotonic() > deadline:
                raise FetchError(
                    url, f"still sending after {self.settings.sync_timeout_s:g} s (PRESSQA_SYNC_TIMEOUT_S)"
                )
            parts.append(part)
        return b"".join(parts)

    def close(self) -> None:
        self._client.close()


def _retry_after(value: str | None, default: float) -> float:
    """Seconds a Retry-After header asks for (a number or an HTTP date), else ``default``."""
    if not value:
        return default
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # not a date either
        return default
    return max(0.0, when.timestamp() - time.time())


def _phrase(status: int) -> str:
    phrase = httpx.codes.get_reason_phrase(status)
    return f" {phrase}" if phrase else ""
