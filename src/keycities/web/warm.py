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

from keycities.analysis._members import member_vintage
from keycities.errors import KeycitiesError
from keycities.network.register import Network
from keycities.web.resources import Resources

WARM_URLS = ("/network/key-cities", "/claims")
"""Pages warmed first (the home page, the slowest); then the page of the network's first
member (the place features, which every place page and the places list use), then
:data:`LATER_URLS`, then the network page on each of :func:`other_dates`."""
LATER_URLS = ("/places", "/data", "/productivity", "/scorecard/key-cities")
"""Warmed after the first member's page; the calculator's for the inputs (members'
productivity and labour, the national rows) that every growth value shares, so that a
first view of another value only recomputes the scenario; the network's scorecard (every
indicator), which other dates with the same members share."""

log = logging.getLogger(__name__)


def other_dates(network: Network, today: dt.date | None = None) -> list[str]:
    """One date (the first of a month) for each member list and boundary vintage the
    network has had since its first documented list, today's excepted: the network page of
    any date shares its figures with the date of the same members on the same boundaries
    (the headline, the referendum), so warming these makes every date's first view quick
    (issue 18, point 3)."""
    today = today or dt.date.today()
    start = network.earliest
    if start is None:
        return []
    seen = {_key(network, today)}
    out = []
    month = dt.date(start.year, start.month, 1)
    while month <= today:
        at = max(month, start)
        key = _key(network, at)
        if key not in seen:
            seen.add(key)
            out.append(at.isoformat())
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def _key(network: Network, at: dt.date) -> tuple[object, ...]:
    return (member_vintage(at), tuple(network.members_at(at)["code"]))


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
        try:
            urls += await asyncio.to_thread(lambda: [
                f"/network/key-cities?at={d}" for d in other_dates(res.network("key-cities"))])
        except KeycitiesError as exc:
            log.info("warming: no member list (%s)", exc)
        for url in urls:
            try:
                r = await client.get(url)
                done.append((url, r.status_code))
            except Exception as exc:  # noqa: BLE001 - warming must never stop the app
                log.info("warming %s failed: %s", url, exc)
                done.append((url, 0))
    return done
