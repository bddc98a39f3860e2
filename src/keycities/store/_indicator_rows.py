"""Indicator rows as the store keeps them: periods as dates, each period's boundary vintage.

Readers return :data:`~keycities.sources._indicator.VALUE_COLUMNS` (periods as
ISO 8601 text); the store adds each period's first and last day and the LAD
boundary vintage its district codes are on
(:func:`~keycities.geography.areas.vintage_of_codes`: older periods of a file
keep the codes of their time), and the release id.
"""

from __future__ import annotations

import pandas as pd

from keycities.errors import KeycitiesError
from keycities.geography.areas import package_changes, vintage_of_codes
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS, Period
from keycities.sources.base import Release

VALUE_TABLE_COLUMNS = ("indicator", "area_code", "geography_vintage", "period", "period_start",
                       "period_end", "value", "lower", "upper", "status", "note", "release_id")


def _need(release: Release, rows: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise KeycitiesError(f"{release.id}: indicator reader output lacks columns {missing}")


def indicator_value_rows(release: Release, rows: pd.DataFrame,
                         changes: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` with period dates, each period's boundary vintage and the release id."""
    _need(release, rows, VALUE_COLUMNS)
    out = rows[list(VALUE_COLUMNS)].copy()
    periods = {p: Period.parse(p) for p in out["period"].unique()}
    out["period_start"] = out["period"].map({p: v.start for p, v in periods.items()})
    out["period_end"] = out["period"].map({p: v.end for p, v in periods.items()})
    ch = changes if changes is not None else package_changes()
    vintage = {p: vintage_of_codes(g, ch, year=periods[p].start.year)
               for p, g in out.groupby("period")["area_code"]}
    out["geography_vintage"] = out["period"].map(vintage).astype("Int32")
    for col in ("value", "lower", "upper"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    for col in ("status", "note"):
        out[col] = out[col].astype("string")
    out["release_id"] = release.id
    return out[list(VALUE_TABLE_COLUMNS)]


def indicator_rows(release: Release, rows: pd.DataFrame) -> pd.DataFrame:
    """The metadata rows with the release id (source dates as dates)."""
    _need(release, rows, META_COLUMNS)
    out = rows[list(META_COLUMNS)].copy()
    out["source_date"] = pd.to_datetime(out["source_date"], errors="coerce").dt.date
    out["decimals"] = pd.to_numeric(out["decimals"], errors="coerce").astype("Int32")
    out["experimental"] = out["experimental"].astype("boolean")
    out["release_id"] = release.id
    return out
