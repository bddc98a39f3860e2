"""Testbed data: an outcome's annual panel on one boundary vintage, and the donor pool.

Formulation
-----------
**Panel.**  For an outcome ``o``
(:data:`~keycities.analysis.testbed.outcomes.OUTCOMES`), years ``T`` and a
target LAD vintage ``v``, the panel is ``y_it`` for every district ``i`` of ``v`` and
``t`` in ``T``.  Each year ``t`` comes from exactly one *slice* of the store
(:func:`keycities.store.queries.slices`): the most recently published release
holding ``o`` for ``t`` (later releases revise earlier ones; the others are
named in the notes), on the geography vintage :func:`~keycities.store.queries.
pick_vintage` prefers (``v``; else the latest before it; else the earliest
after it).  Values on the slice vintage ``s`` are mapped to ``v``
(:mod:`keycities.geography.mapping`):

* counts (filled jobs, GVA, population): ``y_j = sum_i y_i w_ij`` -- merged
  districts summed, splits apportioned by a stated weight and flagged;
* published ratios with their count in the same release (GVA per filled job
  with filled jobs, per hour with hours): ``r_j = sum_i r_i D_i w_ij /
  sum_i D_i w_ij``, the ratio of the mapped numerator ``N = r D`` and
  denominator ``D`` -- never a plain mean of ratios;
* a derived ratio (GVA per head): ``1e6 GVA_j / population_j``, both mapped
  as counts from their own newest releases of year ``t``;
* medians (earnings, house prices) cannot be combined across a merger or a
  split, so the panel stays on the publisher's vintage (a requested ``v`` is
  not used, and the notes say so).

A cell is missing (NaN) when the release has no value for the place or a
mapping cannot produce one; :attr:`Panel.missing` gives the reason.  Places
with no value in any year are left out of :attr:`Panel.values` and listed there.

**Donor pool.**  The comparison places for treated places ``P``: every place
of the table less, each with its reason, the treated places, places left out
by the caller, places outside an allowed list (e.g. peers), places in a
treated place's region (``same_region``; the country outside England), places
whose centroid lies within ``min_km`` of a treated place's (great-circle
distance between postcode-weighted centroids, :mod:`keycities.analysis.places.features`;
spillovers reach neighbours), and places without a value in every year of a
window of the panel (synthetic control needs complete pre-period series).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.places.features import FeatureTable
from keycities.analysis.testbed.outcomes import years_text
from keycities.errors import KeycitiesError, UnknownPlaceError
from keycities.geography.spatial import haversine_km

__all__ = ["DEFAULT_VINTAGE", "DonorPool", "Panel", "donor_pool", "place_finder"]


@dataclass(frozen=True)
class Panel:
    """An outcome's annual values on one boundary vintage, with provenance.

    Attributes
    ----------
    values
        Index = LAD code, columns = int years; NaN = missing (see ``missing``).
    releases
        Provenance of every release used (id, publisher, title, url,
        published, ...), with the years each supplies.
    sources
        One row per (year, measure): release_id, published, geography_vintage
        (as published), also_in (other releases holding that year, not used).
    missing
        code, name, reason, years (list), first, last: gaps in ``values`` and
        places left out of it, with why.
    recoded
        code, method, from_codes, estimate, basis, years: values mapped from
        another vintage (merged sums, estimated splits, recodes).
    """

    values: pd.DataFrame
    outcome: str
    label: str
    unit: str
    vintage: int
    positive: bool
    releases: pd.DataFrame
    sources: pd.DataFrame
    missing: pd.DataFrame
    recoded: pd.DataFrame
    names: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def years(self) -> list[int]:
        """The panel's years."""
        return [int(c) for c in self.values.columns]

    def release_of(self, year: int) -> list[str]:
        """The release id(s) behind every value of ``year``."""
        return list(self.sources.loc[self.sources["year"] == year, "release_id"])

    def to_frame(self) -> pd.DataFrame:
        """Long form: code, name, year, value, release (one row per observed cell)."""
        return self._long.copy()

    @cached_property
    def _long(self) -> pd.DataFrame:
        wide = self.values.rename_axis(index="code", columns="year").reset_index()
        out = wide.melt(id_vars="code", var_name="year", value_name="value").dropna(
            subset=["value"]).sort_values(["code", "year"]).reset_index(drop=True)
        out["year"] = out["year"].astype(int)
        out.insert(1, "name", out["code"].map(self.names))
        rel = self.sources.groupby("year")["release_id"].agg("; ".join)
        out["release"] = out["year"].map(rel)
        return out

    def payload(self) -> dict[str, Any]:
        """Plain data: outcome, vintage, years, values (long), provenance, gaps, notes."""
        return jsonable({
            "outcome": self.outcome, "label": self.label, "unit": self.unit,
            "vintage": self.vintage, "positive": self.positive, "years": self.years,
            "places": len(self.values), "values": self.to_frame(),
            "releases": self.releases, "sources": self.sources, "missing": self.missing,
            "recoded": self.recoded, "notes": list(self.notes)})


# ------------------------------------------------------------------ the panel


# ------------------------------------------------------------------ places


# ------------------------------------------------------------------ donor pool

#: Default boundary vintage of the places when the store gives them without a panel.
DEFAULT_VINTAGE = 2023


@dataclass(frozen=True)
class DonorPool:
    """Comparison places for treated places, and why every other place is left out.

    Attributes
    ----------
    treated
        Codes of the treated places.
    donors
        Codes kept (sorted).
    excluded
        One row per excluded place: code, name, rules (the rules that exclude
        it: treated, leave_out, only, same_region, min_km, data), reason (every
        reason, joined by "; ").
    options
        The rules as given (min_km, same_region, years, ...).
    """

    treated: tuple[str, ...]
    donors: tuple[str, ...]
    excluded: pd.DataFrame
    names: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    vintage: int | None = None
    notes: tuple[str, ...] = ()

    def reason(self, code: str) -> str | None:
        """Why ``code`` is not a donor (None when it is one)."""
        hit = self.excluded.loc[self.excluded["code"] == code, "reason"]
        return str(hit.iloc[0]) if len(hit) else None

    def to_frame(self) -> pd.DataFrame:
        """One row per place: code, name, status ('treated' | 'donor' | 'excluded'), reason."""
        why = dict(zip(self.excluded["code"], self.excluded["reason"], strict=True))
        rows = [{"code": c, "name": self.names.get(c, c),
                 "status": "treated" if c in self.treated else
                 "donor" if c in self.donors else "excluded", "reason": why.get(c, "")}
                for c in sorted(self.names)]
        return pd.DataFrame(rows, columns=["code", "name", "status", "reason"])

    def payload(self) -> dict[str, Any]:
        """Plain data: treated, donors, exclusions with reasons, options, notes."""
        return jsonable({
            "treated": [{"code": c, "name": self.names.get(c, c)} for c in self.treated],
            "donors": [{"code": c, "name": self.names.get(c, c)} for c in self.donors],
            "excluded": self.excluded, "options": self.options, "vintage": self.vintage,
            "notes": list(self.notes)})


def donor_pool(places: FeatureTable | pd.DataFrame, treated: Sequence[str], *,
               exclude_treated: bool = True, min_km: float | None = None,
               same_region: bool = False, only: Sequence[str] | None = None,
               leave_out: Sequence[str] = (), panel: Panel | pd.DataFrame | None = None,
               years: Iterable[int] | None = None, vintage: int | None = None,
               find: Callable[[str], str] | None = None) -> DonorPool:
    """The donor pool for ``treated`` places, each exclusion with its reason.

    See the module docstring for the rules.

    Parameters
    ----------
    places
        A :class:`~keycities.analysis.places.features.FeatureTable`, or a
        places DataFrame (index = code; name, region, lon, lat).
        :func:`keycities.analysis.testbed.from_store.donor_pool_from_store` gives
        the LADs of a vintage from the evidence store.
    treated
        Treated places: codes or exact names (any name or alias with ``find``).
    exclude_treated
        Leave the treated places out of the pool (the usual case).
    min_km
        Leave out places whose centroid is closer than this to a treated place's.
    same_region
        Leave out places in a treated place's region (the country outside England).
    only
        Keep only these places (e.g. a peer group).
    leave_out
        Places to leave out (e.g. other pilots' places).
    panel
        The outcome panel; with it, places lacking a value in any of ``years``
        (default every year of the panel) are left out.
    vintage
        Boundary vintage of a places DataFrame (a FeatureTable has its own).
    find
        Resolves a query (code, name, alias) to a code of ``places``; default
        codes and exact names only.

    Returns
    -------
    DonorPool

    Raises
    ------
    KeycitiesError
        An unknown place (with the closest names), no treated place, a
        negative ``min_km``, a treated place without a centroid, a panel on
        another vintage, or ``years`` outside the panel.
    """
    places, find, v = _donor_places(places, panel, vintage, find)
    codes = list(dict.fromkeys(find(q) for q in treated))
    if not codes:
        raise KeycitiesError("Give at least one treated place.")
    if min_km is not None and not min_km >= 0:
        raise KeycitiesError(f"min_km must be a distance of 0 km or more (got {min_km}).")
    allowed = None if only is None else sorted({find(q) for q in only})
    left = sorted({find(q) for q in leave_out} - set(codes))
    names = {str(c): str(n) for c, n in places["name"].items()}
    others = [c for c in names if c not in codes]
    rules: list[tuple[str, dict[str, str]]] = [
        ("treated", dict.fromkeys(codes if exclude_treated else [], "treated")),
        ("leave_out", dict.fromkeys(left, "left out by the caller"))]
    if allowed is not None:
        rules.append(("only", dict.fromkeys(sorted(set(others) - set(allowed)),
                                            "not in the peer list")))
    if same_region:
        rules.append(("same_region", _same_region(places, codes, others)))
    if min_km is not None:
        rules.append(("min_km", _too_close(places, codes, others, min_km)))
    window, notes = None, []
    if panel is not None:
        values = panel.values if isinstance(panel, Panel) else panel
        window = _window(values, years)
        rules.append(("data", _lacking(values, others, window)))
        notes += _treated_gaps(values, codes, window, names)
    elif years is not None:
        raise KeycitiesError("`years` needs a panel: pass panel=outcome_panel(...).")
    options = {"exclude_treated": exclude_treated, "min_km": min_km,
               "same_region": same_region, "only": allowed, "leave_out": left, "years": window}
    return _pool(codes, names, rules, v, notes, options, _shared_centroids(places))


def _pool(codes: list[str], names: dict[str, str], rules: list[tuple[str, dict[str, str]]],
          vintage: int | None, notes: list[str], options: dict[str, Any],
          shared: int = 0) -> DonorPool:
    why: dict[str, list[tuple[str, str]]] = {}
    for rule, found in rules:
        for c, text in found.items():
            why.setdefault(c, []).append((rule, text))
    excluded = pd.DataFrame(
        [{"code": c, "name": names.get(c, c), "rules": ", ".join(r for r, _ in v),
          "reason": "; ".join(t for _, t in v)} for c, v in sorted(why.items())],
        columns=["code", "name", "rules", "reason"])
    donors = tuple(c for c in sorted(names) if c not in why)
    counts = {rule: len(found) for rule, found in rules if found}
    if options["min_km"] is not None and shared:
        notes = [*notes, f"{shared} places share their centroid with another place (on "
                 "boundaries older than the postcode directory's, a district's centroid can "
                 "be its successor's): distances to them are approximate."]
    summary = (f"{len(donors)} donor(s) of {len(names)} places"
               + (f" on {vintage} boundaries" if vintage else "") + "; left out: "
               + (", ".join(f"{r} {n}" for r, n in counts.items()) or "none")
               + " (a place can be left out by several rules).")
    if not donors:
        notes = [*notes, "No donor is left: relax the rules (min_km, same_region, only, years)."]
    return DonorPool(tuple(codes), donors, excluded, names, options, vintage,
                     (summary, *notes))


def _donor_places(source: FeatureTable | pd.DataFrame, panel: Panel | pd.DataFrame | None,
                  vintage: int | None, find: Callable[[str], str] | None
                  ) -> tuple[pd.DataFrame, Callable[[str], str], int | None]:
    """(places, a function resolving a code or name to a code, vintage)."""
    panel_v = panel.vintage if isinstance(panel, Panel) else None
    v: int | None
    if isinstance(source, FeatureTable):
        v, places = source.vintage, source.places
    else:
        v, places = vintage, source
    if panel_v is not None and v is not None and panel_v != v:
        raise KeycitiesError(f"The places are on {v} boundaries but the panel on {panel_v}: "
                             f"use places of {panel_v} (vintage={panel_v}) or a panel of {v}.")
    return places, find or place_finder(places), v


def place_finder(places: pd.DataFrame) -> Callable[[str], str]:
    """Resolve a code or an exact name (any case) against a places table."""
    codes = {str(c).upper(): str(c) for c in places.index}
    by_name = {str(n).casefold(): str(c) for c, n in places["name"].items()}
    labels = {f"{n} ({c})": str(c) for c, n in places["name"].items()}

    def find(query: str) -> str:
        q = str(query).strip()
        hit = codes.get(q.upper()) or by_name.get(q.casefold())
        if hit is None:
            close = difflib.get_close_matches(q, [*by_name, *codes], n=4, cutoff=0.6)
            ids = [codes.get(x.upper()) or by_name[x] for x in close]
            raise UnknownPlaceError(query, [k for k, c in labels.items() if c in ids][:4])
        return hit

    return find


def _same_region(places: pd.DataFrame, treated: list[str], others: list[str]
                 ) -> dict[str, str]:
    region = places["region"]
    out: dict[str, str] = {}
    for t in treated:
        r = region.get(t)
        if r is None or pd.isna(r):
            continue
        for c in others:
            if region.get(c) == r:
                out.setdefault(c, f"same region as {places.at[t, 'name']!s} ({r!s})")
    return out


def _too_close(places: pd.DataFrame, treated: list[str], others: list[str], km: float
               ) -> dict[str, str]:
    lat = pd.to_numeric(places["lat"], errors="coerce")
    lon = pd.to_numeric(places["lon"], errors="coerce")
    lost = [t for t in treated if pd.isna(lat.get(t)) or pd.isna(lon.get(t))]
    if lost:
        raise KeycitiesError(f"No centroid for {', '.join(lost)}: min_km cannot be applied; "
                             "leave it out or give places with lon/lat.")
    order = [*treated, *others]
    d = haversine_km(lat.reindex(order).to_numpy(float), lon.reindex(order).to_numpy(float))
    d = d[len(treated):, :len(treated)]  # others x treated
    out: dict[str, str] = {}
    for i, c in enumerate(others):
        row = d[i]
        if np.isnan(row).all():
            out[c] = "no centroid: its distance to the treated places is unknown"
            continue
        j = int(np.nanargmin(row))
        if row[j] < km:
            out[c] = (f"within {km:g} km of {places.at[treated[j], 'name']!s} "
                      f"({row[j]:.1f} km)")
    return out


def _shared_centroids(places: pd.DataFrame) -> int:
    """How many places have exactly the same centroid as another place."""
    if not {"lon", "lat"} <= set(places.columns):
        return 0
    xy = places[["lon", "lat"]].apply(pd.to_numeric, errors="coerce").dropna()
    return int(xy.duplicated(keep=False).sum())


def _window(values: pd.DataFrame, years: Iterable[int] | None) -> list[int]:
    have = [int(c) for c in values.columns]
    window = have if years is None else sorted({int(y) for y in years})
    outside = sorted(set(window) - set(have))
    if outside or not window:
        raise KeycitiesError(f"Years {years_text(outside) or '(none)'} are not in the panel "
                             f"({years_text(have)}): choose years the panel has.")
    return window


def _lacking(values: pd.DataFrame, others: list[str], window: list[int]) -> dict[str, str]:
    v = values.reindex(index=others)
    v.columns = [int(c) for c in v.columns]
    gaps = v[window].isna()
    span = years_text(window)
    out = {}
    for c in gaps.index[gaps.any(axis=1)]:
        miss = [y for y in window if gaps.at[c, y]]
        out[str(c)] = (f"no data in {span}" if len(miss) == len(window)
                       else f"no data for {years_text(miss)} (of {span})")
    return out


def _treated_gaps(values: pd.DataFrame, treated: list[str], window: list[int],
                  names: dict[str, str]) -> list[str]:
    v = values.reindex(index=treated)
    v.columns = [int(c) for c in v.columns]
    gaps = v[window].isna()
    notes = []
    for t in treated:
        miss = [y for y in window if bool(gaps.at[t, y])]
        if miss:
            notes.append(f"Treated {names.get(t, t)} ({t}) has no data for "
                         f"{years_text(miss)}: an estimate for it needs those years.")
    return notes
