"""Claims audit: every quantitative claim in the Key Cities' documents, recomputed.

Each claim (``data/claims.yaml``: exact wording, document, date, network,
metric, value, unit, how it is rounded) is recomputed from the store and given
a verdict:

reproduced
    our figure, for some year and release on or before the document's date,
    lies within the claim's tolerance (see :func:`within`);
differs
    no year or release comes within tolerance; the verdict gives our figure,
    the gap, the closest match (year and release) and the likely reasons
    (data year, release revisions, definitions, membership);
cannot be checked
    the document gives a member count but no list, or the data the claim
    needs are not in the store; the verdict says which, and gives a
    reference figure for the nearest documented member list where one helps.

The core (:func:`within`, :func:`judge`) works on plain values and tables;
:func:`audit_from_store` gathers the candidates from a store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, get_args

import pandas as pd
import yaml

from keycities.errors import KeycitiesError

Verdict = Literal["reproduced", "consistent", "differs", "cannot be checked"]
"""``consistent``: a claim worded as a lower bound ("over X") that our figure exceeds
by more than the claim's rounding (the wording holds; the exact figure is not implied)."""
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
Qualifier = Literal["exact", "over", "around", "by-year"]


@dataclass(frozen=True)
class Document:
    """A source document of claims."""

    id: str
    title: str
    date: dt.date
    date_basis: str
    members_stated: int | None


@dataclass(frozen=True)
class Claim:
    """One published figure, word for word, and what it is about."""

    id: str
    document: str
    wording: str
    metric: str
    value: float
    unit: str
    qualifier: Qualifier
    precision: float
    network: dict[str, Any] | None = None
    members_unknown: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def members_known(self) -> bool:
        """True when the claim is about a documented member list (or a national total)."""
        return self.network is not None


@dataclass(frozen=True)
class Candidate:
    """Our figure for a claim from one period and release."""

    value: float
    period: int | None
    release_id: str | None
    label: str
    parts: tuple[tuple[str, float], ...] = ()
    """(member, value) pairs that add up to the total, for membership diagnostics."""
    denominator: float | None = None
    """For shares: what the total is divided by."""


@dataclass
class Finding:
    """The verdict on one claim."""

    claim: Claim
    document: Document
    verdict: Verdict
    ours: Candidate | None = None
    closest: Candidate | None = None
    reasons: list[str] = field(default_factory=list)
    reference: str = ""

    @property
    def gap(self) -> float | None:
        """Our closest figure minus the claimed value."""
        return None if self.closest is None else self.closest.value - self.claim.value

    @property
    def reading(self) -> str:
        """How the claim's wording was read when it was judged."""
        return reading(self.claim)


def reading(claim: Claim) -> str:
    """The reading of a claim's wording that its verdict applies, in words."""
    if claim.qualifier == "over":
        return (f"a lower bound: 'over {fmt(claim.value, claim.unit)}' holds for any figure "
                "above it")
    step = fmt(claim.precision, claim.unit)
    if claim.qualifier == "by-year":
        return f"a cumulative total, rounded to the nearest {step}"
    return f"a figure rounded to the nearest {step}"


# ---------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metric:
    """How a claim's metric is recomputed.

    ``figure`` is the headline figure it comes from (see
    :data:`keycities.analysis.headline.core.FIGURES`) and ``share`` the share of it,
    when it is one; ``definition`` says how the claim's wording may differ from
    what the data measure.
    """

    figure: str | None = None
    share: str | None = None
    definition: str = ""
    lag: int = 1
    """Years between a period and its first publication (GVA for 2017 is first
    published in December 2018): a document of year Y most likely used Y - lag."""


METRICS: dict[str, Metric] = {
    "member_count": Metric(),
    "population": Metric("population"),
    "population_share_gb": Metric("population", "Great Britain"),
    "jobs": Metric("filled_jobs", lag=2, definition=(
        "definition: we count ONS filled jobs (workplace jobs including the self-employed, "
        "smoothed); 'jobs' may instead be employee jobs (BRES) or Nomis total jobs, "
        "neither of which is in the mirror")),
    "gva": Metric("gva", lag=2),
    "gva_share_uk": Metric("gva", "UK less Extra-Regio", lag=2, definition=(
        "definition: 'the UK economy' may mean UK GVA including Extra-Regio, or GDP; we "
        "divide by UK GVA less Extra-Regio")),
    "businesses": Metric("business_local_units", lag=0, definition=(
        "definition: 'businesses' usually counts enterprises (Nomis UK Business Counts - "
        "enterprises, or ONS Business Demography active enterprises); the store has local "
        "units (sites), which are more numerous because one enterprise can have many sites; "
        "district enterprise counts are in the store for 2022 only")),
    "leave_share": Metric(),
    "uk_leave_share": Metric(),
    "productivity_uplift": Metric(),
}


# ---------------------------------------------------------------------- registry


def load_claims() -> tuple[dict[str, Document], list[Claim]]:
    """The claims registry shipped with keycities (``analysis/data/claims.yaml``)."""
    text = resources.files("keycities.analysis.claims").joinpath("claims.yaml").read_text()
    return parse_claims(yaml.safe_load(text))


def parse_claims(doc: dict[str, Any]) -> tuple[dict[str, Document], list[Claim]]:
    """Validate a claims registry document.

    Raises
    ------
    KeycitiesError
        For a claim that names an unknown document or metric, or lacks a field.
    """
    docs = {str(k): Document(str(k), v["title"], v["date"], v.get("date_basis", ""),
                             v.get("members_stated")) for k, v in doc["documents"].items()}
    known = {"id", "document", "wording", "metric", "value", "unit", "qualifier",
             "precision", "network", "members_unknown"}
    claims = []
    for raw in doc["claims"]:
        missing = {"id", "document", "wording", "metric", "value", "unit", "qualifier",
                   "precision"} - set(raw)
        if missing:
            raise KeycitiesError(f"claim {raw.get('id', '?')}: missing {sorted(missing)}")
        if str(raw["document"]) not in docs:
            raise KeycitiesError(f"claim {raw['id']}: unknown document {raw['document']!r}")
        if raw["metric"] not in METRICS:
            raise KeycitiesError(f"claim {raw['id']}: unknown metric {raw['metric']!r}")
        if ("network" in raw) == ("members_unknown" in raw):
            raise KeycitiesError(f"claim {raw['id']}: give exactly one of network, "
                                 "members_unknown")
        claims.append(Claim(
            raw["id"], str(raw["document"]), raw["wording"], raw["metric"],
            float(raw["value"]), raw["unit"], raw["qualifier"], float(raw["precision"]),
            raw.get("network"), raw.get("members_unknown"),
            {k: v for k, v in raw.items() if k not in known},
        ))
    return docs, claims


# ------------------------------------------------------------------------- core


def within(claimed: float, ours: float, qualifier: Qualifier, precision: float) -> bool:
    """Whether our figure is consistent with a published, rounded one.

    ``exact`` and ``around``: the claim is our figure rounded to ``precision``
    (``|ours - claimed| <= precision / 2``; "around" claims state a coarser
    precision).  ``over``: the wording is a lower bound, so any figure at or
    above it is consistent (``ours >= claimed``); :func:`tight` says whether it
    is also the figure rounded *down*.  ``by-year`` (a cumulative total up to a
    year) is judged like ``exact``.
    """
    if qualifier == "over":
        return ours >= claimed
    return abs(ours - claimed) <= precision / 2 + 1e-12


def tight(claimed: float, ours: float, precision: float) -> bool:
    """Whether a lower-bound claim is our figure rounded down (``claimed <= ours <
    claimed + precision``): the claim then reproduces the figure, not only holds."""
    return claimed <= ours < claimed + precision


def judge(claim: Claim, candidates: list[Candidate], *, reference_period: int | None,
          definition: str = "") -> tuple[Verdict, Candidate | None, Candidate | None, list[str]]:
    """Verdict of a claim about a known member list, from our candidate figures.

    Parameters
    ----------
    claim
        The claim.
    candidates
        Our figure for each (period, release) the document could have used.
    reference_period
        The latest period before the document (what it most likely used).
    definition
        A note on how the claim's definition may differ from the data's.

    Returns
    -------
    (verdict, our figure at the reference period, the closest candidate, reasons)
    """
    if not candidates:
        return "cannot be checked", None, None, ["the store has no data for this metric"]
    ours = _at_period(candidates, reference_period)
    inside = [c for c in candidates
              if within(claim.value, c.value, claim.qualifier, claim.precision)]
    # The closest figure inside the tolerance wins: for "over" claims a figure just
    # below the claimed value can be closer yet outside it.  A lower bound holds for
    # the figure of the year the document most likely used, when that one is inside.
    closest = min(inside or candidates, key=lambda c: abs(c.value - claim.value))
    if claim.qualifier == "over" and ours in inside and not tight(
            claim.value, closest.value, claim.precision):
        closest = ours
    if inside:
        verdict: Verdict = "reproduced"
        if claim.qualifier == "over" and not tight(claim.value, closest.value, claim.precision):
            verdict = "consistent"
        return verdict, ours, closest, reproduced_reasons(claim, candidates, inside, closest)
    periods = sorted({c.period for c in candidates if c.period is not None})
    span = f" ({periods[0]}–{periods[-1]})" if periods else ""
    reasons = [f"closest of {len(candidates)} years/releases searched{span}: {closest.label}"]
    reasons.extend(_revision_reason(candidates, closest, claim))
    if definition:
        reasons.append(definition)
    return "differs", ours, closest, reasons


def membership_hits(claim: Claim, candidates: list[Candidate]) -> dict[str, str]:
    """Members whose omission alone would reproduce the claim, for some candidate.

    For each candidate with per-member parts, drop one member at a time:
    ``total - part`` (or ``(total - part) / denominator`` for shares), and
    keep those within the claim's tolerance.

    Returns
    -------
    dict
        Member -> the closest such figure with its label.
    """
    hits: dict[str, tuple[float, str]] = {}
    for c in candidates:
        total = c.value * c.denominator if c.denominator else c.value
        for member, part in c.parts:
            alt = (total - part) / c.denominator if c.denominator else total - part
            if within(claim.value, alt, claim.qualifier, claim.precision):
                gap = abs(alt - claim.value)
                if member not in hits or gap < hits[member][0]:
                    hits[member] = (gap, f"{fmt(alt, claim.unit)} for {c.label}")
    return {m: text for m, (_, text) in sorted(hits.items(), key=lambda kv: kv[1][0])}


def membership_reason(hits: dict[str, dict[str, str]], claim_id: str) -> str:
    """Whether one missing member explains a document's differing figures.

    Parameters
    ----------
    hits
        Claim id -> :func:`membership_hits` for every differing claim of one
        document that is about a member list.
    claim_id
        The claim to write the reason for.
    """
    mine = hits.get(claim_id, {})
    common = set(mine).intersection(*hits.values()) if hits else set()
    if common and len(hits) > 1:
        who = ", ".join(sorted(common))
        return (f"membership: leaving out {who} reproduces all {len(hits)} differing figures "
                "of this document: it may have used a list without them (not confirmed)")
    if mine:
        first, text = next(iter(mine.items()))
        return (f"membership: leaving out one member can reproduce this figure (e.g. without "
                f"{first}: {text}), but no one member does so for all of this document's "
                "differing figures, so a one-member difference is an unlikely explanation")
    return "membership: no single member's omission reproduces this figure"


def reproduced_reasons(claim: Claim, candidates: list[Candidate], inside: list[Candidate],
                       closest: Candidate) -> list[str]:
    """Why a claim counts as reproduced, and how strongly."""
    ours, claimed, step = (fmt(closest.value, claim.unit), fmt(claim.value, claim.unit),
                           fmt(claim.precision, claim.unit))
    if claim.qualifier != "over":
        out = [f"{closest.label} gives {ours}, which rounded to the nearest {step} is the "
               f"claimed {claimed}"]
    elif tight(claim.value, closest.value, claim.precision):
        out = [f"read as a lower bound, 'over {claimed}' holds: {closest.label} gives {ours}, "
               f"which rounded down to the nearest {step} is the claimed {claimed}"]
    else:
        out = [f"read as a lower bound, 'over {claimed}' holds: {closest.label} gives {ours}, "
               f"above it by {fmt(closest.value - claim.value, claim.unit)} (more than the "
               f"claim's {step} rounding, so the claim does not pin the figure down)"]
    if len(inside) == len(candidates) > 1:
        periods = sorted({c.period for c in candidates if c.period is not None})
        out.append(f"every year and release searched ({periods[0]}–{periods[-1]}) is within "
                   "the claim's tolerance: the claim is too coarse to say which data it used")
    elif len(inside) > 1:
        out.append(f"{len(inside)} of {len(candidates)} years/releases searched are within "
                   "the tolerance")
    return out


def _at_period(candidates: list[Candidate], period: int | None) -> Candidate | None:
    at = [c for c in candidates if c.period == period]
    if not at and candidates:
        at = [max(candidates, key=lambda c: c.period or 0)]
    return at[0] if at else None


def _revision_reason(candidates: list[Candidate], closest: Candidate,
                     claim: Claim) -> list[str]:
    same = [c for c in candidates if c.period == closest.period]
    if len(same) < 2:
        return []
    lo, hi = min(c.value for c in same), max(c.value for c in same)
    if hi - lo <= claim.precision / 2:
        return []
    return [f"releases revise {closest.period}: from {fmt(lo, claim.unit)} to "
            f"{fmt(hi, claim.unit)} depending on the release"]


def fmt(value: float | None, unit: str) -> str:
    """A value in the claim's own style (£bn, millions, percentages)."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.2%}"
    if unit == "£ million":
        return f"£{value / 1000:,.1f}bn"
    if abs(value) >= 1_000_000:
        return f"{value / 1e6:,.2f}m"
    return f"{value:,.0f}"


# ---------------------------------------------------------------- result


@dataclass
class Audit:
    """Findings for every claim, with the releases they rest on."""

    findings: list[Finding]
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """One row per claim: document, wording, claimed, ours, verdict, basis, reasons."""
        return pd.DataFrame([{
            "claim": f.claim.id, "document": f.claim.document, "wording": f.claim.wording,
            "claimed": fmt(f.claim.value, f.claim.unit),
            "ours": fmt(f.closest.value if f.closest else None, f.claim.unit),
            "verdict": f.verdict, "reading": f.reading,
            "basis": f.closest.label if f.closest else "",
            "reasons": "; ".join(f.reasons + ([f.reference] if f.reference else [])),
        } for f in self.findings])

    def payload(self) -> dict[str, Any]:
        """Everything, as plain data (for JSON)."""
        return {
            "count": len(self.findings),
            "verdicts": self.to_frame()["verdict"].value_counts().to_dict(),
            "claims": [_finding_payload(f) for f in self.findings],
            "releases": self.releases,
        }


def _finding_payload(f: Finding) -> dict[str, Any]:
    def cand(c: Candidate | None) -> dict[str, Any] | None:
        return None if c is None else {"value": c.value, "period": c.period,
                                       "release": c.release_id, "label": c.label}

    return {
        "id": f.claim.id, "document": f.claim.document, "document_title": f.document.title,
        "document_date": f.document.date, "wording": f.claim.wording,
        "metric": f.claim.metric, "claimed": f.claim.value, "unit": f.claim.unit,
        "qualifier": f.claim.qualifier, "precision": f.claim.precision,
        "network": f.claim.network, "members_unknown": f.claim.members_unknown,
        "verdict": f.verdict, "reading": f.reading, "ours_at_reference_year": cand(f.ours),
        "closest": cand(f.closest), "gap": f.gap, "reasons": f.reasons,
        "reference": f.reference,
    }


