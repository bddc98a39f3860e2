"""The API documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), offline.

Their scripts and styles come from the fastapi-offline package, which ships them, and are
served by this app under :data:`~keycities.web.cache.DOCS_ASSETS`: the pages load nothing
from another host (FastAPI's own pages load them from a CDN, and are blank offline).
ReDoc's bundle names one image on its makers' site (the "API docs by Redocly" logo); it is
served with that address replaced by this app's own icon.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from keycities.web.cache import DOCS_ASSETS

ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI's and ReDoc's files, as the fastapi-offline package ships them."""
ICON = "/static/favicon.svg"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """The JSON API documented and tried in Swagger UI."""
    return get_swagger_ui_html(openapi_url="/openapi.json", title="keycities - the JSON API",
                               swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                               swagger_favicon_url=ICON)


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """The JSON API documented by ReDoc."""
    return get_redoc_html(openapi_url="/openapi.json", title="keycities - the JSON API",
                          redoc_js_url=f"{DOCS_ASSETS}/redoc.js", redoc_favicon_url=ICON,
                          with_google_fonts=False)


@cache
def _redoc_js() -> bytes:
    return (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8").replace(
        REDOC_LOGO, ICON).encode()


@router.get(f"{DOCS_ASSETS}/redoc.js")
def redoc_js() -> Response:
    """ReDoc's bundle, its one outside image replaced by this app's icon."""
    return Response(_redoc_js(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their files (the app is made with ``docs_url`` and
    ``redoc_url`` None)."""
    app.include_router(router)
    app.mount(DOCS_ASSETS, StaticFiles(directory=ASSETS), name="docs-assets")
