"""The web application: a FastAPI factory over a read-only evidence store.

:func:`create_app` builds one application per :class:`~keycities.settings.Settings`
(there is no module-level app or connection), with its
:class:`~keycities.web.resources.Resources`, and wires the routers: the JSON
API (:mod:`keycities.web.api`) under ``/api``, the pages
(:mod:`keycities.web.views`), signing in and editing (:mod:`keycities.web.auth`),
the error answers (:mod:`keycities.web.errors`) and the middleware (response
cache, security headers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keycities._util.version import VERSION
from keycities.settings import Settings
from keycities.web.api import router as api_router
from keycities.web.auth import router as auth_router
from keycities.web.cache import ResponseCache, SecurityHeaders
from keycities.web.docs import add_docs
from keycities.web.errors import add_error_handlers
from keycities.web.indicator_views import api as indicator_api
from keycities.web.indicator_views import router as indicator_router
from keycities.web.own import router as own_router
from keycities.web.render import SVG_WORKER
from keycities.web.resources import Resources
from keycities.web.uploads import Visitor
from keycities.web.views import router as pages_router
from keycities.web.warm import warm

DESCRIPTION = (
    "Open evidence about networks of UK places (built first for the Key Cities). "
    "Every figure comes from a release listed by `/api/releases`."
)


class DropEmptyQuery:
    """Drop empty query parameters (``?min_km=``) that HTML forms send for blank fields,
    so that a blank field means "default", as it does in the CLI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            kept = [(k, v) for k, v in pairs if v != ""]
            if len(kept) != len(pairs):
                scope = {**scope, "query_string": urlencode(kept).encode("latin-1")}
        await self.app(scope, receive, send)


class HeadAsGet:
    """Answer HEAD as GET without the body (same status and headers, the length of the
    body it would have had), for every route: FastAPI's routes answer GET only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                ended = not message.get("more_body", False)
                message = {"type": "http.response.body", "body": b"",
                           "more_body": not ended}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def create_app(settings: Settings | None = None, *, warm_up: bool = False) -> FastAPI:
    """The keycities web application.

    Parameters
    ----------
    settings
        Where the store is (default: from the environment).  The store is
        opened read-only on the first request that needs it.
    warm_up
        Build what every visitor needs (the network page, the claims audit, the place
        features) in the background as the app starts (:mod:`keycities.web.warm`), so
        that no first visitor waits for it; ``keycities serve`` does, unless
        ``KEYCITIES_WARM=0``.

    Returns
    -------
    fastapi.FastAPI
        The application; its JSON API is under ``/api`` and documented at
        ``/openapi.json`` and ``/docs``.
    """
    resources = Resources(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        SVG_WORKER.start()
        task = asyncio.create_task(warm(app, resources)) if warm_up else None
        app.state.warming = task
        yield
        if task is not None:
            task.cancel()
        checks = getattr(app.state, "password_checks", None)  # made by the first login
        if checks is not None:
            checks.shutdown(wait=False)
        resources.close()

    app = FastAPI(title="keycities", version=VERSION, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    add_docs(app)  # /docs and /redoc, offline
    app.state.resources = resources
    add_error_handlers(app)
    app.include_router(api_router, prefix="/api")
    app.include_router(indicator_api, prefix="/api")
    app.include_router(pages_router)
    app.include_router(indicator_router)
    app.mount("/static", StaticFiles(packages=[("keycities.web", "static")]), name="static")
    app.include_router(auth_router)
    app.include_router(own_router)
    app.add_middleware(ResponseCache, store=resources.responses,
                       check=resources.follow_rebuild)
    app.add_middleware(DropEmptyQuery)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Visitor)
    # Outside the response cache, which keeps bodies as made: compressed per request.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(HeadAsGet)
    return app
