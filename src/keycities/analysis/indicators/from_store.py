"""The indicator library from the evidence store: the catalogue, one indicator, a scorecard.

Loads an indicator's series (each period from the newest release that has
it; :func:`keycities.store.indicators.indicator_series`), its metadata, the
counts its rates combine through and the geography, and hands them to the
pure core (:func:`~keycities.analysis.indicators.view.indicator_view`).
Values published on other district boundaries are mapped onto the
membership's (:mod:`~keycities.analysis.indicators.vintage`); England, GB, UK,
the nations and the regions are the source's own rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from keycities.analysis._members import check_members, member_vintage, membership_notes
from keycities.analysis._store import geography_from_store
from keycities.analysis.indicators.core import is_lad, period_table
from keycities.analysis.indicators.counts import Counts, count_ids
from keycities.analysis.indicators.derived import derived_meta, derived_rows
from keycities.analysis.indicators.library import Entry, Library, load_library
from keycities.analysis.indicators.network import NATIONS, lads_on, nations_of
from keycities.analysis.indicators.params import COVERAGE, WORK_AREA
from keycities.analysis.indicators.scorecard import (
    ROW_COLUMNS,
    Scorecard,
    Subject,
    member_ranks,
    no_district_note,
    scorecard_row,
)
from keycities.analysis.indicators.view import IndicatorView, indicator_view
from keycities.analysis.indicators.vintage import Boundaries
from keycities.errors import KeycitiesError
from keycities.geography.areas import areas_in_vintage
from keycities.network.register import Network
from keycities.sources._indicator import Period
from keycities.store.indicators import (
    indicator_catalogue,
    indicator_ids,
    indicator_meta,
    indicator_series,
)
from keycities.store.store import Store

CATALOGUE_COLUMNS = ("indicator", "label", "unit", "area", "area_label", "direction",
                     "combine", "latest_period", "latest_label", "nations", "districts",
                     "coverage", "source", "release_id", "judgement")


# ------------------------------------------------------------------ catalogue


def catalogue_from_store(store: Store, *, area: str | None = None,
                         search: str | None = None) -> pd.DataFrame:
    """Every indicator of the library with its latest period and coverage in the store.

    Parameters
    ----------
    store
        A built store.
    area
        Only this work area (an id of :data:`~keycities.analysis.indicators.params.WORK_AREA`).
    search
        Only indicators whose id, label or subtitle contains this text (any case).

    Returns
    -------
    pandas.DataFrame
        :data:`CATALOGUE_COLUMNS`, by work area (the brochure's order) then label.
        Stored indicators the library does not classify come last, area None.
    """
    cat = indicator_catalogue(store).set_index("indicator")
    lib = load_library()
    rows = [_catalogue_row(e, cat) for e in lib if e.id in cat.index or e.derived]
    rows += [_catalogue_row(None, cat, i) for i in lib.missing(cat.index)]
    out = pd.DataFrame(rows, columns=list(CATALOGUE_COLUMNS))
    if area is not None:
        out = out[out["area"] == area]
    if search:
        text = search.lower()
        subtitles = cat["subtitle"].fillna("").str.lower().to_dict()
        out = out[out["indicator"].str.contains(text, regex=False)
                  | out["label"].str.lower().str.contains(text, regex=False)
                  | out["indicator"].map(lambda i: text in subtitles.get(i, ""))]
    order = {a: k for k, a in enumerate(WORK_AREA.values)}
    out = out.assign(_o=out["area"].map(lambda a: order.get(a, len(order))))
    return out.sort_values(["_o", "label"], ignore_index=True).drop(columns="_o")


def _catalogue_row(e: Entry | None, cat: pd.DataFrame, ident: str | None = None
                   ) -> dict[str, Any]:
    """One catalogue row: the library's classification and the store's coverage."""
    ident = e.id if e is not None else str(ident)
    source = e.stored_ids[0] if e is not None else ident
    c: dict[str, Any] = ({str(k): _plain(v) for k, v in cat.loc[source].items()}
                         if source in cat.index else {})
    latest = c.get("lad_period") or c.get("latest_period")
    d = e.derived if e is not None else None
    return {
        "indicator": ident, "label": d.label if d else c.get("label", ident),
        "unit": d.unit if d else c.get("unit"),
        "area": e.area if e else None, "area_label": WORK_AREA.label(e.area) if e else None,
        "direction": e.direction if e else None, "combine": e.combine if e else None,
        "latest_period": latest, "latest_label": Period.parse(latest).label if latest else None,
        "nations": ", ".join(NATIONS[n] for n in str(c.get("nations") or "") if n in NATIONS),
        "districts": int(c.get("districts") or 0),
        "coverage": COVERAGE.label(e.coverage) if e else None,
        "source": c.get("source_org"), "release_id": c.get("release_id"),
        "judgement": e.judgement if e else "not classified in the library"}


def _plain(value: Any) -> Any:
    """None for a missing value (NaN, NA), else the value."""
    return None if not isinstance(value, str) and pd.isna(value) else value


# ------------------------------------------------------------------ one indicator


def load_indicator(store: Store, entry: Entry, *, periods_back: int | None = None
                   ) -> tuple[dict[str, Any], pd.DataFrame]:
    """The metadata and series of one library entry (a derived one computed).

    Raises
    ------
    KeycitiesError
        When the store lacks the indicator (says how to load it).
    """
    meta = indicator_meta(store, entry.stored_ids)
    rows = indicator_series(store, entry.stored_ids, periods_back=periods_back)
    return _meta_and_rows(entry, meta, rows)


def _meta_and_rows(entry: Entry, meta: pd.DataFrame, rows: pd.DataFrame
                   ) -> tuple[dict[str, Any], pd.DataFrame]:
    source = entry.stored_ids[0]
    if source not in set(meta["indicator"]) or rows.empty:
        raise KeycitiesError(
            f"The store has no values of {source!r}. Run `keycities build` with the mirror of "
            "official files (KEYCITIES_MIRROR) to load the indicator files.")
    first = {str(k): v.date() if isinstance(v, pd.Timestamp) else v
             for k, v in meta[meta["indicator"] == source].iloc[0].to_dict().items()}
    if entry.derived:
        return derived_meta(entry, first), derived_rows(
            entry, rows[rows["indicator"] == entry.numerator],
            rows[rows["indicator"] == entry.denominator])
    return first, rows[rows["indicator"] == entry.id]


def indicator_from_store(store: Store, indicator: str, *, network: Network | None = None,
                         at: dt.date | None = None, period: str | None = None,
                         library: Library | None = None) -> IndicatorView:
    """One indicator in one period for every district, and for a network's members.

    Parameters
    ----------
    store
        A built store.
    indicator
        A library id (an unknown one raises with the closest ids).
    network, at
        A network and its membership date (members on that date's boundaries).
    period
        ISO period, its label, or a year; default the latest with district values.
    library
        The library (default the packaged one).
    """
    lib = library or load_library()
    entry = lib.get(indicator)
    meta, rows = load_indicator(store, entry)
    subject = network_subject(network, at or dt.date.today()) if network is not None else None
    counts = counts_from_store(store, [entry])
    view = indicator_view(entry, meta, rows, target=subject.vintage if subject else None,
                          lads=lambda vintage: _lads(store, vintage),
                          counts=counts, period=period,
                          members=subject.members if subject else None)
    if subject is not None:
        view.network_id, view.network_name, view.at = subject.id, subject.name, subject.at
        view.notes.extend(subject.notes)
    return view


def _lads(store: Store, vintage: int) -> pd.DataFrame:
    """code, name, region_code, region_name of the districts of ``vintage`` (kept per store)."""
    def build() -> pd.DataFrame:
        lads = geography_from_store(store).lads
        return areas_in_vintage(lads, vintage)[["code", "name", "region_code", "region_name"]]

    return store.memo(("indicator-lads", vintage), build)


def counts_from_store(store: Store, entries: Iterable[Entry]) -> Counts:
    """The counts ``entries`` combine through (district rows, all periods), read from the
    store when first needed (in one query) and mapped onto the boundaries each use needs."""
    return Counts(_Series(store, sorted({i for e in entries for i in count_ids(e)})),
                  boundaries_from_store(store))


class _Series(Mapping[str, pd.DataFrame]):
    """District series of some indicators, read in one query on first use."""

    def __init__(self, store: Store, ids: list[str]) -> None:
        self._store, self._ids = store, ids
        self._rows: dict[str, pd.DataFrame] | None = None

    def _load(self) -> dict[str, pd.DataFrame]:
        if self._rows is None:
            rows = indicator_series(self._store, self._ids, lads_only=True)
            self._rows = {str(i): g for i, g in rows.groupby("indicator")}
        return self._rows

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def boundaries_from_store(store: Store) -> Boundaries:
    """The store's crosswalks and their renames, built once per open store."""
    return store.memo("indicator-boundaries",
                      lambda: Boundaries(geography_from_store(store).crosswalk))


@dataclass(frozen=True)
class Annual:
    """An indicator's district values by year on one boundary vintage (see
    :func:`annual_from_store`)."""

    values: pd.DataFrame
    """Index district code, one int column per year."""
    meta: dict[str, Any]
    releases: dict[int, str]
    """Year -> the release of its values."""
    mapped: pd.DataFrame
    """The mapped rows (:data:`~keycities.analysis.indicators.vintage.MAPPED_COLUMNS`, year)."""
    vintage: int
    notes: list[str]


def annual_from_store(store: Store, indicator: str, *, vintage: int | None = None,
                      years: Iterable[int] | None = None) -> Annual:
    """Every district's value of a library indicator by year, on ``vintage`` (default the
    newest boundaries it is published on): each year the period that starts in it (each
    period from the newest release that has it), mapped by the indicator's own rule
    (:func:`~keycities.analysis.indicators.network.lads_on`).

    Raises
    ------
    KeycitiesError
        For an unknown id (the closest ids), no district values, values for none of
        ``years``, or several periods starting in one year (quarters, overlapping
        windows): an annual series needs one value a year.
    """
    entry = load_library().get(indicator)
    meta, rows = load_indicator(store, entry)
    periods = period_table(rows)
    periods = periods[periods["districts"] > 0]
    periods = periods.assign(year=[d.year for d in periods["start"]])
    if periods.empty:
        raise KeycitiesError(f"{indicator} has no district values: it cannot describe "
                             "districts year by year.")
    twice = periods[periods["year"].duplicated(keep=False)]
    if len(twice):
        raise KeycitiesError(f"{indicator} has several periods starting in one year ("
                             + ", ".join(twice["label"].head(4)) + "): an annual series "
                             "needs one value a year.")
    if years is not None:
        periods = periods[periods["year"].isin(list(years))]
        if periods.empty:
            raise KeycitiesError(f"{indicator} has no district values for the years asked.")
    lad_rows = rows[is_lad(rows["area_code"]) & rows["period"].isin(periods["period"])]
    target = vintage or int(lad_rows["geography_vintage"].dropna().max())
    mapped, notes = lads_on(entry, lad_rows, target, counts_from_store(store, [entry]))
    mapped = mapped.assign(year=mapped["period"].map(
        dict(zip(periods["period"], periods["year"], strict=True))))
    values = mapped.pivot_table(index="area_code", columns="year", values="value",
                                aggfunc="first").sort_index(axis=1)
    values.columns = [int(c) for c in values.columns]
    return Annual(values.rename_axis(index=None), meta,
                  dict(zip(periods["year"], periods["release_id"], strict=True)), mapped,
                  target, notes)


# ------------------------------------------------------------------ scorecards


def network_subject(network: Network, at: dt.date) -> Subject:
    """A network's members on ``at`` (their published names), on that date's boundaries."""
    members = network.members_at(at)
    check_members(members, network.name, at)
    named = members.rename(columns={"as_published": "name"})[["code", "name"]]
    return Subject("network", network.id, network.name, at, member_vintage(at),
                   named.reset_index(drop=True), tuple(membership_notes(network, at)))


def place_subject(code: str, name: str, at: dt.date) -> Subject:
    """One district, on the boundaries of ``at``."""
    return Subject("place", code, name, at, member_vintage(at),
                   pd.DataFrame({"code": [code], "name": [name]}))


def districts_subject(store: Store, at: dt.date) -> Subject:
    """Every district on the boundaries of ``at``, as one subject: its scorecard's
    :attr:`~Scorecard.ranks` give each district's row of its own scorecard (value, rank,
    verdict and trend are each district's own; they do not depend on the others)."""
    vintage = member_vintage(at)
    lads = _lads(store, vintage)
    return Subject("network", "districts", "Every district", at, vintage,
                   lads[["code", "name"]].reset_index(drop=True))


def scorecard_from_store(store: Store, subject: Subject, *, area: str | None = None,
                         library: Library | None = None) -> Scorecard:
    """Every indicator of the library (of one work area) for a network or a place.

    Each indicator is taken in its latest period with district values; its
    trend uses the five periods up to it.
    """
    lib = library or load_library()
    entries = lib.in_area(area)
    stored = set(indicator_ids(store))
    usable = [e for e in entries if e.coverage in ("lad", "upper_tier")
              and (e.id in stored or e.derived)]
    skipped: dict[str, list[str]] = {}
    for e in entries:
        if e not in usable:
            skipped.setdefault(e.area, []).append(e.id)
    rows, ranks, elsewhere = _score(store, subject, usable)
    areas: list[str] = [a for a in WORK_AREA.values if area is None or a == area]
    notes = [*subject.notes, *([n] if (n := no_district_note(skipped)) else [])]
    if elsewhere:
        notes.append(f"Not in the scorecard: {len(elsewhere)} indicator(s) published only for "
                     f"nations with no {'member' if subject.kind == 'network' else 'place'} "
                     f"here ({', '.join(elsewhere)}).")
    return Scorecard(subject, rows, ranks, areas, notes)


def _score(store: Store, subject: Subject, entries: list[Entry]
           ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Scorecard rows and member ranks, and the indicators of other nations left out."""
    ids = sorted({i for e in entries for i in e.stored_ids})
    series = indicator_series(store, ids, periods_back=5)
    meta = indicator_meta(store, ids)
    counts = counts_from_store(store, entries)
    lads = _lads(store, subject.vintage)
    by_id = {str(i): g for i, g in series.groupby("indicator")}
    rows, ranks, elsewhere = [], [], []
    nations = set(nations_of(subject.members["code"]))
    for e in entries:
        found = [by_id[i] for i in e.stored_ids if i in by_id]
        if not found:
            continue
        m, r = _meta_and_rows(e, meta, pd.concat(found))
        if not nations & set(nations_of(r.loc[is_lad(r["area_code"]), "area_code"])):
            elsewhere.append(e.id)
            continue
        view = indicator_view(e, m, r, target=subject.vintage, lads=lambda _: lads,
                              counts=counts,
                              members=subject.members)
        rows.append(scorecard_row(view, subject.kind))
        ranks.append(member_ranks(view))
    order = {a: k for k, a in enumerate(WORK_AREA.values)}
    table = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    table = table.assign(_o=table["area"].map(order)).sort_values(
        ["_o", "label"], kind="stable", ignore_index=True).drop(columns="_o")
    return table, (pd.concat(ranks, ignore_index=True) if ranks else pd.DataFrame()), elsewhere


__all__ = ["CATALOGUE_COLUMNS", "Annual", "annual_from_store", "catalogue_from_store",
           "counts_from_store",
           "districts_subject", "indicator_from_store", "load_indicator", "network_subject",
           "place_subject", "scorecard_from_store"]
