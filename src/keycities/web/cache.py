"""A response cache for a read-only app: every successful GET, kept by its URL.

The app reads the store only, so a page, a download or an API read computed
once can be served again as it was, until the store file is rebuilt or the
register changes (both empty the cache, before serving from it: see ``check``).
Not cached: responses other than 200, responses that say ``Cache-Control:
no-store`` (a page whose background job is still running), bodies over
``MAX_BODY``, and job status.
The least recently used entries go first once there are ``SIZE``.  A
signed-in request (one with a session cookie) bypasses the cache both ways:
its pages show the user's name and forms; so does a request from a visitor who
uploaded a network (its pages offer that network).  A response that was being computed
when the cache was emptied is not kept (it may come from the old data).

:class:`SecurityHeaders` adds to every response: a Content-Security-Policy
that allows no script at all and nothing from elsewhere (the OpenAPI UI at
``/docs``, which loads Swagger UI from its CDN, is the one exception),
``frame-ancestors 'none'``, ``nosniff``, and a same-origin referrer policy.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIZE = 512
"""Responses kept."""
MAX_BODY = 4_000_000
"""Largest body kept, in bytes."""
SKIP = ("/api/jobs/", "/static/")


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
            status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal keep
            if message["type"] == "http.response.start":
                start.update(message)
                headers = dict(message.get("headers", []))
                keep = message["status"] == 200 and b"no-store" not in headers.get(
                    b"cache-control", b"")
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > MAX_BODY:
                    keep = False
                    chunks.clear()
                if (keep and not message.get("more_body", False)
                        and self.items.generation == generation):
                    self.items[key] = (start["status"], list(start.get("headers", [])),
                                       b"".join(chunks))
                    while len(self.items) > self.size:
                        self.items.popitem(last=False)
            await send(message)

        await self.app(scope, receive, capture)


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
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; frame-ancestors 'none'")
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
