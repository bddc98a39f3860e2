"""User errors as HTTP answers: JSON ``{"error": message}`` for the API, a page for a page.

Every :class:`~keycities.errors.KeycitiesError` becomes JSON ``{"error":
message}`` (or an HTML page, for a page) with a 4xx status (403 not allowed,
404 for unknown places and networks, 409 for an ambiguous place name, 429 for
too many logins or a second job, 422 otherwise), except a store that is not
built, a source that is unavailable or a full job queue, which are the
server's state rather than the request's fault: 503.  FastAPI's own
validation errors keep their 422.  An unknown path (404) or a method a path does
not answer (405) is a page too, except under ``/api`` or for a client that asks
for JSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from keycities.analysis.indicators.library import UnknownIndicatorError
from keycities.errors import (
    AmbiguousPlaceError,
    KeycitiesError,
    SourceUnavailableError,
    StoreNotBuiltError,
    UnknownPlaceError,
)
from keycities.web.jobs import JobsBusyError, OneJobAtATimeError
from keycities.web.page import Page, page_html
from keycities.web.params import resources_of
from keycities.web.render import Links
from keycities.workspace.accounts import TooManyAttemptsError

TITLES = {403: "Not allowed", 404: "Not found", 409: "Which one?",
          429: "Too many requests", 503: "Not available yet"}
"""The heading of an error page, by status (others: "That cannot be done")."""


def status_of(exc: KeycitiesError) -> int:
    """The HTTP status of a user error (see the module docstring)."""
    if isinstance(exc, StoreNotBuiltError | SourceUnavailableError | JobsBusyError):
        return 503
    if isinstance(exc, TooManyAttemptsError | OneJobAtATimeError):
        return 429
    if isinstance(exc, PermissionError):
        return 403
    if isinstance(exc, AmbiguousPlaceError):
        return 409
    if isinstance(exc, LookupError):
        return 404
    return 422


def error_body(exc: KeycitiesError) -> dict[str, Any]:
    """``{"error": message}``, plus the suggestions or candidates of a place query."""
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, UnknownPlaceError):
        body["suggestions"] = exc.suggestions
    if isinstance(exc, AmbiguousPlaceError):
        body["candidates"] = exc.candidates
    if isinstance(exc, UnknownIndicatorError):
        body["indicators"] = exc.suggestions
    return body


def wants_html(request: Request) -> bool:
    """True for a page request: not under ``/api``, not ``?format=json``, and not from a
    client that asks for JSON rather than HTML (``Accept``)."""
    if request.url.path.startswith("/api") or request.query_params.get(
            "format", "html") != "html":
        return False
    accept = request.headers.get("accept", "")
    return not ("json" in accept and "html" not in accept)


def error_page(request: Request, body: dict[str, Any], status: int) -> HTMLResponse:
    """A user error as an HTML page with the same message as the JSON."""
    page = Page(path=request.url.path.strip("/"), template="error.html",
                title=TITLES.get(status, "That cannot be done"), data=body)
    html = page_html(resources_of(request), page, Links(here=page.path))
    return HTMLResponse(html, status_code=status)


async def _keycities_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KeycitiesError)
    if wants_html(request):
        return error_page(request, error_body(exc), status_of(exc))
    return JSONResponse(error_body(exc), status_code=status_of(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_html(request):
        parts = [f"{'.'.join(str(x) for x in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return error_page(request, {"error": "Invalid parameters. " + "; ".join(parts)}, 422)
    return await request_validation_exception_handler(request, exc)


HTTP_MESSAGES = {404: "There is no page at this address. The menu above lists every page.",
                 405: "This address does not answer that kind of request."}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (an unknown path, a method not allowed): a page for a page,
    FastAPI's JSON otherwise."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request) and exc.status_code in HTTP_MESSAGES:
        page = error_page(request, {"error": HTTP_MESSAGES[exc.status_code]},
                          exc.status_code)
        if exc.headers:
            page.headers.update(exc.headers)
        return page
    return await http_exception_handler(request, exc)


def add_error_handlers(app: FastAPI) -> None:
    """Answer user errors and invalid parameters as described in the module docstring."""
    app.add_exception_handler(KeycitiesError, _keycities_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
