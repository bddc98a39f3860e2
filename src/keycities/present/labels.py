"""Words for people, ids for programs (STYLE.md #21): the one map of column ids to labels.

Tables are built with short ids as column names (``joined_basis``, ``pre_rmspe``,
``annual_uplift``); the JSON payloads keep them.  Everything a person reads --
an HTML table, a chart's data table, a CLI table, a CSV or XLSX download --
takes its heading and its number format from :data:`COLUMNS`: a plain-English
label with its unit, and a *kind* that says how to write the values (years
without a thousands separator, shares as percentages, pounds with their sign).

A column id not listed is written in words by :func:`column` (underscores to
spaces, a capital first), and columns named after places ("Sunderland",
"England") pass through as they are.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from keycities._util.units import is_missing

Kind = Literal["text", "year", "share", "signed_share", "count", "number", "gbp", "km",
               "date", "flag", "release"]
"""How a column's values are written: ``share`` is a fraction shown as a percentage,
``release`` a release id shown with its title, publisher and date where known."""


@dataclass(frozen=True)
class Column:
    """A column's heading for people and how to write its values."""

    label: str
    kind: Kind = "text"


_C = Column
COLUMNS: dict[str, Column] = {
    # places and codes
    "code": _C("ONS code"), "name": _C("Name"), "place": _C("Place"), "region": _C("Region"),
    "country": _C("Country"), "code_a": _C("ONS code (first place)"),
    "code_b": _C("ONS code (second place)"), "name_a": _C("First place"),
    "name_b": _C("Second place"), "series": _C("Series"),
    # time
    "year": _C("Year", "year"), "start": _C("Start year", "year"),
    "fake_start": _C("Pretended start year", "year"), "period": _C("Period"),
    "published": _C("Published", "date"), "reference_period": _C("Reference period"),
    "joined": _C("Joined (date known)", "date"), "member_by": _C("Member by at least", "date"),
    "left": _C("Left", "date"),
    # membership
    "as_published": _C("Name as the network published it"),
    "joined_basis": _C("Evidence for joining"), "left_basis": _C("Evidence for leaving"),
    # figures
    "figure": _C("Figure"), "value": _C("Value", "number"), "unit": _C("Unit"),
    "shares": _C("Share of the nation"), "members counted": _C("Members counted", "count"),
    "release": _C("Release", "release"), "release_id": _C("Release", "release"),
    "release_ids": _C("Releases", "release"), "unavailable": _C("Why unavailable"),
    "feature": _C("Measure"), "imputed": _C("Imputed (no published value)", "flag"),
    "supergroup": _C("OAC supergroup"), "share": _C("Share", "share"),
    # peers and twinning
    "rank": _C("Rank", "count"), "distance": _C("Statistical distance (0 = identical)"),
    "top_features": _C("What makes them close"),
    "imputed_features": _C("Imputed measures"),
    "stability_weights": _C("Kept when the weights change", "share"),
    "stability_drop": _C("Kept when a measure is dropped", "share"),
    "km": _C("Distance (km)", "km"), "why": _C("Why"), "weight": _C("Pair score"),
    # claims
    "id": _C("Id"), "document": _C("Document"), "wording": _C("Wording"),
    "claimed": _C("Claimed", "number"), "ours": _C("Our figure", "number"),
    "from": _C("Our figure's source"), "verdict": _C("Verdict"), "reasons": _C("Reasons"),
    # productivity
    "productivity": _C("Productivity (£ per filled job)", "gbp"),
    "gap": _C("Gap to the benchmark (£ per filled job)", "gbp"),
    "annual_uplift": _C("Uplift a year (£)", "gbp"),
    "cumulative_uplift": _C("Uplift over the period (£)", "gbp"),
    "annual_uplift_bn": _C("Uplift a year (£ billion)"),
    "uplift": _C("Uplift that year (£)", "gbp"), "cumulative_bn": _C("Uplift so far (£ billion)"),
    "estimate": _C("Estimate"), "reason": _C("Reason"),
    # data page
    "source": _C("Source"), "publisher": _C("Publisher"), "title": _C("Title"),
    "url": _C("Address"), "licence": _C("Licence"), "sha256": _C("SHA-256 of the file"),
    # testbeds
    "pre_rmspe": _C("Fit before the start (RMS gap)"),
    "post_rmspe": _C("Gap after the start (RMS)"),
    "effect": _C("Effect", "number"), "relative_effect": _C("Effect (%)", "signed_share"),
    "average_relative_effect": _C("Average effect (%)", "signed_share"),
    "ratio": _C("Post/pre error ratio"), "status": _C("Status"),
    "mde_alone": _C("Smallest detectable effect alone", "share"),
    "z_at_effect": _C("z-score at that effect"), "placebos": _C("Placebos", "count"),
    "donors": _C("Donor places", "count"), "nearest_testbed_name": _C("Nearest testbed"),
    "nearest_testbed": _C("Nearest testbed (code)"),
    "distance_nearest": _C("Statistical distance to the nearest testbed"),
    "distance_centroid": _C("Statistical distance to the testbeds' centre"),
    "coverage": _C("Measures inside the testbeds' range", "share"),
    "extrapolation": _C("Outside the pilots' range", "flag"), "outside": _C("Outside on"),
    "differ": _C("Differs on"), "alike": _C("Alike on"),
    "predicted": _C("Predicted effect (%)", "signed_share"),
    "low": _C("Interval low (%)", "signed_share"), "high": _C("Interval high (%)",
                                                             "signed_share"),
    "pooled": _C("Pooled effect (%)", "signed_share"), "se": _C("Standard error"),
    "injected": _C("Injected effect (%)", "signed_share"),
    "recovered": _C("Recovered effect (%)", "signed_share"), "p_value": _C("Placebo p-value"),
    "power": _C("Power", "share"),
    "ci_low": _C("Interval low"), "ci_high": _C("Interval high"),
    "event_time": _C("Years since the start"),
    "mde_pct": _C("Pooled smallest detectable effect (%)"),
    "imbalance": _C("Imbalance (standard deviations)"),
}
"""Every column id a table shows, with its label (and unit) and how its values are written."""

_YEARISH = ("year",)


def column(col: Any) -> Column:
    """The label and kind of column ``col``: from :data:`COLUMNS`, else in words."""
    key = str(col)
    if key in COLUMNS:
        return COLUMNS[key]
    if key.endswith("_share") or key.endswith(" share"):
        return Column(_words(key), "share")
    if key.endswith("_year") or key.lower() in _YEARISH:
        return Column(_words(key), "year")
    return Column(_words(key))


def _words(key: str) -> str:
    """``"pre_rmspe"`` -> ``"Pre rmspe"``; names with capitals or spaces kept as they are."""
    if "_" not in key and not key.islower():
        return key
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(col: Any) -> str:
    """The heading people read for column ``col``."""
    return column(col).label


def cell(x: Any, kind: Kind = "text", *, releases: dict[str, str] | None = None) -> str:
    """``x`` written for a person as a value of ``kind`` ("–" when missing).

    ``releases``: release id -> a short description, for ``release`` cells.
    """
    if isinstance(x, list | tuple):
        return ", ".join(cell(v, kind, releases=releases) for v in x) if x else "–"
    if is_missing(x):
        return "–"
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, bool):
        return "yes" if x else "no"
    if kind == "release":
        return "; ".join(_release(p.strip(), releases) for p in str(x).split(",") if p.strip())
    if isinstance(x, pd.Timestamp | dt.date):
        return x.isoformat()[:10]
    if not isinstance(x, int | float):
        return str(x)
    return _number(x, kind)


def _release(rid: str, releases: dict[str, str] | None) -> str:
    said = (releases or {}).get(rid)
    return f"{said} ({rid})" if said else rid


def _number(x: float, kind: Kind) -> str:
    if not math.isfinite(x):
        return "–"
    if kind == "year":
        return str(int(x)) if float(x).is_integer() else f"{x:g}"
    if kind == "share":
        return f"{100 * x:.1f}%"
    if kind == "signed_share":
        return f"{100 * x:+.1f}%"
    if kind == "gbp":
        return f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"
    if kind == "count" or (isinstance(x, int) and kind != "km"):
        return f"{x:,}" if abs(x) >= 10000 else str(int(x))
    if kind == "km":
        return f"{x:,.1f}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.4g}" if abs(x) >= 1 else f"{x:.3g}"


def frame_for_people(df: pd.DataFrame, *, percent: bool = True) -> pd.DataFrame:
    """``df`` for a CSV or spreadsheet a person opens: labelled columns, years as whole
    numbers, shares as percentages (``percent``), floats to sensible precision.

    Values stay numbers (so a spreadsheet can add them up); only the headings become
    words.  Two ids with the same label keep both, the second numbered.
    """
    out = pd.DataFrame(index=range(len(df)))
    seen: dict[str, int] = {}
    for col in df.columns:
        spec = column(col)
        values = df[col].reset_index(drop=True)
        name = spec.label
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            values, name = _numbers(values, spec, percent)
        seen[name] = seen.get(name, 0) + 1
        out[name if seen[name] == 1 else f"{name} ({seen[name]})"] = values
    return out


def _numbers(values: pd.Series, spec: Column, percent: bool) -> tuple[pd.Series, str]:
    """A numeric column in sensible precision, and its (maybe re-united) heading."""
    name = spec.label
    if spec.kind == "year":
        whole = values.dropna()
        if (whole == whole.round()).all():
            return values.round().astype("Int64"), name
    if spec.kind in ("share", "signed_share") and percent:
        values = 100 * values
        if "%" not in name:
            name = f"{name} (%)"
        return values.round(2), name
    if pd.api.types.is_float_dtype(values):
        return values.map(_significant), name
    return values, name


def _significant(x: float, digits: int = 6) -> float:
    """``x`` to ``digits`` significant figures, at most 6 decimal places (whole numbers
    above 10^digits kept whole)."""
    if is_missing(x) or x == 0 or not math.isfinite(x):
        return x
    places = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return round(x, min(places, 6))


# ------------------------------------------------------------------ sentences

OPTIMAL_WITHIN = 1e-6
"""A matching whose proven gap is at most this share of its bound is called optimal: the
rest is the solver's arithmetic, not a better matching left unfound."""


def certificate_words(objective: float, bound: float, method: str = "") -> tuple[str, str]:
    """The headline and the detail of an optimality certificate.

    The headline is what a reader needs ("Proven optimal", or how far from optimal
    it may be at most); the solver's numbers (objective, bound, relative gap, method)
    go in the detail.
    """
    gap = max(0.0, bound - objective)
    relative = gap / max(1.0, abs(bound))
    if relative <= OPTIMAL_WITHIN:
        headline = "Proven optimal"
    else:
        headline = f"Within {100 * relative:.2g}% of the best possible pairing"
    detail = (f"score {objective:,.4f}; proven upper bound {bound:,.4f}; "
              f"relative gap {relative:.1e}" + (f"; solved by {method}" if method else ""))
    return headline, detail
