"""The web application: a FastAPI factory over a read-only evidence store.

:func:`create_app` builds one application per :class:`~keycities.settings.Settings`
(there is no module-level app or connection).  The application opens the store
read-only on first use and keeps, per application, the connection and the
tables that are slow to build (the place features behind peers and twinning, the
claims audit, results already computed for the same parameters).

Errors: every :class:`~keycities.errors.KeycitiesError` becomes JSON
``{"error": message}`` with a 4xx status (404 for unknown places and networks,
409 for an ambiguous place name, 422 otherwise), except a store that is not
built or a source that is unavailable, which are the server's state rather
than the request's fault: 503.  FastAPI's own validation errors keep their 422.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache, lru_cache
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import keycities
from keycities._impl.context import Context
from keycities._impl.plain import jsonable
from keycities.errors import (
    AmbiguousPlaceError,
    KeycitiesError,
    SourceUnavailableError,
    StoreNotBuiltError,
    UnknownPlaceError,
)
from keycities.network.register import BUILTIN, Network
from keycities.settings import Settings
from keycities.store.store import Store

DESCRIPTION = (
    "Open evidence about networks of UK places (built first for the Key Cities). "
    "Every figure comes from a release listed by `/api/releases`."
)


class UnknownNetworkError(KeycitiesError, LookupError):
    """A network id that is not built in (the web API serves built-in networks only)."""

    def __init__(self, network: str) -> None:
        self.network = network
        super().__init__(f"Unknown network {network!r}. Networks: {', '.join(BUILTIN)}.")


class Resources:
    """The store, the geography and cached results of one application.

    Computations that read the store are serialised by one lock: DuckDB
    connections are shared with care, and a cached table is built once.
    """

    def __init__(self, settings: Settings) -> None:
        self.context = Context(settings, write=False)
        self.lock = threading.RLock()
        self.releases = cache(self._releases)
        self.features = cache(self._features)
        self.audit = cache(self._audit)
        self.headline = lru_cache(maxsize=64)(self._headline)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` holding the store lock."""
        with self.lock:
            return fn(*args, **kwargs)

    @property
    def store(self) -> Store:
        """The store, opened read-only on first use."""
        with self.lock:
            return self.context.store

    def network(self, network_id: str) -> Network:
        """A built-in network (files on the server are not reachable from the web)."""
        if network_id not in BUILTIN:
            raise UnknownNetworkError(network_id)
        return self.context.network(network_id)

    def lad_names(self) -> dict[str, str]:
        """Name of every known LAD code."""
        with self.lock:
            lads = self.context.geography[0]
        return dict(zip(lads["code"], lads["name"], strict=True))

    def _releases(self) -> pd.DataFrame:
        with self.lock:
            return self.context.store.loaded_releases()

    def _features(self) -> Any:
        from keycities.analysis.place_features import place_features

        with self.lock:
            return place_features(self.context.store, "lad")

    def _audit(self) -> dict[str, Any]:
        from keycities.analysis.audit import audit_from_store

        with self.lock:
            return jsonable(audit_from_store(self.context.store).payload())

    def _headline(self, network_id: str, at: dt.date, year: int | None) -> dict[str, Any]:
        from keycities._impl.reporting import headline_payload
        from keycities.analysis.headline import headline_from_store

        net = self.network(network_id)
        with self.lock:
            result = headline_from_store(self.context.store, net, at=at, year=year)
        return jsonable(headline_payload(result))

    def close(self) -> None:
        """Close the store connection."""
        with self.lock:
            self.context.close()


def status_of(exc: KeycitiesError) -> int:
    """The HTTP status of a user error (see the module docstring)."""
    if isinstance(exc, StoreNotBuiltError | SourceUnavailableError):
        return 503
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
    return body


async def _keycities_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KeycitiesError)
    return JSONResponse(error_body(exc), status_code=status_of(exc))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The keycities web application.

    Parameters
    ----------
    settings
        Where the store is (default: from the environment).  The store is
        opened read-only on the first request that needs it.

    Returns
    -------
    fastapi.FastAPI
        The application; its JSON API is under ``/api`` and documented at
        ``/openapi.json`` and ``/docs``.
    """
    from keycities.web.routes import router

    resources = Resources(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        resources.close()

    app = FastAPI(title="keycities", version=keycities.__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.resources = resources
    app.add_exception_handler(KeycitiesError, _keycities_error)
    app.include_router(router, prefix="/api")
    return app
