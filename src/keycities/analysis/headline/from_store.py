"""Headline figures of a network from the evidence store.

Loads each figure's slice (:mod:`keycities.store.queries`), maps it to the
members' boundary vintage and hands it to
:func:`~keycities.analysis.headline.core.summarise`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from keycities.analysis._members import (
    check_members,
    member_vintage,
    membership_notes,
    not_on_vintage,
)
from keycities.analysis._store import (
    exact_values,
    geography_from_store,
    lad_values,
    split_crosswalk,
)
from keycities.analysis.headline.core import (
    FIGURES,
    Figure,
    FigureSpec,
    Headline,
    denominators,
    summarise,
)
from keycities.geography.mapping import to_vintage, whole_splits
from keycities.geography.tables import GeographyTables
from keycities.network.register import Network
from keycities.store.queries import NoDataError, Slice, choose_slice, release_info, slice_values
from keycities.store.store import Store


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
    ids = [r for f in out.figures for r in (f.release_id, *f.other_release_ids) if r]
    out.releases = release_info(store, list(dict.fromkeys(ids)))
    out.notes.extend(membership_notes(network, at, with_basis=True))
    return out


def _figure_from_store(store: Store, spec: FigureSpec, members: pd.DataFrame,
                       geo: GeographyTables, *, year: int | None,
                       vm: int) -> tuple[Figure, pd.DataFrame]:
    try:
        s = choose_slice(store, spec.measure, period=year, prefer_vintage=vm)
    except NoDataError as exc:
        label = spec.period_label.format(year=year) if year is not None else "—"
        fig = Figure(spec.key, spec.label, None, "", year, label,
                     {name: None for name, _ in spec.shares}, None, None, len(members), 0,
                     (), str(exc))
        return fig, pd.DataFrame()
    return figure_for_slice(store, spec, members, geo, s, vm=vm)


def figure_for_slice(store: Store, spec: FigureSpec, members: pd.DataFrame,
                     geo: GeographyTables, s: Slice, *, vm: int) -> tuple[Figure, pd.DataFrame]:
    """One figure of ``members`` (on vintage ``vm``) from one slice of the store.

    Former districts are split from their merged successors by the best weights the
    store has (:func:`~keycities.analysis._store.split_crosswalk`); a member whose
    value would be such an estimate takes its official value from another release
    where one has it (:func:`_prefer_exact`).

    Returns
    -------
    (Figure, per-member table), as :func:`summarise`.
    """
    values = slice_values(store, s)
    unit = str(values["unit"].iloc[0]) if len(values) else ""
    codes = list(members["code"])
    xw = split_crosswalk(store, geo, s, vm, codes=codes)
    mapped = to_vintage(lad_values(store, geo, s), xw, kind="count")
    mapped = mapped.assign(exact_in_total=mapped["area_code"].isin(whole_splits(xw, codes)))
    mapped = _prefer_exact(store, geo, s, mapped, codes, vm)
    mapped = _explain_absent(members, mapped, geo.lads, geo.changes, vm)
    dens = denominators(spec, values)
    return summarise(spec, members, mapped, dens, unit=unit, period=s.period,
                     release_id=s.release_id, geography_vintage=s.geography_vintage,
                     names=geo.names)


def _prefer_exact(store: Store, geo: GeographyTables, s: Slice, mapped: pd.DataFrame,
                  codes: list[str], vm: int) -> pd.DataFrame:
    """Replace members' estimates by official values from other releases where they have
    one (an official value beats an estimate from a newer release); say which and why.

    Members whose merged area is wholly in the network keep their shares of it: they
    add up to its published value exactly.
    """
    m = mapped.set_index("area_code")
    est = [c for c in codes if c in m.index and bool(m.at[c, "estimate"])
           and not bool(m.at[c, "exact_in_total"])]
    if not est:
        return mapped
    exact = exact_values(store, geo, s, est, vm).set_index("area_code")
    m["release_id"], m["note"] = s.release_id, None
    names = geo.names
    for key, r in exact.iterrows():
        code = str(key)
        wholes = ", ".join(f"{names.get(w, w)} ({w})" for w in str(m.at[code, "from_codes"])
                           .split(","))
        m.loc[code, ["value", "estimate", "method", "from_codes", "basis", "reason"]] = [
            r["value"], False, r["method"], r["from_codes"], r["basis"], None]
        m.at[code, "release_id"] = r["release_id"]
        m.at[code, "note"] = (
            f"official value from {r['release_id']} (published {r['published']}), not "
            f"{s.release_id}: that release has only {wholes} for {s.period}, so its figure "
            f"for {names.get(code, code)} would be an estimated share")
    return m.reset_index()


def _explain_absent(members: pd.DataFrame, mapped: pd.DataFrame, lads: pd.DataFrame,
                    changes: pd.DataFrame, vm: int) -> pd.DataFrame:
    """Add a row with the reason for each member that is not a district of ``vm``."""
    absent = members[~members["code"].isin(mapped["area_code"])]
    if absent.empty:
        return mapped
    names = dict(zip(lads["code"], lads["name"], strict=False))
    rows = [{"area_code": code, "value": float("nan"),
             "reason": not_on_vintage(code, changes, names, vm)} for code in absent["code"]]
    return pd.concat([mapped, pd.DataFrame(rows)], ignore_index=True)
