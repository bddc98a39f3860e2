"""The indicator library's routes: pages (HTML, ``?format=json``, table downloads) and API.

The pages are built by :mod:`keycities.web.indicator_pages` and answered by
:func:`keycities.web.views.respond`, as every other page; the API routes under
``/api`` return the same payloads as ``keycities indicators / indicator /
scorecard --format json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from keycities.analysis.indicators.params import WORK_AREA
from keycities.web.indicator_pages import (
    NO_NETWORK,
    SCATTER,
    catalogue_page,
    indicator_page,
    scatter_page,
    scorecard_page,
)
from keycities.web.params import AtQuery, Format, NetworkPath, Res, TableName
from keycities.web.resources import UnknownNetworkError
from keycities.web.views import respond

IndicatorPath = Annotated[str, Path(max_length=100, description="An indicator id (see "
                                    "`/indicators` or `keycities indicators`).")]
AreaQuery = Annotated[str | None, Query(max_length=60, description=WORK_AREA.help)]
SearchQuery = Annotated[str | None, Query(max_length=100, description="Only indicators "
                                          "whose id, label or subtitle contains this text.")]
PeriodQuery = Annotated[str | None, Query(max_length=60, description="Period: ISO "
                                          "(2023-01-01/P1Y), as labelled (2023, 2022 to 2024, "
                                          "2023/24) or a year (default the latest with "
                                          "district values).")]
NetworkQuery = Annotated[str, Query(max_length=100, description="A built-in network whose "
                                    "members are marked, or 'none'.")]
PlaceQuery = Annotated[list[str], Query(max_length=200, description="Places drawn in the "
                                        "time series (repeat, or separate with commas); the "
                                        "first is framed in the map's inset.")]

router = APIRouter(tags=["pages"])
api = APIRouter(tags=["indicators"])


def _network(res: Res, network: str) -> str:
    """``network`` checked: a built-in id or 'none' (404 otherwise, before any work)."""
    if network != NO_NETWORK:
        res.network(network)
    return network


def _places(place: list[str]) -> list[str]:
    return [p.strip() for item in place for p in item.split(",") if p.strip()]


@router.get("/indicators", response_class=HTMLResponse, summary="Indicators by work area")
def indicators(request: Request, res: Res, area: AreaQuery = None, search: SearchQuery = None,
               format: Format = "html", table: TableName = None) -> Response:
    """The indicator library by work area, with a search box (works without scripts)."""
    return respond(request, res, lambda: catalogue_page(res, area=area, search=search),
                   format, table)


@router.get("/indicator/{indicator}", response_class=HTMLResponse, summary="One indicator")
def indicator(request: Request, res: Res, indicator: IndicatorPath,
              network: NetworkQuery = "key-cities", at: AtQuery = None,
              period: PeriodQuery = None,
              place: PlaceQuery = [],  # noqa: B006
              format: Format = "html", table: TableName = None) -> Response:
    """Every district on a map and ranked, England, the network and chosen places over
    time, the distribution, the tables, and the source and caveats."""
    net = _network(res, network)
    return respond(request, res, lambda: indicator_page(
        res, indicator, network=net, at=at, period=period, places=_places(place)),
        format, table)


@router.get("/scatter", response_class=HTMLResponse, summary="Two indicators")
def scatter(request: Request, res: Res,
            x: Annotated[str, Query(max_length=100, description="Indicator across.")] =
            SCATTER[0],
            y: Annotated[str, Query(max_length=100, description="Indicator up.")] =
            SCATTER[1],
            network: NetworkQuery = "key-cities", at: AtQuery = None,
            format: Format = "html", table: TableName = None) -> Response:
    """Two indicators for every district, members highlighted, with the correlation."""
    net = _network(res, network)
    return respond(request, res, lambda: scatter_page(res, x, y, network=net, at=at),
                   format, table)


@router.get("/scorecard/{network}", response_class=HTMLResponse, summary="Scorecard")
def scorecard(request: Request, res: Res, network: NetworkPath, at: AtQuery = None,
              format: Format = "html", table: TableName = None) -> Response:
    """Every indicator by work area against England, members' ranks and significance."""
    if network == NO_NETWORK:
        raise UnknownNetworkError(network)
    res.network(network)
    return respond(request, res, lambda: scorecard_page(res, network, at), format, table)


# ------------------------------------------------------------------ the JSON API


@api.get("/indicators", summary="The indicator library")
def api_indicators(res: Res, area: AreaQuery = None,
                   search: SearchQuery = None) -> dict[str, Any]:
    """Every indicator: id, label, unit, work area, direction, latest period, coverage,
    source (as ``keycities indicators --format json``)."""
    return catalogue_page(res, area=area, search=search).data


@api.get("/indicators/{indicator}", summary="One indicator for every district")
def api_indicator(res: Res, indicator: IndicatorPath, network: NetworkQuery = "key-cities",
                  at: AtQuery = None, period: PeriodQuery = None) -> dict[str, Any]:
    """Every district ranked, members marked, the network's value by the library's rule,
    England and the regions from the source (as ``keycities indicator ID --format json``)."""
    net = _network(res, network)
    data: dict[str, Any] = indicator_page(res, indicator, network=net, at=at,
                                          period=period).data
    return data


@api.get("/scorecard/{network}", summary="A network's scorecard")
def api_scorecard(res: Res, network: NetworkPath, at: AtQuery = None) -> dict[str, Any]:
    """Every indicator by work area against England (as ``keycities scorecard NETWORK
    --format json``)."""
    res.network(network)
    return scorecard_page(res, network, at).data


@api.get("/scatter", summary="Two indicators for every district")
def api_scatter(res: Res,
                x: Annotated[str, Query(max_length=100, description="Indicator across.")],
                y: Annotated[str, Query(max_length=100, description="Indicator up.")],
                network: NetworkQuery = "key-cities", at: AtQuery = None) -> dict[str, Any]:
    """The correlation of two indicators across districts and the periods used."""
    page = scatter_page(res, x, y, network=_network(res, network), at=at)
    return {**{k: v for k, v in page.data.items() if k != "indicators"},
            "points": page.payload()["tables"]["points"]["rows"]}


__all__ = ["api", "router"]
