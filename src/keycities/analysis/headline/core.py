"""Headline figures for a network: totals and shares of GB/UK, with provenance.

Formulation
-----------
For a network N on date ``at`` (members on the boundaries of vintage
``v_m = vintage_of_date(at)``) and a measure in a slice of the store (one
release, period and geography vintage ``v_d``):

* member values are the slice's values mapped from ``v_d`` to ``v_m``
  (:mod:`keycities.geography.mapping`): unchanged areas as they are, merged
  areas summed, split areas apportioned by a stated weight and flagged as
  estimates;
* the network total is the sum over members; if any member's value is
  unavailable the total is unavailable, with the reason (never a partial sum);
* a share is total / denominator, the denominator taken from the *same
  slice* (e.g. GB population in the same mid-year estimates release; for GVA,
  the sum of all local authorities, which ONS constructs to equal the UK less
  Extra-Regio).

The core (:func:`summarise`) takes DataFrames;
:func:`keycities.analysis.headline.from_store.headline_from_store` loads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from keycities.geography.areas import LAD_PREFIXES

SUM_OF_LADS = "sum-of-lads"


@dataclass(frozen=True)
class FigureSpec:
    """What a headline figure is and what it is a share of."""

    key: str
    label: str
    measure: str
    shares: tuple[tuple[str, str], ...]
    period_label: str = "{year}"


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("population", "Population", "population",
               (("Great Britain", "K03000001"), ("United Kingdom", "K02000001")),
               "mid-{year}"),
    FigureSpec("filled_jobs", "Filled jobs (workplace)", "filled_jobs",
               (("UK less Extra-Regio", "UKX"),)),
    FigureSpec("gva", "GVA, balanced, current basic prices", "gva_current_prices",
               (("UK less Extra-Regio", SUM_OF_LADS),)),
    FigureSpec("business_local_units", "Business local units (sites)", "business_local_units",
               (("United Kingdom", SUM_OF_LADS),), "March {year}"),
)


@dataclass(frozen=True)
class Figure:
    """One headline figure with what it rests on."""

    key: str
    label: str
    value: float | None
    unit: str
    period: int | None
    period_label: str
    shares: dict[str, float | None]
    release_id: str | None
    geography_vintage: int | None
    members: int
    members_estimated: int
    notes: tuple[str, ...] = ()
    unavailable: str | None = None


@dataclass
class Headline:
    """Headline figures of a network on a date, plus per-member values."""

    network_id: str
    network_name: str
    at: dt.date
    member_vintage: int
    members: pd.DataFrame
    figures: list[Figure] = field(default_factory=list)
    member_values: pd.DataFrame = field(default_factory=pd.DataFrame)
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: value, unit, period, shares, release, notes."""
        rows = []
        for f in self.figures:
            row: dict[str, object] = {
                "figure": f.label, "value": f.value, "unit": f.unit, "period": f.period_label,
                "members": f.members, "estimated_members": f.members_estimated,
                "release": f.release_id, "geography_vintage": f.geography_vintage,
            }
            for name, share in f.shares.items():
                row[f"share of {name}"] = share
            row["unavailable"] = f.unavailable
            rows.append(row)
        df = pd.DataFrame(rows)
        last = [c for c in ("unavailable",) if c in df.columns]
        return df[[c for c in df.columns if c not in last] + last]


def summarise(spec: FigureSpec, members: pd.DataFrame, mapped: pd.DataFrame,
              denominators: dict[str, float | None], *, unit: str, period: int,
              release_id: str, geography_vintage: int,
              names: dict[str, str] | None = None) -> tuple[Figure, pd.DataFrame]:
    """Total and shares of one figure from member values already on the members' vintage.

    Parameters
    ----------
    spec
        The figure.
    members
        Member rows: code, as_published.
    mapped
        Values on the members' vintage: area_code, value, estimate, method, basis,
        from_codes (as returned by :func:`keycities.geography.mapping.to_vintage`).
    denominators
        Share name -> denominator value (None when unavailable).
    names
        LAD code -> name, for readable mapping notes.

    Returns
    -------
    (Figure, per-member table)
    """
    per = members[["code", "as_published"]].merge(
        mapped.rename(columns={"area_code": "code"}), on="code", how="left"
    )
    per.insert(0, "figure", spec.key)
    missing = per[per["value"].isna()]
    notes = tuple(_mapping_notes(per, names))
    estimated = int(per["estimate"].fillna(False).astype(bool).sum())
    label = spec.period_label.format(year=period)
    if len(missing):
        lacking = ", ".join(f"{r.as_published} ({r.code})" for r in missing.itertuples())
        reasons = "; ".join(sorted({str(r) for r in missing.get("reason", pd.Series())
                                    if isinstance(r, str) and r}))
        why = f"no value for {lacking}" + (f": {reasons}" if reasons else "")
        fig = Figure(spec.key, spec.label, None, unit, period, label,
                     dict.fromkeys(denominators), release_id, geography_vintage,
                     len(per), estimated, notes, why)
        return fig, per
    total = float(per["value"].sum())
    shares = {k: (total / d if d else None) for k, d in denominators.items()}
    fig = Figure(spec.key, spec.label, total, unit, period, label, shares, release_id,
                 geography_vintage, len(per), estimated, notes)
    return fig, per


def _mapping_notes(per: pd.DataFrame, names: dict[str, str] | None = None) -> list[str]:
    """One line per member whose value was mapped (summed, split or recoded)."""
    names = names or {}
    notes = []
    for r in per.itertuples():
        method = getattr(r, "method", None)
        if not isinstance(method, str) or method in ("same", ""):
            continue
        codes = [c.strip() for c in str(getattr(r, "from_codes", "") or "").split(",") if c]
        src = ", ".join(f"{names[c]} ({c})" if c in names else c for c in codes)
        basis = getattr(r, "basis", "") or ""
        verb = {"merge": "sum of", "split": "estimated share of", "recode": "recoded from"}
        text = f"{r.as_published} ({r.code}): {verb.get(method, method)} {src}"
        notes.append(text + (f" — {basis}" if basis else ""))
    return notes



def denominators(spec: FigureSpec, values: pd.DataFrame) -> dict[str, float | None]:
    """The denominator of each share, from the same slice as the figure.

    Parameters
    ----------
    spec
        The figure and the shares it reports.
    values
        Every value of the slice (area_code, value), national rows included.

    Returns
    -------
    dict
        Share name -> denominator (``None`` when the slice lacks it).  The
        special code ``sum-of-lads`` is the sum of all districts in the slice.
    """
    out: dict[str, float | None] = {}
    by_code = dict(zip(values["area_code"], values["value"], strict=False))
    for name, code in spec.shares:
        if code == SUM_OF_LADS:
            lad = values[values["area_code"].str[:3].isin(LAD_PREFIXES)]
            out[name] = float(lad["value"].sum()) if len(lad) else None
        else:
            v = by_code.get(code)
            out[name] = float(v) if v is not None else None
    return out
