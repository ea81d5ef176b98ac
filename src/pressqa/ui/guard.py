"""Who may talk to the page: requests for the names this server is reached by, from its own origin.

A web page the user visits elsewhere must not reach the archive through the browser:

- DNS rebinding: ``rebind.evil.example`` is made to resolve to 127.0.0.1, so the browser
  sends the attacker's page's requests here, with ``Host: rebind.evil.example``.  Only the
  names the server is reached by are answered (loopback names, the host it binds, and
  names the user allows).
- Cross-origin requests: one whose ``Origin`` is not the server's own is refused, and no
  response carries CORS headers (Gradio's own middleware reflects any origin to a host
  that is not a loopback name); the page only ever talks to its own origin.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})


def served_names(host: str, allowed: Iterable[str] = ()) -> frozenset[str]:
    """The host names a server bound to ``host`` answers to: the loopback names, ``host``
    itself, and for all interfaces this machine's own names and addresses; plus ``allowed``
    (the names a proxy or DNS gives it)."""
    names = set(LOOPBACK_NAMES) | {name.lower() for name in allowed}
    if host in ALL_INTERFACES:
        machine = {socket.gethostname(), socket.getfqdn()}
        for name in list(machine):
            with contextlib.suppress(OSError):
                machine |= set(socket.gethostbyname_ex(name)[2])
        names |= {name.lower() for name in machine if name}
    else:
        names.add(host.lower())
    return frozenset(names)


def host_name(netloc: str) -> str:
    """``example.org:7860`` -> ``example.org``; ``[::1]:7860`` -> ``::1``."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:  # a malformed port or bracket
        return ""


class HostGuard:
    """ASGI middleware: refuses an unknown ``Host`` (400) or a foreign ``Origin`` (403), and
    strips CORS headers from every response."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        origin = headers.get("origin")
        refusal = None
        if host_name(host) not in self.names:
            refusal = PlainTextResponse(
                f"pressqa answers only to {', '.join(sorted(self.names))}, not to the host {host!r} "
                "(serve with --allow-host NAME to add one)",
                status_code=400,
            )
        elif origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            refusal = PlainTextResponse("cross-origin requests are refused", status_code=403)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _without_cors(send))


def _without_cors(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name in [key for key in headers if key.lower().startswith("access-control-")]:
                del headers[name]
        await send(message)

    return sending


def guarded(names: frozenset[str]) -> Any:
    """A lifespan for ``launch(app_kwargs={"lifespan": ...})`` that puts ``HostGuard``
    outside every other middleware of the app, before the server takes a request (Gradio
    adds its CORS middleware outside any given to the app's constructor)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        # Starlette builds the middleware stack on the first call, which is this lifespan's.
        app.middleware_stack = HostGuard(app.middleware_stack, names)
        yield

    return lifespan
