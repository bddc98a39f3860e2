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

The core (:func:`summarise`) takes DataFrames; :func:`headline_from_store`
loads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES
from keycities.geography.tables import GeographyTables
from keycities.geography.vintage import LAST_VINTAGE, check_vintage, vintage_of_date
from keycities.network.register import Network
from keycities.store.queries import Slice
from keycities.store.store import Store

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


def member_vintage(at: dt.date) -> int:
    """Boundary vintage of a membership date (the latest covered vintage after it).

    Raises
    ------
    KeycitiesError
        For dates before the first covered vintage.
    """
    return check_vintage(min(vintage_of_date(at.year, at.month), LAST_VINTAGE))


def check_members(members: pd.DataFrame, network_name: str, at: dt.date) -> None:
    """Raise a clear error when a network has no members on a date.

    Raises
    ------
    KeycitiesError
        When ``members`` is empty.
    """
    if members.empty:
        raise KeycitiesError(f"{network_name} has no members on {at}.")


# ------------------------------------------------------------------ store adapter


def headline_from_store(store: Store, network: Network, *, at: dt.date,
                        year: int | None = None,
                        figures: tuple[FigureSpec, ...] = FIGURES) -> Headline:
    """Headline figures of ``network`` on ``at`` from the evidence store.

    Parameters
    ----------
    store
        A built evidence store.
    network
        The network (built-in or a user's).
    at
        Membership date.
    year
        Reference year of the data; default the latest the store has for each figure.
    """
    from keycities.store.queries import release_info

    members = network.members_at(at)
    check_members(members, network.name, at)
    vm = member_vintage(at)
    geo = geography_from_store(store)
    out = Headline(network.id, network.name, at, vm, members)

    def compute() -> tuple[list[Figure], pd.DataFrame]:
        pairs = [_figure_from_store(store, spec, members, geo, year=year, vm=vm)
                 for spec in figures]
        per_tables = [per for _, per in pairs]
        return ([fig for fig, _ in pairs],
                pd.concat(per_tables, ignore_index=True) if per_tables else pd.DataFrame())

    # The figures depend on the date only through the member list and its vintage: dates
    # with the same members share them (the web app is asked for many dates).
    figs, per = store.memo(("headline", members.to_json(), vm, year, figures), compute)
    out.figures.extend(figs)
    out.member_values = per.copy()
    ids = [f.release_id for f in out.figures if f.release_id]
    out.releases = release_info(store, ids)
    out.notes.extend(membership_notes(network, at, with_basis=True))
    return out


def membership_notes(network: Network, at: dt.date, *, with_basis: bool = False) -> list[str]:
    """Which documented list the members on ``at`` come from, and who has left since."""
    snap = network.snapshot_at(at)
    if snap is None:
        return []
    text = (f"Members: the list in document {snap.document} ({snap.title}), in force from "
            f"{snap.in_force}." + (f" {snap.basis}" if with_basis else ""))
    return [text, *departures(network, since=snap.in_force, at=at)]


def departures(network: Network, *, since: dt.date, at: dt.date) -> list[str]:
    """Notes on members of a documented list who left between ``since`` and ``at``."""
    return [f"{m.as_published} ({m.code}) is not counted: left on {m.left}. {m.left_basis}"
            for m in network.memberships
            if m.left is not None and since < m.left <= at]


def geography_from_store(store: Store) -> GeographyTables:
    """The geography tables of a built store, ready for mapping.

    Built once per open store (:meth:`~keycities.store.store.Store.memo`): every
    figure, panel and audit shares them and their cached crosswalks.  Treat them as
    read-only.
    """
    from keycities.store.queries import geography_tables

    def build() -> GeographyTables:
        area_rows, changes, _aliases, weights = geography_tables(store)
        return GeographyTables.from_rows(area_rows, changes, weights)

    return store.memo("geography", build)


def _figure_from_store(store: Store, spec: FigureSpec, members: pd.DataFrame,
                       geo: GeographyTables, *, year: int | None,
                       vm: int) -> tuple[Figure, pd.DataFrame]:
    from keycities.store.queries import NoDataError, choose_slice

    try:
        s = choose_slice(store, spec.measure, period=year, prefer_vintage=vm)
    except NoDataError as exc:
        label = spec.period_label.format(year=year) if year is not None else "—"
        hint = "" if exc.measure_loaded else f" {_how_to_get(spec.measure)}"
        fig = Figure(spec.key, spec.label, None, "", year, label,
                     {name: None for name, _ in spec.shares}, None, None, len(members), 0,
                     (), f"{exc}{hint}")
        return fig, pd.DataFrame()
    return figure_for_slice(store, spec, members, geo, s, vm=vm)


def figure_for_slice(store: Store, spec: FigureSpec, members: pd.DataFrame,
                     geo: GeographyTables, s: Slice, *, vm: int) -> tuple[Figure, pd.DataFrame]:
    """One figure of ``members`` (on vintage ``vm``) from one slice of the store.

    Returns
    -------
    (Figure, per-member table), as :func:`summarise`.
    """
    from keycities.geography.mapping import to_vintage
    from keycities.store.queries import slice_values

    values = slice_values(store, s)
    unit = str(values["unit"].iloc[0]) if len(values) else ""
    lad_values = values[values["area_code"].str[:3].isin(LAD_PREFIXES)].copy()
    lad_values["area_code"] = geo.recode_stale(lad_values["area_code"], s.geography_vintage)
    xw = geo.crosswalk(s.geography_vintage, vm)
    mapped = to_vintage(lad_values[["area_code", "value"]], xw, kind="count")
    mapped = _explain_absent(members, mapped, geo.lads, geo.changes, vm)
    dens = denominators(spec, values)
    return summarise(spec, members, mapped, dens, unit=unit, period=s.period,
                     release_id=s.release_id, geography_vintage=s.geography_vintage,
                     names=geo.names)


def _explain_absent(members: pd.DataFrame, mapped: pd.DataFrame, lads: pd.DataFrame,
                    changes: pd.DataFrame, vm: int) -> pd.DataFrame:
    """Add a row with the reason for each member that is not a district of ``vm``."""
    from keycities.geography.mapping import successors

    absent = members[~members["code"].isin(mapped["area_code"])]
    if absent.empty:
        return mapped
    names = dict(zip(lads["code"], lads["name"], strict=False))
    rows = []
    for code in absent["code"]:
        now = [c for c in successors(code, changes, vintage=vm) if c != code]
        where = (f"; on {vm} boundaries its area is part of "
                 + ", ".join(f"{names.get(c, c)} ({c})" for c in now)) if now else ""
        rows.append({"area_code": code, "value": float("nan"),
                     "reason": f"{code} is not a district on {vm} boundaries{where}"})
    return pd.concat([mapped, pd.DataFrame(rows)], ignore_index=True)


def _how_to_get(measure: str) -> str:
    """Which catalog releases carry a measure, and how to load them."""
    from keycities.sources import catalog

    ids = [r.id for m in catalog.all_source_modules()
           if any(x.name == measure for x in getattr(m, "MEASURES", ()))
           for s in m.SOURCES for r in s.releases]
    if not ids:
        return ""
    return (f"It comes from {', '.join(ids)}: run `keycities build --mirror DIR` with a copy "
            "of the official files, or `keycities build` where the official URLs are reachable.")


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
