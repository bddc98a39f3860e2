"""Queries over the indicator tables: the catalogue, metadata, one series per indicator.

A *series* takes each period of an indicator from the newest release that has
it (by publication date; tables of one publication published the same day,
such as the ITL1/2/3 tables of GVA by industry, count as one release and the
first by id wins where they overlap).  Each row keeps its ``release_id``, so a
series that joins releases shows where (the analysis notes the break).

Each function is one query: the web page of one indicator needs one series and
its metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from keycities.geography.areas import LAD_PREFIXES
from keycities.store.store import Store

COMPARATOR_CODES: tuple[str, ...] = ("E92000001", "K02000001", "K03000001", "K04000001",
                                     "W92000004", "S92000003", "N92000002")
"""England, the UK, GB, England and Wales and the nations (with regions: E12 codes)."""

_SERIES = """
WITH picked AS (
    SELECT v.indicator, v.area_code, v.geography_vintage, v.period, v.period_start,
           v.period_end, v.value, v.lower, v.upper, v.status, v.note, v.release_id,
           r.published
    FROM indicator_value v JOIN release r ON r.id = v.release_id
    WHERE v.indicator IN (SELECT UNNEST($ids))
      AND (substr(v.area_code, 1, 3) IN (SELECT UNNEST($lads))
           OR (NOT $lads_only AND (v.area_code IN (SELECT UNNEST($comparators))
                                   OR substr(v.area_code, 1, 3) = 'E12')))
    QUALIFY rank() OVER (PARTITION BY v.indicator, v.period ORDER BY r.published DESC) = 1
), deduped AS (
    SELECT * FROM picked
    QUALIFY row_number() OVER (PARTITION BY indicator, period, area_code
                               ORDER BY release_id) = 1
), recent AS (
    SELECT *, dense_rank() OVER (PARTITION BY indicator
                                 ORDER BY period_start DESC, period DESC) AS back
    FROM deduped
)
SELECT * EXCLUDE (back) FROM recent
WHERE $back IS NULL OR back <= $back
ORDER BY indicator, period_start, area_code
"""


def indicator_series(store: Store, ids: Sequence[str], *, periods_back: int | None = None,
                     lads_only: bool = False) -> pd.DataFrame:
    """The series of each indicator in ``ids``: districts and comparator areas.

    Parameters
    ----------
    store
        A built store.
    ids
        Indicator ids.
    periods_back
        Only the latest this many periods of each indicator (None: all).
    lads_only
        Only district rows (no England, GB, UK, nations or regions).

    Returns
    -------
    pandas.DataFrame
        The ``indicator_value`` columns plus ``published`` (the release's date),
        each (indicator, period) from one release, oldest period first.
    """
    return store.query(_SERIES, {
        "ids": list(ids), "lads": list(LAD_PREFIXES), "comparators": list(COMPARATOR_CODES),
        "lads_only": lads_only, "back": periods_back})


def indicator_meta(store: Store, ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The metadata of each indicator from its newest release (all indicators when None),
    with the release's publisher and publication date."""
    return store.query(
        """
        SELECT i.*, r.publisher, r.published, r.title AS release_title, r.url AS release_url,
               r.licence
        FROM indicator i JOIN release r ON r.id = i.release_id
        WHERE $ids IS NULL OR i.indicator IN (SELECT UNNEST($ids))
        QUALIFY row_number() OVER (PARTITION BY i.indicator
                                   ORDER BY r.published DESC, i.release_id) = 1
        ORDER BY i.indicator
        """, {"ids": None if ids is None else list(ids)})


def indicator_catalogue(store: Store) -> pd.DataFrame:
    """One row per stored indicator: its newest metadata, latest period and coverage.

    Returns
    -------
    pandas.DataFrame
        indicator, label, subtitle, unit, measure, decimals, source_org, source_date,
        source_url, caveats, experimental, release_id, published; latest_period
        (the latest period with any value); lad_period (the latest with district
        values), districts (how many districts have a value in it), nations
        (first letters of their codes: E, W, S, N).
    """
    return store.query(
        """
        WITH meta AS (
            SELECT i.*, r.published FROM indicator i JOIN release r ON r.id = i.release_id
            QUALIFY row_number() OVER (PARTITION BY i.indicator
                                       ORDER BY r.published DESC, i.release_id) = 1
        ), latest AS (
            SELECT indicator, arg_max(period, period_start) AS latest_period
            FROM indicator_value WHERE value IS NOT NULL GROUP BY indicator
        ), lad AS (
            SELECT indicator, period AS lad_period, count(DISTINCT area_code) AS districts,
                   string_agg(DISTINCT substr(area_code, 1, 1), '' ORDER BY
                              substr(area_code, 1, 1)) AS nations
            FROM indicator_value
            WHERE value IS NOT NULL AND substr(area_code, 1, 3) IN (SELECT UNNEST($lads))
            GROUP BY indicator, period
            QUALIFY row_number() OVER (PARTITION BY indicator
                                       ORDER BY max(period_start) DESC) = 1
        )
        SELECT meta.indicator, meta.label, meta.subtitle, meta.unit, meta.measure,
               meta.decimals, meta.source_org, meta.source_date, meta.source_url,
               meta.caveats, meta.experimental, meta.release_id, meta.published,
               latest.latest_period, lad.lad_period, coalesce(lad.districts, 0) AS districts,
               coalesce(lad.nations, '') AS nations
        FROM meta LEFT JOIN latest USING (indicator) LEFT JOIN lad USING (indicator)
        ORDER BY meta.indicator
        """, {"lads": list(LAD_PREFIXES)})


def indicator_ids(store: Store) -> list[str]:
    """Every indicator id with metadata in the store, sorted."""
    return [str(i) for i in store.query(
        "SELECT DISTINCT indicator FROM indicator ORDER BY 1")["indicator"]]


__all__ = ["COMPARATOR_CODES", "indicator_catalogue", "indicator_ids", "indicator_meta",
           "indicator_series"]
