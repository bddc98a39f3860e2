"""Networks uploaded for one browser session: held in memory only, never on disk.

Anyone may upload a network CSV (the CLI's format, validated by the same
loader).  It is kept in this process's memory under an unguessable id
(``u-`` and 22 random URL-safe characters, 128 bits), owned by the visitor
whose random ``kc_upload`` cookie made it: another visitor asking for that id
is told no such network exists.  At most :data:`PER_VISITOR` networks per
visitor and :data:`VISITORS` visitors are kept, each for :data:`TTL` seconds
after its last upload; the oldest go first.

Pages naming such an id are private to their visitor: the app's page memo
and its other result memos do not keep them (:data:`PRIVATE`), and the
response cache is bypassed by any request carrying the cookie; the page
itself says ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from contextvars import ContextVar

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from keycities.network.register import Network

COOKIE = "kc_upload"
"""The cookie naming the visitor who uploaded (random, HttpOnly, SameSite=Strict)."""
PREFIX = "u-"
PRIVATE = re.compile(r"(?<![A-Za-z0-9_-])u-[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])")
"""An uploaded network's id wherever it appears (a path, a query, a memo key)."""
MAX_BYTES = 200_000
"""Largest upload, in bytes."""
PER_VISITOR = 5
"""Networks kept per visitor (the oldest is dropped for a sixth)."""
VISITORS = 1000
"""Visitors kept."""
TTL = 4 * 3600.0
"""Seconds a visitor's networks are kept after their last upload."""

VISITOR: ContextVar[str | None] = ContextVar("kc_upload_visitor", default=None)
"""The current request's visitor (its ``kc_upload`` cookie), set by :class:`Visitor`."""


def is_private(text: str) -> bool:
    """True when ``text`` names an uploaded network."""
    return PRIVATE.search(text) is not None


@dataclasses.dataclass
class _Held:
    touched: float
    networks: dict[str, Network]


class Uploads:
    """The uploaded networks of every visitor (see the module docstring); thread-safe."""

    def __init__(self, *, per_visitor: int = PER_VISITOR, visitors: int = VISITORS,
                 ttl: float = TTL) -> None:
        self.per_visitor, self.visitors, self.ttl = per_visitor, visitors, ttl
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    @staticmethod
    def new_visitor() -> str:
        """A fresh random visitor token for the cookie."""
        return secrets.token_urlsafe(24)

    def add(self, visitor: str, net: Network) -> Network:
        """Keep ``net`` for ``visitor`` under a new random id; returns it with that id."""
        kept = dataclasses.replace(net, id=PREFIX + secrets.token_urlsafe(16))
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            held = self._held.pop(visitor, None) or _Held(now, {})
            held.touched = now
            held.networks[kept.id] = kept
            while len(held.networks) > self.per_visitor:
                held.networks.pop(next(iter(held.networks)))
            self._held[visitor] = held
            while len(self._held) > self.visitors:
                self._held.pop(next(iter(self._held)))
        return kept

    def get(self, network_id: str, visitor: str | None) -> Network | None:
        """``visitor``'s network ``network_id``; None for anyone else's or an expired one."""
        if visitor is None:
            return None
        with self._lock:
            self._expire(time.monotonic())
            held = self._held.get(visitor)
            return None if held is None else held.networks.get(network_id)

    def of(self, visitor: str | None) -> list[Network]:
        """``visitor``'s networks, oldest first."""
        if visitor is None:
            return []
        with self._lock:
            self._expire(time.monotonic())
            held = self._held.get(visitor)
            return [] if held is None else list(held.networks.values())

    def _expire(self, now: float) -> None:
        for key in [k for k, h in self._held.items() if now - h.touched > self.ttl]:
            del self._held[key]


class Visitor:
    """ASGI middleware: sets :data:`VISITOR` from the request's ``kc_upload`` cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        visitor = None
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                visitor = cookie_parser(value.decode("latin-1")).get(COOKIE) or visitor
        token = VISITOR.set(visitor)
        try:
            await self.app(scope, receive, send)
        finally:
            VISITOR.reset(token)
