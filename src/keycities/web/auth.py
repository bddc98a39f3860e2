"""Signing in, and the pages that change things: the register, proposals, history, accounts.

Every change is a POST from a form carrying the session's CSRF token; the
session cookie is HttpOnly and SameSite=Strict (Secure when served over
HTTPS).  A POST is refused - 403 with the reason - without a live session, with
a role too low, without the right CSRF token, or from another origin.
Reads stay public.  After a change the app's caches are emptied, so every page
shows the new register at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlparse

import pandas as pd
from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from keycities.errors import KeycitiesError
from keycities.network.register import BUILTIN
from keycities.network.rules import Resolver
from keycities.web.page import Page, Table, page_html
from keycities.web.params import Res
from keycities.web.render import Links
from keycities.web.resources import Resources
from keycities.web.session import COOKIE, client_address, current
from keycities.workspace import accounts, edits
from keycities.workspace.accounts import AuthError, Session

router = APIRouter(include_in_schema=False)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser form (curl, tests); the CSRF token still has to match
    return urlparse(origin).netloc == request.url.netloc


def require(request: Request, role: str, csrf: str | None) -> Session:
    """The session allowed to make this change, or :class:`AuthError` (403)."""
    s = current(request)
    if s is None:
        raise AuthError("Sign in to make changes (your session may have ended).")
    if not s.user.can(role):
        raise AuthError(f"Your account ({s.user.role}) cannot do this: it needs {role}.")
    if not accounts.same(csrf, s.csrf) or not _same_origin(request):
        raise AuthError("This form has expired or did not come from this site: reload the "
                        "page and try again.")
    return s


def _render(request: Request, res: Resources, page: Page) -> HTMLResponse:
    resp = HTMLResponse(page_html(res, page, Links(here=page.path), session=current(request)))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------ sign in / out


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, res: Res) -> HTMLResponse:
    """The sign-in form."""
    page = Page(path="login", template="login.html", title="Sign in",
                data={"accounts": accounts.has_accounts(res.workspace)})
    return _render(request, res, page)


def _lower_priority() -> None:
    """Run this thread (and the threads Argon2 starts from it) at the lowest CPU priority:
    password checks yield to readers when the machine is busy.  Linux sets a thread's
    nice value by its id; elsewhere this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _checks(request: Request) -> ThreadPoolExecutor:
    """The app's password checkers: ``PASSWORD_CHECKS`` threads at low priority."""
    state = request.app.state
    if getattr(state, "password_checks", None) is None:
        state.password_checks = ThreadPoolExecutor(
            accounts.PASSWORD_CHECKS, thread_name_prefix="password-check",
            initializer=_lower_priority)
    pool: ThreadPoolExecutor = state.password_checks
    return pool


@router.post("/login")
async def login(request: Request, res: Res, name: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=1024)]) -> Response:
    """Count the attempt, check the password, start a session, set the cookie.

    The attempt is counted first (:func:`~keycities.workspace.accounts.reserve`), so
    guesses beyond the limits are refused before any password is checked.  Passwords are
    checked by ``PASSWORD_CHECKS`` threads of their own at the lowest CPU priority (each
    check takes 64 MiB and several CPU threads for half a second); the others wait in
    their queue without holding a thread of the app's pool.
    """
    ws = res.workspace
    attempt = await run_in_threadpool(accounts.reserve, ws, name,
                                      client=client_address(request))
    ok = await asyncio.wrap_future(_checks(request).submit(accounts.verify, attempt,
                                                           password))
    s = await run_in_threadpool(accounts.complete, ws, attempt, ok)
    resp = _back("/edit")
    resp.set_cookie(COOKIE, s.token, httponly=True, samesite="strict", path="/",
                    secure=res.context.settings.secure_cookies or request.url.scheme == "https",
                    max_age=accounts.SESSION_HOURS * 3600)
    return resp


@router.post("/logout")
def logout(request: Request, res: Res, csrf: Annotated[str, Form(max_length=100)] = ""
           ) -> Response:
    """End the session."""
    s = current(request)
    if s is not None and accounts.same(csrf, s.csrf):
        accounts.logout(res.workspace, s.token)
    resp = _back("/")
    resp.delete_cookie(COOKIE, path="/")
    return resp


# ------------------------------------------------------------------ the register


def _resolver(res: Resources) -> Resolver:
    with res.ready:
        return res.context.resolver


def proposal_link(proposal: dict[str, Any]) -> str:
    """The page a saved proposal opens: its parameters as the page's query (a list as
    comma-separated values, as the forms take them; nested values are left out)."""
    query = {}
    for key, value in proposal["params"].items():
        if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            value = ",".join(str(v) for v in value)
        if value not in (None, "", False) and not isinstance(value, dict | list):
            query[str(key)] = str(value)
    page = "/twin" if proposal["kind"] == "twinning" else "/testbeds"
    return page + "?" + urlencode(query)


@router.get("/edit", response_class=HTMLResponse)
def edit_home(request: Request, res: Res) -> HTMLResponse:
    """What a signed-in editor can change."""
    page = Page(path="edit", template="edit_home.html", title="Edit",
                data={"networks": list(BUILTIN),
                      "proposals": [{**p, "link": proposal_link(p)}
                                    for p in edits.proposals(res.workspace)]})
    return _render(request, res, page)


@router.get("/edit/{network}", response_class=HTMLResponse)
def edit_network(request: Request, res: Res, network: Annotated[str, Path(max_length=100)]
                 ) -> HTMLResponse:
    """The member register of a network, with a form per row and one to add."""
    net = res.network(network)
    s = current(request)
    if s is not None and s.user.can("editor"):
        edits.seed(res.workspace, net)
    rows = edits.register_rows(res.workspace, net)
    page = Page(path=f"edit/{network}", template="edit_network.html",
                title=f"{net.name}: member register",
                data={"network": network, "name": net.name, "rows": rows})
    return _render(request, res, page)


@router.post("/edit/{network}/add")
def add_member(request: Request, res: Res, network: Annotated[str, Path(max_length=100)],
               csrf: Annotated[str, Form(max_length=100)] = "",
               code: Annotated[str, Form(max_length=20)] = "",
               as_published: Annotated[str, Form(max_length=200)] = "",
               joined: Annotated[str, Form(max_length=20)] = "",
               left: Annotated[str, Form(max_length=20)] = "",
               joined_basis: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Add a membership."""
    s = require(request, "editor", csrf)
    net = res.network(network)
    edits.add_membership(res.workspace, net, {
        "code": code, "as_published": as_published, "joined": joined, "left": left,
        "joined_basis": joined_basis}, user=s.user.name, resolver=_resolver(res))
    res.changed()
    return _back(f"/edit/{quote(network)}")


@router.post("/edit/{network}/{mid}")
def update_member(request: Request, res: Res, network: Annotated[str, Path(max_length=100)],
                  mid: int, csrf: Annotated[str, Form(max_length=100)] = "",
                  joined: Annotated[str, Form(max_length=20)] = "",
                  left: Annotated[str, Form(max_length=20)] = "",
                  left_basis: Annotated[str, Form(max_length=500)] = "",
                  action: Annotated[str, Form(max_length=10)] = "save") -> Response:
    """Change a membership's dates (``action=save``) or remove it (``action=delete``)."""
    s = require(request, "editor", csrf)
    net = res.network(network)
    if action == "delete":
        edits.delete_membership(res.workspace, net, mid, user=s.user.name)
    else:
        edits.update_membership(res.workspace, net, mid, {
            "joined": joined, "left": left, "left_basis": left_basis},
            user=s.user.name, resolver=_resolver(res))
    res.changed()
    return _back(f"/edit/{quote(network)}")


# ------------------------------------------------------------------ proposals


MAX_DEPTH = 8
"""Nesting a proposal's parameters may have (the forms' own go one level deep)."""
MAX_NUMBER = 10**15


def proposal_params(text: str) -> dict[str, Any]:
    """A proposal's parameters: a JSON object of at most :data:`MAX_DEPTH` levels whose
    numbers are finite and under :data:`MAX_NUMBER` in size, or a :class:`KeycitiesError`."""
    try:
        values = json.loads(text)
    except (ValueError, RecursionError):  # bad JSON, an over-long integer, deep nesting
        raise KeycitiesError("The proposal's parameters are not valid JSON (or are nested "
                             f"deeper than {MAX_DEPTH} levels).") from None
    if not isinstance(values, dict):
        raise KeycitiesError("The proposal's parameters must be an object.")
    todo: list[tuple[Any, int]] = [(values, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise KeycitiesError(f"The proposal's parameters are nested deeper than "
                                 f"{MAX_DEPTH} levels.")
        if isinstance(value, dict | list):
            todo += [(v, depth + 1) for v in (value.values() if isinstance(value, dict)
                                              else value)]
        elif isinstance(value, int | float) and not isinstance(value, bool) and not (
                abs(value) < MAX_NUMBER):  # also false for NaN
            raise KeycitiesError(f"The proposal's parameters hold a number out of range "
                                 f"(at most {MAX_NUMBER:.0e} in size).")
    return values


@router.post("/proposals")
def save_proposal(request: Request, res: Res, csrf: Annotated[str, Form(max_length=100)] = "",
                  kind: Annotated[str, Form(max_length=20)] = "",
                  name: Annotated[str, Form(max_length=200)] = "",
                  params: Annotated[str, Form(max_length=10_000)] = "{}") -> Response:
    """Save the parameters of a twinning or a testbed under a name."""
    s = require(request, "editor", csrf)
    values = proposal_params(params)
    edits.save_proposal(res.workspace, kind, name, values, user=s.user.name)
    return _back("/edit")


@router.post("/proposals/{pid}/delete")
def delete_proposal(request: Request, res: Res, pid: int,
                    csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Withdraw a proposal."""
    s = require(request, "editor", csrf)
    edits.delete_proposal(res.workspace, pid, user=s.user.name)
    return _back("/edit")


# ------------------------------------------------------------------ history


@router.get("/history", response_class=HTMLResponse)
def history(request: Request, res: Res) -> HTMLResponse:
    """Every change: who, when, what before and after; revert buttons for editors.
    Changes to accounts (names and roles) are shown to admins only."""
    s = current(request)
    admin = s is not None and s.user.can("admin")
    changes = res.workspace.changes(limit=500, hide=() if admin else ("user",))
    frame = pd.DataFrame([{"id": c.id, "at": c.at[:19].replace("T", " "), "user": c.user,
                           "change": c.summary, "before": json.dumps(c.before),
                           "after": json.dumps(c.after),
                           "reverted by": c.reverted_by} for c in changes])
    page = Page(path="history", template="history.html", title="History of changes",
                data={"changes": [vars(c) for c in changes]})
    if len(frame):
        page.tables["changes"] = Table(frame, "Every change, newest first")
    return _render(request, res, page)


@router.post("/history/{change_id}/revert")
def revert(request: Request, res: Res, change_id: int,
           csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Undo one change (recorded as a change of its own)."""
    s = require(request, "editor", csrf)
    edits.revert(res.workspace, change_id, user=s.user.name)
    res.changed()
    return _back("/history")


# ------------------------------------------------------------------ accounts


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, res: Res) -> HTMLResponse:
    """Accounts (admins only)."""
    s = current(request)
    if s is None or not s.user.can("admin"):
        raise AuthError("Only an admin can see the accounts.")
    page = Page(path="admin/users", template="users.html", title="Accounts",
                data={"users": accounts.users(res.workspace), "roles": list(accounts.ROLES)})
    return _render(request, res, page)


@router.post("/admin/users")
def admin_add_user(request: Request, res: Res, csrf: Annotated[str, Form(max_length=100)] = "",
                   name: Annotated[str, Form(max_length=64)] = "",
                   password: Annotated[str, Form(max_length=1024)] = "",
                   role: Annotated[str, Form(max_length=10)] = "viewer") -> Response:
    """Add an account."""
    s = require(request, "admin", csrf)
    accounts.add_user(res.workspace, name, password, role, by=s.user.name)
    return _back("/admin/users")


@router.post("/admin/users/{name}")
def admin_set_user(request: Request, res: Res, name: Annotated[str, Path(max_length=64)],
                   csrf: Annotated[str, Form(max_length=100)] = "",
                   role: Annotated[str, Form(max_length=10)] = "",
                   disabled: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Change an account's role, or disable / enable it."""
    s = require(request, "admin", csrf)
    accounts.set_user(res.workspace, name, by=s.user.name, role=role or None,
                      disabled={"yes": True, "no": False}.get(disabled))
    return _back("/admin/users")
