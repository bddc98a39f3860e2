"""The JSON API under ``/api``: one route per CLI result, with the CLI's payloads.

Each route is a thin adapter: it checks and types its parameters, gets the
store and cached tables from :class:`keycities.web.app.Resources`, and returns
the same plain payload as ``keycities ... --format json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from keycities._util.plain import jsonable
from keycities.context import parse_date
from keycities.web.app import Resources


class ErrorBody(BaseModel):
    """A user error: what went wrong and what to do."""

    error: str
    suggestions: list[str] | None = None
    candidates: list[str] | None = None


def _resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


Res = Annotated[Resources, Depends(_resources)]
NetworkPath = Annotated[str, Path(description="A built-in network id, e.g. 'key-cities'.",
                                  max_length=100)]
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
"""The membership dates the web accepts (the CLI takes any)."""
AtQuery = Annotated[dt.date | None, Query(
    ge=EARLIEST, le=LATEST, description="Membership date, YYYY-MM-DD, 1990 to 2100 "
    "(default today).")]
YearQuery = Annotated[int | None, Query(
    ge=1990, le=2100, description="Data year (default: the latest each figure has).")]
PlacePath = Annotated[str, Path(description="A place name or GSS code.", max_length=200)]

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown place or network."},
    409: {"model": ErrorBody, "description": "Ambiguous place name."},
}
BAD: dict[int | str, dict[str, Any]] = {
    **ERRORS, 422: {"description": "Invalid or impossible parameters: `{\"error\": ...}` for "
                    "a keycities error, FastAPI's `{\"detail\": [...]}` for a type or bound."}}

router = APIRouter()


@router.get("/releases", tags=["provenance"], summary="Every release in the store")
def releases(res: Res) -> dict[str, Any]:
    """The provenance of every number: one row per official release loaded."""
    cols = ["id", "source", "publisher", "title", "url", "published", "reference_period",
            "licence", "sha256"]
    df = res.releases()[cols].copy()
    # DuckDB DATE arrives as a pandas timestamp: publish it as the date it is.
    df["published"] = pd.to_datetime(df["published"]).dt.date
    return {"count": len(df), "data": jsonable(df)}


@router.get("/networks/{network}/members", tags=["networks"], responses=ERRORS,
            summary="Members of a network on a date")
def network_members(res: Res, network: NetworkPath, at: AtQuery = None) -> dict[str, Any]:
    """Members on ``at`` with their join and leave dates and bases (as
    ``keycities network show --format json``)."""
    from keycities.cli.reporting import members_payload

    _, payload = members_payload(res.network(network), parse_date(at), res.lad_names())
    return jsonable(payload)


@router.get("/networks/{network}/headline", tags=["networks"], responses=BAD,
            summary="Headline figures of a network")
def headline(res: Res, network: NetworkPath, at: AtQuery = None,
             year: YearQuery = None) -> dict[str, Any]:
    """Population, jobs, GVA and businesses of the members, with shares of GB/UK
    (as ``keycities headline --format json``)."""
    result: dict[str, Any] = res.headline(network, parse_date(at), year)
    return result


@router.get("/places/{query}", tags=["places"], responses=ERRORS, summary="Resolve a place")
def place(res: Res, query: PlacePath, vintage: Annotated[int | None, Query(
        ge=1990, le=2100, description="Boundary vintage (year).")] = None) -> dict[str, Any]:
    """What people write ("Hull", "BCP", a GSS code) resolved to a local authority
    district; an unknown name gives 404 with the closest names."""
    with res.ready:
        found = res.context.resolver.resolve(query, vintage=vintage)
    return jsonable(dataclasses.asdict(found))


@router.get("/places/{code}/peers", tags=["places"], responses=BAD,
            summary="Nearest-neighbour peers of a place")
def place_peers(
    res: Res, code: PlacePath,
    k: Annotated[int, Query(ge=1, le=100, description="How many peers.")] = 15,
    preset: Annotated[Literal["overall", "economic", "demographic"], Query(
        description="Feature weights.")] = "overall",
    exclude_same_region: Annotated[bool, Query(
        description="Leave out places in the same region.")] = False,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1,
                               description="Seed of the stability perturbations.")] = 0,
) -> dict[str, Any]:
    """Peer group of a place (2023 boundaries) with each feature's part and the
    stability (as ``keycities peers --format json``)."""
    import numpy as np

    from keycities.analysis.places.peers import peers

    with res.ready:
        place_code = res.context.resolver.resolve(code, vintage=2023).code
    result = peers(res.features(), place_code, weights=preset, k=k,
                   exclude_same_region=exclude_same_region, rng=np.random.default_rng(seed))
    return result.payload()


class TwinQuery(BaseModel):
    """Twinning parameters (as ``keycities twin``)."""

    places: Literal["lad", "district", "sector"] = Field(
        "lad", description="Local authority districts (2023), or postcode districts or "
        "sectors (these run in the background: poll `/api/jobs/{id}`).")
    mode: Literal["bridge", "bond", "mixed"] = Field(
        "bridge", description="bridge (contrast), bond (alike) or mixed.")
    contrast: str | None = Field(None, max_length=500, description="Features to contrast, "
                                 "comma-separated (default leave_share,gva_per_job,earnings).")
    similar: str | None = Field(None, max_length=500, description="Features to keep alike, "
                                "comma-separated (default population).")
    min_km: float | None = Field(None, ge=0, le=2000, description="Pairs at least this far "
                                 "apart.")
    max_km: float | None = Field(None, ge=0, le=2000, description="Pairs at most this far "
                                 "apart.")
    different: Literal["region", "nation"] | None = Field(
        None, description="Pair only across regions or nations.")
    network: str | None = Field(None, max_length=100, description="A built-in network whose "
                                "members on `at` are paired.")
    at: dt.date | None = Field(None, ge=EARLIEST, le=LATEST, description="Membership date, "
                               "YYYY-MM-DD, 1990 to 2100 (default today).")
    within: bool = Field(False, description="With `network`: pair members with each other "
                         "(default: with non-members).")
    uk: bool = Field(False, description="Include Northern Ireland (default GB).")


class ProductivityQuery(BaseModel):
    """Productivity-gap parameters (as ``keycities productivity``)."""

    network: str = Field("key-cities", max_length=100, description="A built-in network id.")
    at: dt.date | None = Field(None, ge=EARLIEST, le=LATEST, description="Membership date, "
                               "YYYY-MM-DD, 1990 to 2100 (default today).")
    year: int | None = Field(None, ge=1990, le=2100, description="Base year (default: the "
                             "latest).")
    measure: Literal["job", "hour"] = Field("job", description="GVA per filled job or per "
                                            "hour worked.")
    benchmark: Literal["england", "england-ex-london", "uk", "region"] = Field(
        "england", description="The productivity members are raised to.")
    benchmark_basis: Literal["totals", "smoothed"] = Field(
        "totals", description="totals: total GVA / total labour, unsmoothed; smoothed: from "
        "ONS's smoothed ratios.")
    region: str | None = Field(None, max_length=100, description="The region, with "
                               "benchmark=region (e.g. 'North West').")
    horizon: int = Field(10, ge=1, le=100, description="Years to add up.")
    path: Literal["immediate", "linear", "exponential"] = Field(
        "immediate", description="How the gap closes.")
    converge_years: int | None = Field(None, ge=1, le=100, description="Years to close the "
                                       "gap (default the horizon).")
    growth: float = Field(0.0, ge=-0.5, le=0.5, description="Yearly growth g, e.g. 0.02.")
    negative: bool = Field(False, description="Members above the benchmark count negative "
                           "(default zero).")


def query_params(model: BaseModel) -> dict[str, Any]:
    """A query model's values (defaults filled in), as plain data."""
    return jsonable(model.model_dump())


@router.get("/twin", tags=["analyses"], responses={**BAD, 202: {
    "description": "Postcode places: the job's progress (`limit_seconds`: how long it may "
    "run before it is stopped); ask again when it is done."}},
    summary="Twin councils optimally")
def twin_places(request: Request, res: Res, q: Annotated[TwinQuery, Query()]) -> Any:
    """Pairs of places across divides or alike, with the optimality certificate and the
    pairs as GeoJSON (as ``keycities twin``; the payload of the twinning page)."""
    from fastapi.responses import JSONResponse

    from keycities.web.tools import twin_page
    from keycities.web.views import owner

    page = twin_page(res, query_params(q), owner=owner(request))
    if page.job is not None and page.job.status != "done":
        if page.job.status == "failed":
            return JSONResponse({"error": page.job.error}, status_code=422)
        return JSONResponse(page.job.payload(), status_code=202)
    return page.data


@router.get("/productivity", tags=["analyses"], responses=BAD,
            summary="Productivity gap uplift of a network")
def productivity(res: Res, q: Annotated[ProductivityQuery, Query()]) -> dict[str, Any]:
    """What raising members' productivity to a benchmark would add, per member and in
    total (as ``keycities productivity --format json``; the calculator page's payload)."""
    from keycities.web.tools import productivity_page

    return productivity_page(res, query_params(q)).data


@router.get("/claims/audit", tags=["claims"], summary="Audit of the published claims")
def claims_audit(res: Res) -> dict[str, Any]:
    """Every claim in the Key Cities' documents recomputed, with a verdict and its
    reasons (as ``keycities claims audit --format json``)."""
    return res.audit()
