"""A user's own network: one an editor saves in the workspace, or a CSV uploaded for the
session by anyone.

Both are the CLI's network CSV (``place`` and optionally ``joined``, ``left``,
``note``), validated by the CLI's loader
(:func:`keycities.network.loader.network_from_bytes`): a file with any problem
is refused with the loader's message (422), and nothing is kept.  A saved
network is stored in the workspace with its audit record
(:mod:`keycities.workspace.saved_networks`); an upload is held in memory only,
for its visitor (:mod:`keycities.web.uploads`).  Either can then be chosen
wherever a page offers a network.

An upload's body is refused before it is parsed when it is larger than
:data:`MAX_BODY` or does not say its length, so that the form parser never
spools it to a temporary file.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from keycities.errors import KeycitiesError
from keycities.network.loader import Resolver
from keycities.web.auth import _render, _same_origin, require
from keycities.web.page import Page
from keycities.web.params import Res
from keycities.web.resources import Resources
from keycities.web.uploads import COOKIE, MAX_BYTES, TTL, VISITOR, Uploads
from keycities.workspace import saved_networks
from keycities.workspace.accounts import AuthError

router = APIRouter(include_in_schema=False)

MAX_BODY = MAX_BYTES + 8_000
"""Largest form accepted, in bytes: the file and the few short fields beside it."""


class UploadTooLargeError(KeycitiesError):
    """A form too large (or of unknown length) to be read."""


@router.get("/networks/own", response_class=HTMLResponse)
def own_networks(request: Request, res: Res) -> HTMLResponse:
    """Upload a network CSV for this session; editors save one in the workspace."""
    page = Page(path="networks/own", template="own_networks.html", title="Your own network",
                data={"saved": saved_networks.listed(res.workspace),
                      "uploads": [{"id": n.id, "name": n.name,
                                   "members": len(n.memberships)}
                                  for n in res.uploads.of(VISITOR.get())],
                      "max_kb": MAX_BYTES // 1000,
                      "per_visitor": res.uploads.per_visitor})
    resp = _render(request, res, page)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


async def _form(request: Request) -> tuple[bytes, dict[str, str]]:
    """The uploaded file's bytes and the other fields, read in memory only."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_BODY:
        raise UploadTooLargeError(f"The file is too large: a network CSV may be at most "
                                  f"{MAX_BYTES // 1000} kB.")
    form = await request.form(max_files=1, max_fields=10)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise KeycitiesError("Choose a CSV file to upload.")
    data = await file.read(MAX_BYTES + 1)
    await form.close()
    return data, fields


def _resolver(res: Resources) -> Resolver:
    with res.ready:
        return res.context.resolver


@router.post("/networks/upload")
async def upload(request: Request, res: Res) -> Response:
    """Check a network CSV with the CLI's loader and keep it in memory for this visitor."""
    if not _same_origin(request):
        raise AuthError("This form did not come from this site: reload the page and try "
                        "again.")
    data, fields = await _form(request)
    name = fields.get("name", "").strip()[:120] or "My network"
    net = saved_networks.parse(data, "upload", name, _resolver(res))
    visitor = request.cookies.get(COOKIE) or Uploads.new_visitor()
    kept = res.uploads.add(visitor, net)
    resp = RedirectResponse(f"/network/{quote(kept.id)}", status_code=303)
    resp.set_cookie(COOKIE, visitor, httponly=True, samesite="strict", path="/",
                    secure=res.context.settings.secure_cookies or request.url.scheme == "https",
                    max_age=int(TTL))
    return resp


@router.post("/networks/saved")
async def save(request: Request, res: Res) -> Response:
    """An editor saves a network CSV in the workspace under a new id."""
    data, fields = await _form(request)
    s = require(request, "editor", fields.get("csrf", ""))
    network_id = fields.get("id", "").strip()
    saved_networks.save(res.workspace, network_id, fields.get("name", ""), data,
                        _resolver(res), user=s.user.name)
    res.changed()
    return RedirectResponse(f"/network/{quote(network_id)}", status_code=303)


@router.post("/networks/saved/{network}/delete")
async def delete(request: Request, res: Res, network: Annotated[str, Path(max_length=100)]
                 ) -> Response:
    """An editor deletes a saved network (recorded in the history)."""
    form = await request.form(max_files=0, max_fields=5)
    csrf = form.get("csrf", "")
    s = require(request, "editor", csrf if isinstance(csrf, str) else "")
    saved_networks.delete(res.workspace, network, user=s.user.name)
    res.changed()
    return RedirectResponse("/networks/own", status_code=303)

