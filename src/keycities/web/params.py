"""What routes take: the application's resources and the parameters shared by routes.

Each parameter is declared once, as an ``Annotated`` alias or a query model,
with its bounds and its help text (shown in ``/openapi.json``), and used by
the JSON API, the pages and the static export alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field

from keycities._util.plain import jsonable
from keycities.analysis.places.params import PLACE_SET, PlaceSetName
from keycities.analysis.productivity.params import (
    BASIS,
    BENCHMARK,
    DEFAULT_BASIS,
    GROWTH_PERCENT,
    MEASURE,
    PATH,
    Basis,
    Benchmark,
    ConvergencePath,
    Measure,
)
from keycities.analysis.twinning.spec import (
    BAND_SD,
    DIFFERENT,
    MAX_KM,
    MODE,
    Different,
    Mode,
)
from keycities.web.resources import Resources


def resources_of(request: Request) -> Resources:
    """The resources of the application serving ``request``."""
    res: Resources = request.app.state.resources
    return res


Res = Annotated[Resources, Depends(resources_of)]
NetworkPath = Annotated[str, Path(
    description="A network id: built in (e.g. 'key-cities'), saved in the workspace, or "
    "uploaded in this session.", max_length=100)]
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
"""The membership dates the web accepts (the CLI takes any)."""
AtQuery = Annotated[dt.date | None, Query(
    ge=EARLIEST, le=LATEST, description="Membership date, YYYY-MM-DD, 1990 to 2100 "
    "(default today).")]
YearQuery = Annotated[int | None, Query(
    ge=1990, le=2100, description="Data year (default: the latest each figure has).")]
PlacePath = Annotated[str, Path(description="A place name or GSS code.", max_length=200)]
Format = Annotated[Literal["html", "json", "csv", "xlsx", "parquet", "about"], Query(
    description="html (default), json (the page's payload), a table's download format "
    "(with `table`), or `about`: the table's description (title, place, dates, sources, "
    "licence) as W3C CSV on the Web metadata for its CSV.")]
TableName = Annotated[str | None, Query(max_length=50, description="With a download format: "
                                        "which of the page's tables.")]


class TwinQuery(BaseModel):
    """Twinning parameters (as ``keycities twin``)."""

    places: PlaceSetName = Field(
        "lad", description=f"{PLACE_SET.help} (postcode places run in the background: poll "
        "`/api/jobs/{id}`).")
    mode: Mode = Field("bridge", description=MODE.help)
    contrast: str | None = Field(None, max_length=500, description="Features to contrast, "
                                 "comma-separated (default leave_share,gva_per_job,earnings).")
    similar: str | None = Field(None, max_length=500, description="Features to keep alike, "
                                "comma-separated (default population).")
    min_km: float | None = Field(None, ge=0, le=MAX_KM, description="Pairs at least this far "
                                 "apart.")
    max_km: float | None = Field(None, ge=0, le=MAX_KM, description="Pairs at most this far "
                                 "apart.")
    different: Different | None = Field(None, description=DIFFERENT.help)
    band: float | None = Field(None, gt=0, le=10, description="Pairs at most this many "
                               f"standard deviations apart on each similar feature (default "
                               f"{BAND_SD:g}).")
    keep_imputed: bool = Field(False, description="Keep places whose features have no "
                               "published value (imputed, flagged).")
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
    measure: Measure = Field("job", description=MEASURE.help)
    benchmark: Benchmark = Field("england", description=BENCHMARK.help)
    benchmark_basis: Basis = Field(DEFAULT_BASIS, description=BASIS.help)
    region: str | None = Field(None, max_length=100, description="The region, with "
                               "benchmark=region (e.g. 'North West').")
    horizon: int = Field(10, ge=1, le=100, description="Years to add up.")
    path: ConvergencePath = Field("immediate", description=PATH.help)
    converge_years: int | None = Field(None, ge=1, le=100, description="Years to close the "
                                       "gap (default the horizon).")
    growth: float = Field(0.0, ge=GROWTH_PERCENT[0], le=GROWTH_PERCENT[1],
                          description="Yearly growth in % a year, e.g. 2 for 2%.")
    negative: bool = Field(False, description="Members above the benchmark count negative "
                           "(default zero).")


class DesignQuery(BaseModel):
    """Design-a-pilot parameters (as ``keycities testbed choose``)."""

    outcome: str = Field("gva_per_filled_job", max_length=60, description="An outcome key "
                         "(see `keycities testbed evaluate --help`).")
    k: int = Field(5, ge=1, le=20, description="How many testbeds to choose.")
    candidates: str = Field("key-cities", max_length=100, description="A built-in network "
                            "whose members today may pilot.")
    rollout: str = Field("all", max_length=100, description="Where the policy would go next: "
                         "a built-in network, or all.")
    start: int | None = Field(None, ge=1990, le=2100, description="First policy year of the "
                              "simulated pilot (default: the last 3 years are the post-period).")
    effect: float = Field(0.03, gt=0, le=0.5, description="The effect to detect, as a share "
                          "(0.03 = 3%).")
    require: str | None = Field(None, max_length=500, description="Places that must be "
                                "testbeds, comma-separated.")
    exclude: str | None = Field(None, max_length=500, description="Places that must not be "
                                "testbeds, comma-separated.")
    max_per_region: int | None = Field(None, ge=1, le=20, description="At most this many "
                                       "testbeds in one region.")
    min_km: float | None = Field(None, ge=0, le=MAX_KM, description="No two testbeds closer "
                                 "than this; donors this close to a testbed are left out.")
    min_donors: int = Field(10, ge=2, le=200, description="Comparison places each testbed "
                            "keeps outside the others' min_km zones.")
    max_imbalance: float | None = Field(0.25, gt=0, le=10, description="At most this mean "
                                        "absolute standardised difference from the roll-out "
                                        "(SD; 0.25 is 'balanced').")
    features: str | None = Field(None, max_length=500, description="Features to represent, "
                                 "comma-separated (default population, gva_per_job, earnings, "
                                 "leave_share, postcode_density).")
    similar: int = Field(50, ge=5, le=100, description="Donors: each testbed's N places "
                         "with the closest pre-policy path.")
    grid: int = Field(200, ge=10, le=400, description="Injected effects per place.")


class RolloutQuery(BaseModel):
    """Roll-out parameters (as ``keycities testbed rollout PLACE:YEAR ...``)."""

    treated: str | None = Field(None, max_length=2000, description="The pilots, PLACE:YEAR, "
                                "comma-separated (evaluated first).")
    outcome: str = Field("gva_per_filled_job", max_length=60, description="An outcome key.")
    to: str = Field("all", max_length=100, description="Where the policy would go: a "
                    "built-in network, or all.")
    features: str | None = Field(None, max_length=500, description="Features the effect may "
                                 "depend on (meta-regression moderators), comma-separated.")
    level: float = Field(0.9, gt=0.5, lt=1, description="Level of the prediction intervals.")


def query_params(model: BaseModel) -> dict[str, Any]:
    """A query model's values (defaults filled in), as plain data."""
    return jsonable(model.model_dump())
