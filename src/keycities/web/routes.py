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
from pydantic import BaseModel

from keycities._impl.context import parse_date
from keycities._impl.plain import jsonable
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
AtQuery = Annotated[dt.date | None, Query(
    description="Membership date, YYYY-MM-DD (default today).")]
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
    from keycities._impl.reporting import members_payload

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
    with res.lock:
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

    from keycities.analysis.neighbours import peers

    with res.lock:
        place_code = res.context.resolver.resolve(code, vintage=2023).code
    result = peers(res.features(), place_code, weights=preset, k=k,
                   exclude_same_region=exclude_same_region, rng=np.random.default_rng(seed))
    return result.payload()


@router.get("/twin", tags=["analyses"], responses=BAD, summary="Twin councils optimally")
def twin_places(
    res: Res,
    mode: Annotated[Literal["bridge", "bond", "mixed"], Query(
        description="bridge (contrast), bond (alike) or mixed.")] = "bridge",
    contrast: Annotated[str | None, Query(
        max_length=500, description="Features to contrast, comma-separated (default "
        "leave_share,gva_per_job,earnings).")] = None,
    similar: Annotated[str, Query(max_length=500, description="Features to keep alike, "
                                  "comma-separated.")] = "population",
    min_km: Annotated[float | None, Query(ge=0, le=2000,
                                          description="Pairs at least this far apart.")] = None,
    max_km: Annotated[float | None, Query(ge=0, le=2000,
                                          description="Pairs at most this far apart.")] = None,
    different: Annotated[Literal["region", "nation"] | None, Query(
        description="Pair only across regions or nations.")] = None,
    network: Annotated[str | None, Query(
        max_length=100, description="A built-in network whose members on `at` are paired."
    )] = None,
    at: AtQuery = None,
    within: Annotated[bool, Query(description="With `network`: pair members with each "
                                  "other (default: with non-members).")] = False,
    uk: Annotated[bool, Query(description="Include Northern Ireland (default GB).")] = False,
) -> dict[str, Any]:
    """Pairs of local authority districts (2023) across divides or alike, with the
    optimality certificate and the pairs as GeoJSON (as ``keycities twin``)."""
    from keycities.analysis.place_features import default_contrast
    from keycities.analysis.twinning import GB, TwinSpec, inputs_from_features, twin

    members: frozenset[str] = frozenset()
    if network:
        members = frozenset(res.network(network).members_at(parse_date(at))["code"])
    contrast = contrast if contrast is not None else ",".join(default_contrast("lad"))
    spec = TwinSpec(
        mode=mode, contrast=tuple(f for f in contrast.split(",") if f and mode != "bond"),
        similar=tuple(f for f in similar.split(",") if f and mode != "bridge"),
        min_km=min_km, max_km=max_km, different=different, network=members,
        network_rule=("within" if within else "cross") if network else None)
    countries = None if uk else GB
    result = twin(inputs_from_features(res.features(), countries=countries), spec)
    result.notes.append("Places: local authority districts of 2023"
                        + (f" in {', '.join(countries)}" if countries else "")
                        + "; features standardised over the whole set (see peers).")
    return {**result.payload(), "geojson": jsonable(result.geojson)}


@router.get("/productivity", tags=["analyses"], responses=BAD,
            summary="Productivity gap uplift of a network")
def productivity(
    res: Res,
    network: Annotated[str, Query(max_length=100, description="A built-in network id.")
                       ] = "key-cities",
    at: AtQuery = None,
    year: Annotated[int | None, Query(ge=1990, le=2100,
                                      description="Base year (default: the latest).")] = None,
    measure: Annotated[Literal["job", "hour"], Query(
        description="GVA per filled job or per hour worked.")] = "job",
    benchmark: Annotated[Literal["england", "england-ex-london", "uk", "region"], Query(
        description="The productivity members are raised to.")] = "england",
    benchmark_basis: Annotated[Literal["totals", "smoothed"], Query(
        description="totals: total GVA / total labour, unsmoothed; smoothed: from ONS's "
        "smoothed ratios.")] = "totals",
    region: Annotated[str | None, Query(max_length=100, description="The region, with "
                                        "benchmark=region (e.g. 'North West').")] = None,
    horizon: Annotated[int, Query(ge=1, le=100, description="Years to add up.")] = 10,
    path: Annotated[Literal["immediate", "linear", "exponential"], Query(
        description="How the gap closes.")] = "immediate",
    converge_years: Annotated[int | None, Query(ge=1, le=100, description="Years to close "
                                                "the gap (default the horizon).")] = None,
    growth: Annotated[float, Query(ge=-0.5, le=0.5, description="Yearly growth g, e.g. "
                                   "0.02.")] = 0.0,
    negative: Annotated[bool, Query(description="Members above the benchmark count "
                                    "negative (default zero).")] = False,
) -> dict[str, Any]:
    """What raising members' productivity to a benchmark would add, per member and in
    total (as ``keycities productivity --format json``)."""
    from keycities.analysis.productivity_store import productivity_from_store

    net = res.network(network)
    result = res.run(productivity_from_store, res.store, net, at=parse_date(at),
                     year=year, measure=measure, benchmark=benchmark, region=region,
                     benchmark_basis=benchmark_basis, horizon=horizon, path=path,
                     converge_years=converge_years, growth=growth, negative=negative)
    payload: dict[str, Any] = result.payload()
    return payload


@router.get("/claims/audit", tags=["claims"], summary="Audit of the published claims")
def claims_audit(res: Res) -> dict[str, Any]:
    """Every claim in the Key Cities' documents recomputed, with a verdict and its
    reasons (as ``keycities claims audit --format json``)."""
    return res.audit()
