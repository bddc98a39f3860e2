"""Who is asking: the signed-in session of a request, and who a job belongs to.

The session cookie is set and ended by :mod:`keycities.web.auth`; pages read
the session here, to show the user's name and forms.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Request

from keycities.web.params import resources_of
from keycities.workspace import accounts
from keycities.workspace.accounts import Session

COOKIE = "kc_session"
"""The session cookie's name."""


def current(request: Request) -> Session | None:
    """The request's live session, if any."""
    return accounts.session(resources_of(request).workspace, request.cookies.get(COOKIE))


def client_address(request: Request) -> str:
    """The client's address: the peer's, or - when the peer is a trusted proxy (setting
    ``trusted_proxies``) - the nearest untrusted address of its ``X-Forwarded-For``
    (the right-most, since each proxy appends the address it heard from)."""
    peer = request.client.host if request.client else "unknown"
    proxies = resources_of(request).context.settings.proxies
    if not proxies or not _within(peer, proxies):
        return peer
    chain = [a.strip() for header in request.headers.getlist("x-forwarded-for")
             for a in header.split(",") if a.strip()]
    for address in reversed(chain):
        if not _within(address, proxies):
            return address if _ip(address) else peer
    return peer


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _within(address: str, networks: tuple[Any, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in networks)


def owner(request: Request) -> str:
    """Who a background job belongs to: the signed-in user, else the client's address."""
    s = current(request)
    if s is not None:
        return f"user:{s.user.name}"
    return f"client:{client_address(request)}"


def session_context(session: Session | None) -> dict[str, Any]:
    """What templates know about the signed-in user."""
    if session is None:
        return {"user": None, "csrf": ""}
    return {"user": session.user, "csrf": session.csrf}
