"""A response cache for a read-only app: every successful GET, kept by its URL.

The app reads the store only, so a page, a download or an API read computed
once can be served again as it was, until the store file is rebuilt or the
register changes (both empty the cache, before serving from it: see ``check``).
Not cached: responses other than 200, responses that say ``Cache-Control:
no-store`` (a page whose background job is still running), bodies over
``MAX_BODY``, and job status.
The least recently used entries go first once there are ``SIZE``.  Every kept response
carries validators, a weak ETag (a digest of its body) and a Last-Modified (when it was
made), and a request whose ``If-None-Match`` (or ``If-Modified-Since``) shows that the
client has it already is answered 304 Not Modified, without a body.  A
signed-in request (one with a session cookie) bypasses the cache both ways:
its pages show the user's name and forms; so does a request from a visitor who
uploaded a network (its pages offer that network).  A response that was being computed
when the cache was emptied is not kept (it may come from the old data).

:class:`SecurityHeaders` adds to every response: a Content-Security-Policy
that allows no script at all and nothing from elsewhere (the OpenAPI UIs at
``/docs`` and ``/redoc`` may run their own scripts, served from this app too),
``frame-ancestors 'none'``, ``nosniff``, and a same-origin referrer policy.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIZE = 512
"""Responses kept."""
MAX_BODY = 4_000_000
"""Largest body kept, in bytes."""
SKIP = ("/api/jobs/", "/static/", "/static-docs/")


class ResponseStore(OrderedDict[str, tuple[int, list[Any], bytes]]):
    """The cached responses (emptied by :meth:`keycities.web.resources.Resources.changed`).

    ``generation`` counts the times it was emptied.
    """

    generation = 0

    def clear(self) -> None:
        """Forget every response; responses being computed now will not be kept."""
        self.generation += 1
        super().clear()


class ResponseCache:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, store: ResponseStore | None = None,
                 size: int = SIZE, check: Callable[[], None] | None = None) -> None:
        self.app = app
        self.size = size
        self.items: ResponseStore = ResponseStore() if store is None else store
        self.check = check
        """Called before each lookup; may empty the cache (a rebuilt store)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET"
                or scope["path"].startswith(SKIP) or _signed_in(scope)):
            await self.app(scope, receive, send)
            return
        if self.check is not None:
            self.check()
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        generation = self.items.generation
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
            await _answer(scope, send, *hit)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            # A response that may be kept is held until it is whole, to be sent with its
            # validators; one that may not (or grows too large) goes out as it comes.
            nonlocal keep
            if message["type"] == "http.response.start":
                start.update(message)
                said = dict(message.get("headers", []))
                keep = message["status"] == 200 and b"no-store" not in said.get(
                    b"cache-control", b"")
                if not keep:
                    await send(message)
                return
            if message["type"] != "http.response.body" or not keep:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if sum(map(len, chunks)) > MAX_BODY:
                keep = False
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks),
                            "more_body": message.get("more_body", False)})
                chunks.clear()
                return
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = _with_validators(list(start.get("headers", [])), body)
            if self.items.generation == generation:
                self.items[key] = (start["status"], headers, body)
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
            await _answer(scope, send, start["status"], headers, body)

        await self.app(scope, receive, capture)


def _with_validators(headers: list[Any], body: bytes) -> list[Any]:
    """``headers`` with an ETag (a digest of the body: weak, since compression may change
    the bytes on the wire) and a Last-Modified (now: when the response was made)."""
    names = {name.lower() for name, _ in headers}
    out = list(headers)
    if b"etag" not in names:
        out.append((b"etag", f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
                    .encode()))
    if b"last-modified" not in names:
        out.append((b"last-modified", formatdate(time.time(), usegmt=True).encode()))
    return out


async def _answer(scope: Scope, send: Send, status: int, headers: list[Any],
                  body: bytes) -> None:
    """Send a response, or 304 Not Modified (no body) when the client's copy is current:
    its If-None-Match names the ETag, or (without one) its If-Modified-Since is not before
    the Last-Modified."""
    asked = {name: value for name, value in scope.get("headers", [])
             if name in (b"if-none-match", b"if-modified-since")}
    mine = {name.lower(): value for name, value in headers}
    if status == 200 and _current(asked, mine):
        kept = [(n, v) for n, v in headers if n.lower() in _NOT_MODIFIED_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_NOT_MODIFIED_HEADERS = {b"etag", b"last-modified", b"cache-control", b"vary",
                         b"content-location", b"expires"}


def _current(asked: dict[bytes, bytes], mine: dict[bytes, bytes]) -> bool:
    if b"if-none-match" in asked:
        tags = {t.strip().removeprefix(b"W/") for t in asked[b"if-none-match"].split(b",")}
        etag = mine.get(b"etag", b"").removeprefix(b"W/")
        return bool(etag) and (etag in tags or b"*" in tags)
    if b"if-modified-since" in asked and b"last-modified" in mine:
        try:
            since = parsedate_to_datetime(asked[b"if-modified-since"].decode("latin-1"))
            modified = parsedate_to_datetime(mine[b"last-modified"].decode("latin-1"))
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


def _signed_in(scope: Scope) -> bool:
    """True for a signed-in request, or one from a visitor who uploaded a network (its
    pages offer that network: see :mod:`keycities.web.uploads`)."""
    for name, value in scope.get("headers", []):
        if name == b"cookie" and (b"kc_session=" in value or b"kc_upload=" in value):
            return True
    return False


CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
DOCS_ASSETS = "/static-docs"
"""Where Swagger UI's and ReDoc's own files are served (from the fastapi-offline package)."""
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in ("/docs", "/redoc") else CSP

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if h[0] not in {k for k, _ in HEADERS}]
                message = {**message, "headers": [*headers, *HEADERS,
                                                  (b"content-security-policy", csp.encode())]}
            await send(message)

        await self.app(scope, receive, add)
