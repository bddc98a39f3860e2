"""Read helpers over the store: facts, the preferred release, geography tables.

These are the only place analysis inputs are read from DuckDB; analysis
modules receive the DataFrames they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES
from keycities.sources import catalog
from keycities.store.store import Store


class NoDataError(KeycitiesError):
    """The store has no value of a measure for the period asked."""

    def __init__(self, message: str, *, measure_loaded: bool, how: str = "") -> None:
        super().__init__(f"{message} {how}".strip())
        self.what = message
        """The message without ``how`` (how to load the data)."""
        self.measure_loaded = measure_loaded


@dataclass(frozen=True)
class Slice:
    """One (measure, period, release, geography vintage) of the fact table."""

    measure: str
    period: int
    release_id: str
    geography_vintage: int
    published: str


def slices(store: Store, measure: str, *, period: int | None = None,
           lad_only: bool = True) -> list[Slice]:
    """Available slices of a measure, newest release first within each period.

    The preferred release for a period is the most recently published one that
    has it (later releases revise earlier ones).  With ``lad_only``, only
    slices holding local authority districts count (a release of regional
    totals cannot give a council's figure).
    """
    df = store.query(
        """
        SELECT DISTINCT f.measure, f.period, f.release_id, f.geography_vintage,
               CAST(r.published AS VARCHAR) AS published
        FROM fact f JOIN release r ON r.id = f.release_id
        WHERE f.measure = ? AND (? IS NULL OR f.period = ?)
          AND (NOT ? OR substr(f.area_code, 1, 3) IN (SELECT UNNEST(?)))
        ORDER BY f.period DESC, r.published DESC, f.geography_vintage DESC
        """,
        [measure, period, period, lad_only, list(LAD_PREFIXES)],
    )
    return [Slice(str(m), int(p), str(r), int(v), str(d)) for m, p, r, v, d in zip(
        df["measure"], df["period"], df["release_id"], df["geography_vintage"],
        df["published"], strict=True)]


def choose_slice(store: Store, measure: str, *, period: int | None,
                 prefer_vintage: int | None) -> Slice:
    """The slice to use: latest period (or ``period``), newest release, and of
    that release's geography vintages: the preferred one; else the latest
    before it (mapping forward only sums merged areas, so it is exact); else
    the earliest after it (mapping back may need estimated splits).

    Raises
    ------
    KeycitiesError
        When the store has no value of the measure (for that period).
    """
    found = slices(store, measure, period=period)
    if not found:
        have = store.query(
            "SELECT DISTINCT period FROM fact WHERE measure = ? "
            "AND substr(area_code, 1, 3) IN (SELECT UNNEST(?)) ORDER BY 1",
            [measure, list(LAD_PREFIXES)])["period"].tolist()
        when = f" for {period}" if period is not None else ""
        years = (f" Years with local-authority values in the store: {have[0]}–{have[-1]}."
                 if have else "")
        # a measure not loaded at all: say which releases carry it and how to load them
        raise NoDataError(f"No local-authority {measure} data{when} in the store.{years}",
                          measure_loaded=bool(have),
                          how="" if have else catalog.how_to_get(measure))
    top = found[0]
    return pick_vintage([s for s in found if s.period == top.period
                         and s.release_id == top.release_id], prefer_vintage)


def pick_vintage(same: list[Slice], prefer_vintage: int | None) -> Slice:
    """Of one release-period's slices: the preferred vintage; else the latest before
    it (mapping forward only sums merged areas: exact); else the earliest after it."""
    if prefer_vintage is None:
        return max(same, key=lambda s: s.geography_vintage)
    earlier = [s for s in same if s.geography_vintage <= prefer_vintage]
    if earlier:
        return max(earlier, key=lambda s: s.geography_vintage)
    return min(same, key=lambda s: s.geography_vintage)


def slices_by_release(store: Store, measure: str, *, prefer_vintage: int | None,
                      periods: range | None = None) -> list[Slice]:
    """One slice per (period, release) of a measure, with the vintage :func:`pick_vintage`
    prefers; newest period first."""
    groups: dict[tuple[int, str], list[Slice]] = {}
    for s in slices(store, measure):
        if periods is None or s.period in periods:
            groups.setdefault((s.period, s.release_id), []).append(s)
    return [pick_vintage(g, prefer_vintage) for g in groups.values()]


def slice_values(store: Store, s: Slice, *, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """area_code, value (and unit) of one slice."""
    df = store.query(
        """
        SELECT area_code, value, unit FROM fact
        WHERE measure = ? AND period = ? AND release_id = ? AND geography_vintage = ?
        """,
        [s.measure, s.period, s.release_id, s.geography_vintage],
    )
    if codes is not None:
        df = df[df["area_code"].isin(list(codes))]
    return df.reset_index(drop=True)


#: Counts loaded as indicators that analyses use like measures: the regional accounts'
#: resident population comes with the local-authority GDP workbooks, on their boundaries.
INDICATOR_MEASURES: dict[str, str] = {
    "population_regional_accounts": "regional-accounts-population",
}


def district_values(store: Store, measures: Sequence[str],
                    codes: Sequence[str]) -> pd.DataFrame:
    """Every release's yearly figures of ``measures`` for the districts ``codes``.

    Returns
    -------
    pandas.DataFrame
        measure, area_code, period (year), value, release_id, published (ISO
        date text), geography_vintage; measures of :data:`INDICATOR_MEASURES`
        also from the calendar-year rows of their indicator.
    """
    indicators = {m: i for m, i in INDICATOR_MEASURES.items() if m in measures}
    cols = ("x.area_code, x.value, x.release_id, CAST(r.published AS VARCHAR) AS published, "
            "x.geography_vintage")
    sql = (f"SELECT x.measure, x.period, {cols} FROM fact x JOIN release r "
           "ON r.id = x.release_id WHERE x.measure IN (SELECT UNNEST(?)) "
           "AND x.area_code IN (SELECT UNNEST(?))")
    params: list[object] = [list(measures), list(codes)]
    for measure, indicator in indicators.items():
        sql += (f" UNION ALL SELECT ? AS measure, CAST(substr(x.period, 1, 4) AS INTEGER), "
                f"{cols} FROM indicator_value x JOIN release r ON r.id = x.release_id "
                "WHERE x.indicator = ? AND x.period LIKE '____-01-01/P1Y' "
                "AND x.value IS NOT NULL AND x.area_code IN (SELECT UNNEST(?))")
        params += [measure, indicator, list(codes)]
    df = store.query(sql, params)
    return df[["measure", "area_code", "period", "value", "release_id", "published",
               "geography_vintage"]]


def release_info(store: Store, release_ids: Sequence[str]) -> pd.DataFrame:
    """Provenance rows of the given releases."""
    return store.query(
        "SELECT id, publisher, title, url, published, reference_period, geography_vintage, "
        "licence, sha256, notes FROM release WHERE id IN (SELECT UNNEST(?)) ORDER BY id",
        [list(release_ids)],
    )


def releases_in_force(store: Store, until: dt.datetime) -> tuple[pd.DataFrame, list[str]]:
    """The version of each release that the store held at ``until``, and how its data
    differs now.

    Parameters
    ----------
    store
        A built store.
    until
        A time (UTC, naive or aware).

    Returns
    -------
    (pandas.DataFrame, list of str)
        One row per release loaded by ``until``: id, source, sha256, reader_version,
        loaded_at (the load in force then); and one sentence per difference with the
        store's data now: a release loaded since for the first time, loaded since from
        another file or by another reader, or no longer in the store.  No sentences:
        the store's figures are those of ``until``.
    """
    if until.tzinfo is not None:
        until = until.astimezone(dt.UTC).replace(tzinfo=None)
    then = store.query(
        "SELECT id, source, sha256, reader_version, loaded_at FROM release_history "
        "WHERE loaded_at <= ? QUALIFY row_number() OVER (PARTITION BY id "
        "ORDER BY loaded_at DESC) = 1 ORDER BY source, id", [until])
    now = store.query("SELECT id, sha256, reader_version, loaded_at FROM release "
                      "ORDER BY source, id").set_index("id")
    was = {str(r): (str(h), str(v)) for r, h, v in
           zip(then["id"], then["sha256"], then["reader_version"], strict=True)}
    notes = []
    for rid, row in now.iterrows():
        if rid not in was:
            notes.append(f"{rid} was first loaded on {row['loaded_at']:%Y-%m-%d %H:%M} UTC, "
                         "after that time.")
        elif was[str(rid)] != (row["sha256"], row["reader_version"]):
            sha, reader = was[str(rid)]
            notes.append(
                f"{rid} then came from file sha256 {sha} read by reader {reader}; the store "
                f"now holds sha256 {row['sha256']}, reader {row['reader_version']}, loaded "
                f"on {row['loaded_at']:%Y-%m-%d %H:%M} UTC.")
    notes += [f"{rid} was in the store then and is not now." for rid in was
              if rid not in now.index]
    return then, notes


def geography_tables(store: Store) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                             pd.DataFrame]:
    """(area rows, change rows, alias rows, split weights) as stored."""
    return (store.table("area"), store.table("change"), store.table("alias"),
            store.table("split_weight"))


def official_area_count(store: Store, *, besides: str) -> int:
    """Rows of the ``area`` table from releases other than ``besides`` (the package's names)."""
    n = store.query("SELECT count(*) AS n FROM area WHERE release_id <> ?", [besides])
    return int(n["n"].iloc[0])


def postcode_profile(store: Store, vintage: int) -> pd.DataFrame:
    """code, postcodes, postcodes_with_grid, lon, lat, release_id of each area of ``vintage``."""
    return store.query("SELECT code, postcodes, postcodes_with_grid, lon, lat, release_id "
                       "FROM postcode_profile WHERE geography_vintage = ?", [vintage])


def oac_shares(store: Store, level: str) -> pd.DataFrame:
    """code, oac_code, oac_name, postcodes, share, release_id of one OAC level."""
    return store.query("SELECT code, oac_code, oac_name, postcodes, share, release_id "
                       "FROM oac_share WHERE level = ?", [level])


def postcode_place_set(store: Store, level: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(places, OAC shares, notes) of the postcode districts or sectors, by code.

    Raises
    ------
    KeycitiesError
        When the store has none (it predates them, or the build failed).
    """
    places = store.query("SELECT * EXCLUDE (release_id) FROM postcode_place WHERE level = ? "
                         "ORDER BY code", [level])
    if places.empty:
        raise KeycitiesError(f"The store has no postcode {level}s: run `keycities build "
                             "postcodes` (they are made from the package-shipped postcode "
                             "directory).")
    oac = store.query("SELECT * FROM postcode_place_oac WHERE level IN ('supergroup', 'group') "
                      "AND code IN (SELECT code FROM postcode_place WHERE level = ?) "
                      "ORDER BY code, level, oac_code", [level])
    notes = store.query("SELECT note FROM postcode_place_note WHERE level = ? ORDER BY position",
                        [level])
    return places, oac, [str(n) for n in notes["note"]]


def totals(store: Store, release_id: str, measures: Sequence[str]) -> dict[str, float]:
    """Sum of each measure over every area of a release (e.g. the UK's referendum votes)."""
    df = store.query(
        "SELECT measure, sum(value) AS v FROM fact WHERE release_id = ? "
        "AND measure IN (SELECT UNNEST(?)) GROUP BY measure", [release_id, list(measures)])
    return {str(m): float(v) for m, v in zip(df["measure"], df["v"], strict=True)}


def area_series(store: Store, code: str, measure: str, *,
                periods: range | None = None) -> pd.DataFrame:
    """period, value, release_id, published of one area's measure, newest release first."""
    df = store.query(
        "SELECT f.period, f.value, f.release_id, r.published FROM fact f JOIN release r "
        "ON r.id = f.release_id WHERE f.area_code = ? AND f.measure = ? "
        "ORDER BY f.period DESC, r.published DESC", [code, measure])
    if periods is not None:
        df = df[df["period"].isin(list(periods))]
    return df.reset_index(drop=True)


def boundaries(store: Store, vintage: int) -> pd.DataFrame:
    """code, name, geojson, release_id of every boundary of ``vintage``, by code."""
    return store.query(
        "SELECT code, name, geojson, release_id FROM boundary "
        "WHERE geography_vintage = ? ORDER BY code", [vintage])
