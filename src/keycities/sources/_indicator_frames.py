"""Building the two indicator frames of :mod:`keycities.sources._indicator`.

Shared by the indicator readers (real GDP, subnational indicators, age
structure, GVA by industry): cells to values and status flags, wide
area x year tables to value rows, metadata rows, and reading every release
of a family from a mirror with the files it could not read and why.

Status codes follow the GSS shorthand that ONS Explore Local Statistics
uses (without brackets): ``x`` not available, ``c`` confidential,
``z`` not applicable, ``u`` low reliability.  A cell holding a marker gives
a row with a NaN value and its status; a blank cell gives no row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from keycities.geography.areas import LAD_PREFIXES
from keycities.sources._indicator import (
    META_COLUMNS,
    VALUE_COLUMNS,
    IndicatorFrames,
    MirrorRead,
    year_period,
)
from keycities.sources._sheets import (
    SheetFormatError,
    _cell_text,
    is_area_code,
    year_columns,
)
from keycities.sources._sheets import cell_values as sheet_cell_values
from keycities.sources.base import Release, sha256_file

#: Cell texts (stripped, case-folded) that stand for "no figure", and the
#: status each gets.  ``-`` is ONS's "not applicable" (a growth rate for the
#: first year of a series); ``na`` is the subnational indicators' "not available".
STATUS_OF_MARKER: Mapping[str, str] = {
    "x": "x", "[x]": "x", "na": "x", "n/a": "x", ":": "x", "..": "x",
    "c": "c", "[c]": "c",
    "z": "z", "[z]": "z", "-": "z",
    "u": "u", "[u]": "u", "[low]": "u",
}

#: What each status code means, for captions and caveats.
STATUS_MEANING: Mapping[str, str] = {
    "x": "not available", "c": "confidential", "z": "not applicable", "u": "low reliability",
}

#: The column naming the release of each row in :class:`MirrorRead` frames.
RELEASE_COLUMN = "release_id"

Reader = Callable[[Release, Path], "IndicatorFrames"]


@dataclass(frozen=True)
class IndicatorMeta:
    """One row of the metadata frame (fields in :data:`META_COLUMNS` order)."""

    indicator: str
    label: str
    subtitle: str
    unit: str
    measure: str
    decimals: int
    source_org: str
    source_date: str | None
    source_url: str
    description: str
    caveats: str
    experimental: bool = False


def meta_frame(metas: Iterable[IndicatorMeta]) -> pd.DataFrame:
    """The metadata frame of some indicators, one row each."""
    return pd.DataFrame([astuple(m) for m in metas], columns=list(META_COLUMNS))


def cell_values(cells: pd.Series) -> pd.DataFrame:
    """Cells as numbers and status flags (:func:`keycities.sources._sheets.cell_values`
    with the status codes of :data:`STATUS_OF_MARKER`).

    Returns
    -------
    pandas.DataFrame
        Columns ``value`` (float; NaN for markers and blanks), ``status``
        (a code of :data:`STATUS_OF_MARKER` or None) and ``blank`` (bool).

    Raises
    ------
    SheetFormatError
        A cell holds text that is neither a number nor a known marker.
    """
    return sheet_cell_values(cells, STATUS_OF_MARKER, where="keycities.sources."
                             "_indicator_frames.STATUS_OF_MARKER with its status code")


def values_frame(indicator: str | Sequence[str] | pd.Series, area_code: Sequence[str] | pd.Series,
                 period: str | Sequence[str] | pd.Series, value: Sequence[float] | pd.Series, *,
                 lower: object = np.nan, upper: object = np.nan, status: object = None,
                 note: object = None) -> pd.DataFrame:
    """A value frame in :data:`VALUE_COLUMNS` order with float figures and
    None (not NaN) for missing status and note."""
    frame = pd.DataFrame({
        "indicator": _plain(indicator), "area_code": _plain(area_code),
        "period": _plain(period), "value": _plain(value), "lower": _plain(lower),
        "upper": _plain(upper), "status": _plain(status), "note": _plain(note),
    })
    for col in ("value", "lower", "upper"):
        frame[col] = pd.to_numeric(frame[col], errors="raise").astype(float)
    for col in ("status", "note"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame.reset_index(drop=True)


def _plain(column: object) -> object:
    """A column without its index (so frames built from pieces line up by position)."""
    return column.to_numpy() if isinstance(column, pd.Series) else column


def check_unique(values: pd.DataFrame, what: str) -> pd.DataFrame:
    """Return ``values`` unless an indicator, area and period appear twice.

    Raises
    ------
    SheetFormatError
        Duplicates were found; ``what`` names the table in the message.
    """
    dupes = values[values.duplicated(["indicator", "area_code", "period"])]
    if not dupes.empty:
        first = dupes.iloc[0]
        raise SheetFormatError(
            f"{what}: {len(dupes)} area and period pairs appear twice (first: "
            f"{first['area_code']} {first['period']}); the table layout has changed."
        )
    return values


def wide_values(header: pd.Series, body: pd.DataFrame, code_col: int, indicator: str, *,
                period: Callable[[int], str] = year_period,
                recode: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Value rows of a wide table: one row per area, one column per year.

    Parameters
    ----------
    header
        The header row (year columns found by
        :func:`keycities.sources._sheets.year_columns`).
    body
        The rows under the header; rows whose code cell is not an area code
        (notes, blanks) are skipped.
    code_col
        Position of the area-code column.
    indicator
        Written on every row.
    period
        Turns a column's year into the row's period (a calendar year by default).
    recode
        Code replacements, e.g. ITL to GSS codes.

    Returns
    -------
    pandas.DataFrame
        :data:`VALUE_COLUMNS` rows; blank cells give no row, markers a NaN
        value with their status.
    """
    years = year_columns(header)
    codes = body.iloc[:, code_col].map(_cell_text)
    if recode:
        codes = codes.map(lambda c: recode.get(c, c))
    keep = codes.map(is_area_code).to_numpy()
    long = (body.iloc[keep, list(years)].set_axis(list(years.values()), axis=1)
            .assign(area_code=codes[keep].to_numpy())
            .melt(id_vars="area_code", var_name="year", value_name="cell"))
    cells = cell_values(long["cell"])
    long = long[~cells["blank"].to_numpy()]
    cells = cells[~cells["blank"]]
    return values_frame(indicator, long["area_code"], long["year"].map(period),
                        cells["value"], status=cells["status"])


def read_mirror(mirror: Path, releases: Iterable[Release], reader: Reader) -> MirrorRead:
    """Read every release of a family from a mirror directory.

    Each file is looked up by its ``mirror_path`` and its sha256 checked
    against the catalog before it is read, so that no other edition is read
    under a release's name.

    Parameters
    ----------
    mirror
        A directory laid out like ``Release.mirror_path``.
    releases
        The releases to read.
    reader
        Reads one release's file into :class:`IndicatorFrames`.

    Returns
    -------
    MirrorRead
        Values and metadata of the files read, each with its ``release_id``,
        and (file, reason) for each file that is missing, has another hash or
        has a layout the reader does not know.
    """
    values, metas, failures = [], [], []
    for release in releases:
        path = mirror / str(release.mirror_path)
        problem = _unreadable(release, path)
        if problem is None:
            try:
                frames = reader(release, path)
            except SheetFormatError as exc:
                problem = f"{release.id}: {exc}"
            else:
                values.append(frames.values.assign(**{RELEASE_COLUMN: release.id}))
                metas.append(frames.meta.assign(**{RELEASE_COLUMN: release.id}))
        if problem is not None:
            failures.append((str(path), problem))
    return MirrorRead(_stack(values, VALUE_COLUMNS), _stack(metas, META_COLUMNS), failures)


def _unreadable(release: Release, path: Path) -> str | None:
    """Why a release's mirror file cannot be read, or None when it is there and verified."""
    if not path.is_file():
        return (f"{release.id}: not in the mirror. Copy the official file from {release.url} "
                f"to {path}, or set KEYCITIES_MIRROR to a mirror that has it.")
    got = sha256_file(path)
    if got != release.sha256:
        return (f"{release.id}: the file has sha256 {got}, but the catalog expects "
                f"{release.sha256}; it is another edition or damaged. Replace it with the "
                f"official file from {release.url}.")
    return None


def _stack(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=[*columns, RELEASE_COLUMN])
    return pd.concat(frames, ignore_index=True)


def lad_coverage(values: pd.DataFrame) -> pd.Series:
    """How many local authority districts each indicator has a figure for.

    Counts distinct codes starting with one of :data:`LAD_PREFIXES` that
    have a non-missing value, per indicator and, when the frame has one,
    per ``release_id``; an indicator's count is that of its best release.

    Returns
    -------
    pandas.Series
        Indexed by indicator id, sorted by id.
    """
    lads = values[values["area_code"].str.startswith(LAD_PREFIXES) & values["value"].notna()]
    keys = ["indicator", RELEASE_COLUMN] if RELEASE_COLUMN in values else ["indicator"]
    counts = lads.groupby(keys)["area_code"].nunique()
    if RELEASE_COLUMN in values:
        counts = counts.groupby(level="indicator").max()
    return counts.reindex(sorted(values["indicator"].unique()), fill_value=0)


__all__ = [
    "LAD_PREFIXES", "RELEASE_COLUMN", "STATUS_MEANING", "STATUS_OF_MARKER", "IndicatorFrames",
    "IndicatorMeta", "MirrorRead", "Reader", "cell_values", "check_unique", "lad_coverage",
    "meta_frame", "read_mirror", "values_frame", "wide_values",
]
