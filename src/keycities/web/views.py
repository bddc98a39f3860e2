"""The HTML pages: one route per view, each also serving its JSON and its tables.

Every page answers ``?format=json`` with its payload and
``?table=NAME&format=csv|xlsx|parquet`` with one of its tables, from the same
:class:`~keycities.web.page.Page` that the HTML is rendered from.  Finished
pages are cached by URL (the store is read-only while the app runs); a page
whose background job is still running is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from keycities.analysis.testbed.outcomes import get_outcome
from keycities.errors import KeycitiesError
from keycities.geography.names import PlaceNotInVintageError
from keycities.present.tables import MEDIA, csv_metadata, table_bytes
from keycities.web.page import Page, about_of, page_html
from keycities.web.pages import (
    claims_page,
    compare_page,
    data_page,
    former_place_page,
    network_page,
    place_page,
    places_page,
)
from keycities.web.params import (
    AtQuery,
    DesignQuery,
    Format,
    NetworkPath,
    PlacePath,
    ProductivityQuery,
    Res,
    RolloutQuery,
    TableName,
    TwinQuery,
    query_params,
)
from keycities.web.pilots import design_page, rollout_page
from keycities.web.render import Links
from keycities.web.resources import PLACE_VINTAGE, Resources
from keycities.web.session import current, owner
from keycities.web.tools import productivity_page, testbeds_page, twin_page
from keycities.web.uploads import VISITOR, is_private

router = APIRouter(tags=["pages"])


def respond(request: Request, res: Resources, build: Callable[[], Page],
            fmt: str = "html", table: str | None = None) -> Response:
    """The page built by ``build`` as HTML, JSON or a table download.

    A page whose background job is still running says ``no-store``, so that
    neither the app's cache (:mod:`keycities.web.cache`) nor a browser keeps it.
    Other pages are built once per path and query (``res.pages``) for every format
    and every reader, signed in or not; a register change forgets them.  A page naming
    a network uploaded for the session is never kept (:mod:`keycities.web.uploads`) and,
    like every page shown to a visitor who uploaded, says ``private, no-store``.
    """
    query = sorted((k, v) for k, v in request.query_params.multi_items()
                   if k not in ("format", "table"))
    page = res.pages.get((request.url.path, tuple(query)), build,
                         keep=lambda p: p.job is None)
    response: Response
    if fmt == "json":
        response = JSONResponse(page.payload())
    elif fmt in MEDIA or fmt == "about":
        if not table or table not in page.tables:
            raise KeycitiesError(f"Name a table to download: table={'|'.join(page.tables)}.")
        about = about_of(res, page, table)
        csv_url = str(request.url.include_query_params(format="csv"))
        if fmt == "about":
            return JSONResponse(csv_metadata(page.tables[table].frame, about, csv_url),
                                media_type="application/csvm+json")
        body = table_bytes(page.tables[table].frame, fmt, sheet=table, about=about)
        headers = {"Content-Disposition":
                   f'attachment; filename="{about.filename(table, fmt)}"'}
        if fmt == "csv":
            meta = str(request.url.include_query_params(format="about"))
            headers["Link"] = f'<{meta}>; rel="describedby"; type="application/csvm+json"'
        response = Response(body, media_type=MEDIA[fmt], headers=headers)
    else:
        response = HTMLResponse(page_html(res, page, Links(here=page.path),
                                          session=current(request)))
    if page.job is not None and page.job.status != "done":
        response.headers["Cache-Control"] = "no-store"
    if VISITOR.get() is not None or is_private(str(request.url)):
        # a visitor's own network: the page (or its network picker) is theirs alone
        response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """The Key Cities network page."""
    return RedirectResponse("/network/key-cities", status_code=307)


@router.get("/network", include_in_schema=False)
def network_pick(network: Annotated[str, Query(max_length=100)] = "key-cities",
                 at: AtQuery = None) -> RedirectResponse:
    """The network picker's form: go to the chosen network's page."""
    return RedirectResponse(f"/network/{quote(network)}" + (f"?at={at}" if at else ""),
                            status_code=303)


@router.get("/network/{network}", response_class=HTMLResponse, summary="Network page")
def network(request: Request, res: Res, network: NetworkPath, at: AtQuery = None,
            format: Format = "html", table: TableName = None) -> Response:
    """Headline figures with sources and shares, the member map, membership over time."""
    return respond(request, res, lambda: network_page(res, network, at), format, table)


@router.get("/place", include_in_schema=False)
def place_search(res: Res, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The place box: go to the place page of what was typed."""
    if not q.strip():
        return RedirectResponse("/places", status_code=303)
    with res.ready:
        code = res.context.resolver.resolve(q, vintage=PLACE_VINTAGE).code
    return RedirectResponse(f"/place/{code}", status_code=303)


@router.get("/place/{query}", response_class=HTMLResponse, summary="Place page")
def place(request: Request, res: Res, query: PlacePath, format: Format = "html",
          table: TableName = None) -> Response:
    """A local authority district: profile, series, OAC mix, referendum, peers, twin."""
    with res.ready:
        try:
            place, former = res.context.resolver.resolve(query, vintage=PLACE_VINTAGE), False
        except PlaceNotInVintageError:
            # A district abolished or recoded before: a page of what it was and became.
            place, former = res.context.resolver.resolve(query), True
    if place.code != query:
        url = request.url.replace(path=f"/place/{place.code}")
        return RedirectResponse(str(url), status_code=307)
    if former:
        return respond(request, res, lambda: former_place_page(res, place), format, table)
    return respond(request, res, lambda: place_page(res, place.code), format, table)


@router.get("/places", response_class=HTMLResponse, summary="Every place")
def places(request: Request, res: Res, format: Format = "html",
           table: TableName = None) -> Response:
    """Every local authority district with a page, by region."""
    return respond(request, res, lambda: places_page(res), format, table)


@router.get("/compare", response_class=HTMLResponse, summary="Compare places")
def compare(request: Request, res: Res,
            places: Annotated[list[str], Query(max_length=200, description="Two to eight "
                                               "places (repeat the parameter, or separate "
                                               "with commas).")] = [],  # noqa: B006
            format: Format = "html", table: TableName = None) -> Response:
    """Two or more places side by side, with indexed series."""
    names = [p.strip() for item in places for p in item.split(",") if p.strip()]
    if not names:
        names = ["Sunderland", "Plymouth"]
    return respond(request, res, lambda: compare_page(res, names), format, table)


@router.get("/claims", response_class=HTMLResponse, summary="Claims audit page")
def claims(request: Request, res: Res, format: Format = "html",
           table: TableName = None) -> Response:
    """Each published claim with its verdict and reasons."""
    return respond(request, res, lambda: claims_page(res), format, table)


@router.get("/data", response_class=HTMLResponse, summary="Data & methods")
def data(request: Request, res: Res, format: Format = "html",
         table: TableName = None) -> Response:
    """Every release in the store, attribution, downloads."""
    return respond(request, res, lambda: data_page(res), format, table)


@router.get("/productivity", response_class=HTMLResponse, summary="Productivity calculator")
def productivity(request: Request, res: Res, q: Annotated[ProductivityQuery, Query()],
                 format: Format = "html", table: TableName = None) -> Response:
    """What raising members' productivity to a benchmark would add (the calculator)."""
    params = query_params(q)
    return respond(request, res, lambda: productivity_page(res, params), format, table)


@router.get("/twin", response_class=HTMLResponse, summary="Twinning page")
def twin(request: Request, res: Res, q: Annotated[TwinQuery, Query()],
         format: Format = "html", table: TableName = None) -> Response:
    """Optimal twinning with a map of the pairs and the certificate (postcode districts and
    sectors run in the background, with progress)."""
    params = query_params(q)
    return respond(request, res, lambda: twin_page(res, params, owner=owner(request)), format,
                   table)


@router.get("/testbeds", response_class=HTMLResponse, summary="Testbeds page")
def testbeds(
    request: Request, res: Res,
    treated: Annotated[str | None, Query(max_length=2000, description="PLACE:YEAR, "
                                         "comma-separated.")] = None,
    outcome: Annotated[str, Query(max_length=60, description="An outcome key (see `keycities "
                                  "testbed evaluate --help`).")] = "gva_per_filled_job",
    similar: Annotated[int, Query(ge=5, le=400, description="Donors: the N places whose "
                                  "pre-policy path is closest.")] = 50,
    min_km: Annotated[float | None, Query(ge=0, le=2000, description="Leave out donors "
                                          "closer than this to a treated place.")] = None,
    design: Annotated[bool, Query(description="Also the minimum detectable effect "
                                  "(slower).")] = False,
    format: Format = "html", table: TableName = None,
) -> Response:
    """Synthetic control with placebo inference (in the background), design, transfer."""
    get_outcome(outcome)
    params = {k: v for k, v in {"treated": treated, "outcome": outcome, "similar": similar,
                                "min_km": min_km, "design": design or None}.items()
              if v is not None}
    return respond(request, res, lambda: testbeds_page(res, params, owner=owner(request)),
                   format, table)


@router.get("/testbeds/design", response_class=HTMLResponse, summary="Design a pilot")
def testbeds_design(request: Request, res: Res, q: Annotated[DesignQuery, Query()],
                    format: Format = "html", table: TableName = None) -> Response:
    """Choose the testbeds (in the background): the chosen set on a map, the frontier of
    power against representativeness, and why each candidate is in or out.  The job starts
    once the form is sent (any parameter given)."""
    params = query_params(q)
    run = bool(request.query_params) and set(request.query_params) - {"format", "table"} != set()
    return respond(request, res, lambda: design_page(res, params, owner=owner(request),
                                                     run=run), format, table)


@router.get("/testbeds/rollout", response_class=HTMLResponse, summary="Roll-out")
def testbeds_rollout(request: Request, res: Res, q: Annotated[RolloutQuery, Query()],
                     format: Format = "html", table: TableName = None) -> Response:
    """Evaluate pilots (in the background) and predict the effect of rolling the policy out
    to every other place, with prediction intervals, on a map."""
    params = {k: v for k, v in query_params(q).items() if v is not None}
    return respond(request, res, lambda: rollout_page(res, params, owner=owner(request)),
                   format, table)


class UnknownJobError(KeycitiesError, LookupError):
    """A job id the app does not know (any more)."""


@router.get("/api/jobs/{job_id}", tags=["jobs"], summary="A background job's progress")
def job(res: Res, job_id: Annotated[str, Path(
        max_length=40, description="The job id a page or `/api/twin` gave.")]) -> dict[str, Any]:
    """Status and progress of a background computation started by a page."""
    found = res.jobs.get(job_id)
    if found is None:
        raise UnknownJobError(f"No job {job_id!r} (finished jobs are forgotten after a while; "
                             "reload the page that started it).")
    return found.payload()

