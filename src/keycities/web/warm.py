"""Warming: what every visitor needs, computed when ``keycities serve`` starts.

The first request for the network page, the claims audit or a place page used to take
5-14 s (the geography, the headline figures, the place features, the audit are built on
first use).  :func:`warm` asks the app itself for those pages, in-process through ASGI
(no socket), one after another, in the background: the app answers from its first
second meanwhile, a visitor asking for a page being built waits for that same build
(:class:`~keycities.web.resources.Memo`) rather than starting another, and once warmed
the pages are served from the response cache.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import httpx
from fastapi import FastAPI

from keycities.errors import KeycitiesError
from keycities.web.resources import Resources

WARM_URLS = ("/network/key-cities", "/claims")
"""Pages warmed first (the home page, the slowest); then the page of the network's first
member (the place features, which every place page and the places list use), then
:data:`LATER_URLS`."""
LATER_URLS = ("/places", "/data", "/productivity", "/scorecard/key-cities")
"""Warmed after the first member's page; the calculator's for the inputs (members'
productivity and labour, the national rows) that every growth value shares, so that a
first view of another value only recomputes the scenario; the network's scorecard (every
indicator), which other dates with the same members share."""

log = logging.getLogger(__name__)


async def warm(app: FastAPI, res: Resources) -> list[tuple[str, int]]:
    """Request :data:`WARM_URLS`, one place page and :data:`LATER_URLS` from ``app``, one
    after another; returns (url, status) of each.

    Errors are logged and skipped (a store not built yet is the usual one): warming
    only saves time, it never stops the app.
    """
    done: list[tuple[str, int]] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warm.local",
                                 timeout=None) as client:
        urls = list(WARM_URLS)
        try:
            members = await asyncio.to_thread(
                lambda: res.network("key-cities").members_at(dt.date.today()))
            urls += [f"/place/{code}" for code in members["code"][:1]]
        except KeycitiesError as exc:
            log.info("warming: no member list (%s)", exc)
        urls += LATER_URLS
        for url in urls:
            try:
                r = await client.get(url)
                done.append((url, r.status_code))
            except Exception as exc:  # noqa: BLE001 - warming must never stop the app
                log.info("warming %s failed: %s", url, exc)
                done.append((url, 0))
    return done
