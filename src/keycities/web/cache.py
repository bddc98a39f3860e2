"""A response cache for a read-only app: every successful GET, kept by its URL.

The store does not change while the app runs, so a page, a download or an API
read computed once can be served again as it was.  Not cached: responses
other than 200, responses that say ``Cache-Control: no-store`` (a page whose
background job is still running), bodies over ``MAX_BODY``, and job status.
The least recently used entries go first once there are ``SIZE``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIZE = 512
"""Responses kept."""
MAX_BODY = 4_000_000
"""Largest body kept, in bytes."""
SKIP = ("/api/jobs/", "/static/")


class ResponseCache:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, size: int = SIZE) -> None:
        self.app = app
        self.size = size
        self.items: OrderedDict[str, tuple[int, list[Any], bytes]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET"
                or scope["path"].startswith(SKIP)):
            await self.app(scope, receive, send)
            return
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
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
                if keep and not message.get("more_body", False):
                    self.items[key] = (start["status"], list(start.get("headers", [])),
                                       b"".join(chunks))
                    while len(self.items) > self.size:
                        self.items.popitem(last=False)
            await send(message)

        await self.app(scope, receive, capture)
