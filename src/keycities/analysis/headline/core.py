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
* a member whose value would be an estimate takes its exact value from the
  newest other release that has one (an official value beats an estimate from
  a newer release), and the notes say which release and why;
* former districts that together make up a merged area (every part in the
  network) add up to that area's published value: their total is exact, though
  each one's own value is an estimated share, and they are not counted as
  estimated;
* a share is (sum over the members inside the denominator's territory) /
  denominator, the denominator taken from the *same slice* (e.g. GB population
  in the same mid-year estimates release; for GVA, the sum of all local
  authorities, which ONS constructs to equal the UK less Extra-Regio).  A
  member outside the territory (Belfast for Great Britain) is left out of that
  share's numerator, and the notes say so.

The core (:func:`summarise`) takes DataFrames;
:func:`keycities.analysis.headline.from_store.headline_from_store` loads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from keycities.geography.areas import LAD_PREFIXES

SUM_OF_LADS = "sum-of-lads"

#: The territory of each share's denominator, as the first letters of the GSS codes
#: of the districts in it (E England, W Wales, S Scotland, N Northern Ireland); a share
#: not listed covers the whole UK.
COUNTRY_LETTERS = ("E", "W", "S", "N")
"""First letters of the GSS codes of districts in England, Wales, Scotland, Northern Ireland."""
SHARE_TERRITORY: dict[str, tuple[str, ...]] = {
    "Great Britain": ("E", "W", "S"),
    "England and Wales": ("E", "W"),
    "England": ("E",),
}


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
    other_release_ids: tuple[str, ...] = ()
    """Releases some members' official values came from instead of ``release_id``."""
    share_leaves_out: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Share name -> members outside its territory, left out of its numerator."""


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
        from_codes (as returned by :func:`keycities.geography.mapping.to_vintage`);
        optionally exact_in_total (the value is an estimated share of a merged
        area all of whose parts are members), release_id (where it came from,
        when not ``release_id``) and note (why).
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
    per["release_id"] = per.get("release_id", pd.Series(index=per.index, dtype=object))
    per["release_id"] = per["release_id"].fillna(release_id)
    missing = per[per["value"].isna()]
    notes = [*_source_notes(per), *_mapping_notes(per, names), *_whole_notes(per, names)]
    estimate = per["estimate"].fillna(False).astype(bool)
    exact = per.get("exact_in_total", pd.Series(False, index=per.index))
    estimated = int((estimate & ~exact.fillna(False).astype(bool)).sum())
    others = tuple(sorted(set(per["release_id"].dropna()) - {release_id}))
    label = spec.period_label.format(year=period)
    if len(missing):
        lacking = ", ".join(f"{r.as_published} ({r.code})" for r in missing.itertuples())
        reasons = "; ".join(sorted({str(r) for r in missing.get("reason", pd.Series())
                                    if isinstance(r, str) and r}))
        why = f"no value for {lacking}" + (f": {reasons}" if reasons else "")
        fig = Figure(spec.key, spec.label, None, unit, period, label,
                     dict.fromkeys(denominators), release_id, geography_vintage,
                     len(per), estimated, tuple(notes), why, others)
        return fig, per
    total = float(per["value"].sum())
    shares, outside = _shares(per, denominators)
    notes += _territory_notes(outside)
    fig = Figure(spec.key, spec.label, total, unit, period, label, shares, release_id,
                 geography_vintage, len(per), estimated, tuple(notes), None, others, outside)
    return fig, per


def _shares(per: pd.DataFrame, denominators: dict[str, float | None]
            ) -> tuple[dict[str, float | None], dict[str, tuple[str, ...]]]:
    """Each share, its numerator over the members inside the denominator's territory,
    and the members each leaves out."""
    shares: dict[str, float | None] = {}
    outside: dict[str, tuple[str, ...]] = {}
    for name, d in denominators.items():
        inside = _in_territory(per["code"], name)
        shares[name] = float(per.loc[inside, "value"].sum()) / d if d else None
        if not inside.all():
            outside[name] = tuple(f"{r.as_published} ({r.code})"
                                  for r in per[~inside].itertuples())
    return shares, outside


def _in_territory(codes: pd.Series, share: str) -> pd.Series:
    """True for codes inside the share's territory (or of no UK country: not judged)."""
    letters = SHARE_TERRITORY.get(share)
    first = codes.astype(str).str[:1]
    if letters is None:
        return pd.Series(True, index=codes.index)
    return first.isin(letters) | ~first.isin(list(COUNTRY_LETTERS))


def _territory_notes(outside: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"Share of {name}: counts only the members inside {name}; leaves out "
            f"{', '.join(left)}, outside it." for name, left in outside.items()]


def _source_notes(per: pd.DataFrame) -> list[str]:
    """One line per member whose value came from another release than the figure's."""
    if "note" not in per.columns:
        return []
    return [f"{r.as_published} ({r.code}): {r.note}" for r in per.itertuples()
            if isinstance(r.note, str) and r.note]


def _whole_notes(per: pd.DataFrame, names: dict[str, str] | None) -> list[str]:
    """One line per merged area whose former parts are all members: an exact total."""
    if "exact_in_total" not in per.columns:
        return []
    names = names or {}
    whole = per[per["exact_in_total"].fillna(False).astype(bool)]
    out = []
    for key, parts in whole.groupby("from_codes", sort=True):
        code = str(key)
        listed = ", ".join(f"{r.as_published} ({r.code})" for r in parts.itertuples())
        area = f"{names[code]} ({code})" if code in names else code
        out.append(f"{listed}: together they make up {area}, so their total is its "
                   "published value (exact); each one's own value is an estimated share")
    return out


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
