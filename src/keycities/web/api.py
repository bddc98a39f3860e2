"""The JSON API under ``/api``: one route per CLI result, with the CLI's payloads.

Each route is a thin adapter: it checks and types its parameters
(:mod:`keycities.web.params`), gets the store and cached tables from
:class:`~keycities.web.resources.Resources`, and returns the same plain
payload as ``keycities ... --format json``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from keycities._util.plain import jsonable
from keycities.analysis.places.params import PRESET, Preset
from keycities.analysis.places.peers import peers
from keycities.context import parse_date
from keycities.present.payloads import members_payload
from keycities.web.page import Page
from keycities.web.params import (
    AtQuery,
    DesignQuery,
    NetworkPath,
    PlacePath,
    ProductivityQuery,
    Res,
    RolloutQuery,
    TwinQuery,
    YearQuery,
    query_params,
)
from keycities.web.pilots import design_page, rollout_page
from keycities.web.session import owner
from keycities.web.tools import productivity_page, twin_page


class ErrorBody(BaseModel):
    """A user error: what went wrong and what to do."""

    error: str
    suggestions: list[str] | None = None
    candidates: list[str] | None = None


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
    preset: Annotated[Preset, Query(description=PRESET.help)] = "overall",
    exclude_same_region: Annotated[bool, Query(
        description="Leave out places in the same region.")] = False,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1,
                               description="Seed of the stability perturbations.")] = 0,
) -> dict[str, Any]:
    """Peer group of a place (2023 boundaries) with each feature's part and the
    stability (as ``keycities peers --format json``)."""
    with res.ready:
        place_code = res.context.resolver.resolve(code, vintage=2023).code
    result = peers(res.features(), place_code, weights=preset, k=k,
                   exclude_same_region=exclude_same_region, rng=np.random.default_rng(seed))
    return result.payload()


@router.get("/twin", tags=["analyses"], responses={**BAD, 202: {
    "description": "Postcode places: the job's progress (`limit_seconds`: how long it may "
    "run before it is stopped); ask again when it is done."}},
    summary="Twin councils optimally")
def twin_places(request: Request, res: Res, q: Annotated[TwinQuery, Query()]) -> Any:
    """Pairs of places across divides or alike, with the optimality certificate and the
    pairs as GeoJSON (as ``keycities twin``; the payload of the twinning page)."""
    page = twin_page(res, query_params(q), owner=owner(request))
    if page.job is not None and page.job.status != "done":
        if page.job.status == "failed":
            return JSONResponse({"error": page.job.error}, status_code=422)
        return JSONResponse(page.job.payload(), status_code=202)
    return page.data


def _job_or_data(page: Page) -> Any:
    """A page's data when its job is done; else 202 with the job's progress (422 failed)."""
    if page.job is not None and page.job.status != "done":
        if page.job.status == "failed":
            return JSONResponse({"error": page.job.error}, status_code=422)
        return JSONResponse(page.job.payload(), status_code=202)
    return page.data


JOB = {**BAD, 202: {"description": "The job's progress (`limit_seconds`: how long it may run "
                    "before it is stopped); ask again, or poll `/api/jobs/{id}`, until done."}}


@router.get("/testbeds/choose", tags=["analyses"], responses=JOB,
            summary="Choose the testbeds of a pilot")
def testbeds_choose(request: Request, res: Res, q: Annotated[DesignQuery, Query()]) -> Any:
    """The k testbeds with the most power that represent the roll-out and compare cleanly,
    with the proven bound, the frontier and a reason for every candidate (as ``keycities
    testbed choose --format json``; runs in the background)."""
    return _job_or_data(design_page(res, query_params(q), owner=owner(request)))


@router.get("/testbeds/rollout", tags=["analyses"], responses=JOB,
            summary="Predict a roll-out from pilots")
def testbeds_rollout(request: Request, res: Res, q: Annotated[RolloutQuery, Query()]) -> Any:
    """Pilots (PLACE:YEAR) evaluated, pooled by a random-effects meta-regression, and every
    other place's predicted effect with its interval and the national value (as ``keycities
    testbed rollout --format json``; runs in the background)."""
    if not q.treated:
        return JSONResponse({"error": "Name the pilots: treated=PLACE:YEAR,..."},
                            status_code=422)
    params = {k: v for k, v in query_params(q).items() if v is not None}
    return _job_or_data(rollout_page(res, params, owner=owner(request)))


@router.get("/productivity", tags=["analyses"], responses=BAD,
            summary="Productivity gap uplift of a network")
def productivity(res: Res, q: Annotated[ProductivityQuery, Query()]) -> dict[str, Any]:
    """What raising members' productivity to a benchmark would add, per member and in
    total (as ``keycities productivity --format json``; the calculator page's payload)."""
    return productivity_page(res, query_params(q)).data


@router.get("/claims/audit", tags=["claims"], summary="Audit of the published claims")
def claims_audit(res: Res) -> dict[str, Any]:
    """Every claim in the Key Cities' documents recomputed, with a verdict and its
    reasons (as ``keycities claims audit --format json``)."""
    return res.audit()
