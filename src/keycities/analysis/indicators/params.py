"""The indicator library's closed sets, declared once: work areas, direction, combination.

The library file (``library.yaml``) uses these values, the core validates with
them, the CLI takes its option help from them and the web its parameter types
and select labels.  Light on purpose (no data libraries): the CLI imports it to
build ``--help``.
"""

from __future__ import annotations

from typing import Literal

from keycities.analysis._choices import Choice
from keycities.errors import KeycitiesError

WorkArea = Literal[
    "towns-and-urban-centres", "culture", "brexit-and-trade", "health-and-social-care",
    "housing", "young-people-skills-and-education", "transport", "community-cohesion",
    "climate-emergency"]
WORK_AREA: Choice[WorkArea] = Choice(
    WorkArea, "work area",
    "Work area: towns-and-urban-centres, culture, brexit-and-trade, health-and-social-care, "
    "housing, young-people-skills-and-education, transport, community-cohesion or "
    "climate-emergency (a unique beginning will do, e.g. 'health').",
    {"towns-and-urban-centres": "Towns and urban centres", "culture": "Culture",
     "brexit-and-trade": "Brexit and trade", "health-and-social-care": "Health and social care",
     "housing": "Housing",
     "young-people-skills-and-education": "Young people, skills and education",
     "transport": "Transport", "community-cohesion": "Community cohesion",
     "climate-emergency": "Climate emergency"})
"""The nine work areas of the Key Cities brochure (seed document 004), in its order."""

WORK_AREA_AIMS: dict[str, str] = {
    "towns-and-urban-centres": "Embedding inclusivity and an economy that works for all into "
    "national and local economic policy that will help with the recovery and the renewal of "
    "urban centres.",
    "culture": "Maximising the economic impact of the cultural offer of cities.",
    "brexit-and-trade": "Delivering economic opportunities for our cities and communities "
    "after Brexit.",
    "health-and-social-care": "Ensuring the cities and residents voices shape and influences "
    "health and social care.",
    "housing": "Developing innovation to deliver better and more social and affordable "
    "housing.",
    "young-people-skills-and-education": "A better skills system through more local and "
    "integrated delivery in our places. Mainstreaming young people's issues across our cities "
    "and investing in their future.",
    "transport": "Greater influence for cities to improve transport quality and "
    "accessibility, and tackling congestion.",
    "community-cohesion": "Bringing communities together and creating places where people "
    "live together with harmony and mutual respect.",
    "climate-emergency": "Sustainable economic development and maximising opportunities from "
    "the green economy and clean energy.",
}
"""Each work area's aim, in the brochure's words."""

WORK_AREA_LEADS: dict[str, str | None] = dict.fromkeys(map(str, WORK_AREA.values)) | {
    "young-people-skills-and-education": "Kirklees"}
"""The member city that leads each work area, where the documents say so.

The brochure says each area is "led by individual member cities" but names
none.  The one lead it evidences is Kirklees, whose leader is quoted on "the
recent work Kirklees led on around understanding the landscape that our young
people face" (a judgement: led that work, perhaps not the whole area).
"""

LEAD_NOTE = ("The brochure (document 004) says each work area is led by a member city but "
             "does not name them; Kirklees is named as leading the work on young people.")

Direction = Literal["higher_better", "lower_better", "neither"]
DIRECTION: Choice[Direction] = Choice(
    Direction, "direction",
    "Whether a higher value is better (higher_better), worse (lower_better) or neither.",
    {"higher_better": "Higher is better", "lower_better": "Lower is better",
     "neither": "Neither higher nor lower is better"})

Combine = Literal["sum", "ratio", "weighted_mean", "none"]
COMBINE: Choice[Combine] = Choice(
    Combine, "combination rule",
    "How members' values combine into the network's: sum (counts), ratio (ratio of summed "
    "numerator and denominator), weighted_mean (weighted by a count, where the definition "
    "allows) or none (medians, indices, scores: the members' range and median instead).",
    {"sum": "Sum of members' counts", "ratio": "Ratio of summed numerator and denominator",
     "weighted_mean": "Weighted mean", "none": "Not combined: range and median of members"})

Coverage = Literal["lad", "upper_tier", "itl", "region", "other"]
COVERAGE: Choice[Coverage] = Choice(
    Coverage, "coverage",
    "The smallest areas an indicator is published for: lad (every local authority district "
    "of the nations it covers), upper_tier (counties and unitary authorities, not the "
    "districts inside counties), itl (ITL regions only), region (regions and nations only) "
    "or other (another geography).",
    {"lad": "Local authority districts", "upper_tier": "Counties and unitary authorities",
     "itl": "ITL regions only", "region": "Regions and nations only",
     "other": "Another geography"})


def work_area(text: str) -> WorkArea:
    """The work area a person means: its id, its label, or a unique beginning of either.

    Raises
    ------
    KeycitiesError
        When nothing or several areas match; the message lists the areas.
    """
    key = text.strip().lower().replace(" ", "-").replace(",", "")
    labels = {a: WORK_AREA.label(a).lower().replace(" ", "-").replace(",", "")
              for a in WORK_AREA.values}
    exact = [a for a, lab in labels.items() if key in (a, lab)]
    hits = exact or [a for a, lab in labels.items() if a.startswith(key) or lab.startswith(key)]
    if len(hits) == 1:
        return hits[0]
    listed = "; ".join(f"{a} ({WORK_AREA.label(a)})" for a in (hits or WORK_AREA.values))
    what = "matches several work areas" if hits else "is not a work area"
    raise KeycitiesError(f"{text!r} {what}: use one of {listed}.")


__all__ = ["COMBINE", "COVERAGE", "DIRECTION", "LEAD_NOTE", "WORK_AREA", "WORK_AREA_AIMS",
           "WORK_AREA_LEADS", "Combine", "Coverage", "Direction", "WorkArea", "work_area"]
