"""Who is asking: the signed-in session of a request, and who a job belongs to.

The session cookie is set and ended by :mod:`keycities.web.auth`; pages read
the session here, to show the user's name and forms.
"""

from __future__ import annotations

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


def owner(request: Request) -> str:
    """Who a background job belongs to: the signed-in user, else the client's address."""
    s = current(request)
    if s is not None:
        return f"user:{s.user.name}"
    return f"client:{request.client.host if request.client else 'unknown'}"


def session_context(session: Session | None) -> dict[str, Any]:
    """What templates know about the signed-in user."""
    if session is None:
        return {"user": None, "csrf": ""}
    return {"user": session.user, "csrf": session.csrf}
