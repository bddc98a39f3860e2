"""Place sets finer than local authorities: postcode districts and sectors, or a CSV.

Built from the two datasets shipped in Python packages (see
:mod:`keycities.sources.postcodes`): the ONS Postcode Directory (ONSPD, Nov
2025) and the 2011 Output Area Classification (OAC) of each postcode.  A
user may instead supply places and features from a CSV
(:meth:`PlaceSet.from_csv`).

Formulation
-----------
A postcode in pcd7 layout (``"B1  1AA"``, ``"SR1 1AA"``, ``"SW1A1AA"``) has
an outward code, its first four characters less trailing spaces (the
**postcode district**, ``"B1"``), and an inward code, its last three.  The
**postcode sector** is the district, a space and the first inward character
(``"B1 1"``).  For each place *p* with postcode set *P*:

* ``postcodes`` = |P|, every postcode ONSPD lists, **terminated ones
  included** (the package keeps no termination date), as in the LAD profiles;
* (``easting``, ``northing``) = mean grid reference of the postcodes of *P*
  that have one, on the publisher's grid: the Irish Grid (EPSG:29903) in
  Northern Ireland, the British National Grid (EPSG:27700) elsewhere;
  ``lon``/``lat`` are that centroid converted to WGS84.  A place whose
  postcodes lie on both grids would have no meaningful mean: its centroid is
  left missing (none does in the shipped data);
* ``main_lad`` = the 2025 LAD holding most of *P* (ties to the smallest
  code), ``main_lad_share`` = that LAD's postcodes / |P|, ``lads`` = the
  number of LADs *P* touches;
* OAC shares: ``oac_matched`` = postcodes of *P* found in the OAC postcode
  lookup at unit level; the share of class *c* (supergroup or group) is
  (matched postcodes in *c*) / ``oac_matched``, summing to 1 per place and
  level (:func:`keycities.sources.postcodes.oac_share_rows`).  They are
  shares of postcodes, not of residents.

As in the LAD profiles, postcodes with no LAD (they have no grid reference
either) and the pseudo-areas ``L99999999`` (Channel Islands) and
``M99999999`` (Isle of Man) are left out, so districts such as ``GY1`` or
``IM1`` are not places here.  Source: ONS, *ONS Postcode Directory User
Guide* (postcode unit, sector, district definitions); ONS, *2011 Area
Classification for Output Areas*.

The tables are computed from the package data by
:mod:`keycities.sources.postcode_places` (array code) and kept in the store;
this module holds the :class:`PlaceSet` made from them, and a user's own places
read from a CSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.numbers import NumberError, parse_number
from keycities.errors import KeycitiesError, RegisterError
from keycities.network.loader import (
    by_line,
    clip,
    csv_records,
    decode_user_text,
    read_user_file,
)
from keycities.sources.postcode_places import OAC_COLUMNS, Level, place_tables
from keycities.sources.postcodes import OAC_RELEASE, ONSPD_RELEASE

CSV_REQUIRED = ("code", "name", "lat", "lon")


class PlaceFileError(RegisterError):
    """A user's places file with problems; ``problems`` lists each with its line."""


# --------------------------------------------------------------------------- result


@dataclass
class PlaceSet:
    """A set of places with their profile and OAC mix.

    Attributes
    ----------
    level
        ``"district"``, ``"sector"`` or ``"csv"`` (a user's own places).
    places
        One row per place, columns :data:`PLACE_COLUMNS` (a CSV set has
        ``code``, ``name``, ``level``, ``lat``, ``lon``).
    oac
        Long table of OAC shares: :data:`OAC_COLUMNS`, one row per place,
        level (``"supergroup"`` | ``"group"``) and class present.
    releases
        Ids of the releases used (none for a CSV set).
    notes
        Human sentences: the formulation, what was left out, caveats.
    user_features
        A CSV set's numeric feature columns, indexed by ``code``.
    """

    level: str
    places: pd.DataFrame
    oac: pd.DataFrame
    releases: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    user_features: pd.DataFrame | None = None

    def features(self, *, oac_levels: tuple[str, ...] = ("supergroup",),
                 log_postcodes: bool = True, min_matched: int = 1) -> pd.DataFrame:
        """A wide feature table, one row per place, ready to standardise.

        Columns ``oac_<code>`` hold the share of each OAC class at the
        chosen levels (a class absent from a place that has matches is a
        true 0), and ``log_postcodes`` = ln(``postcodes``).  A place with
        fewer than ``min_matched`` unit-matched postcodes has its shares
        missing (NaN), never zero-filled; the caller imputes or excludes.
        For a CSV set the user's feature columns are returned as they are.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``code`` in the order of :attr:`places`.
        """
        if self.user_features is not None:
            return self.user_features.copy()
        unknown = set(oac_levels) - {"supergroup", "group"}
        if unknown:
            raise KeycitiesError(f"Unknown OAC level(s) {sorted(unknown)}: use 'supergroup' "
                                 "and/or 'group'.")
        codes = pd.Index(self.places["code"], name="code")
        rows = self.oac[self.oac["level"].isin(oac_levels)]
        wide = (rows.pivot(index="code", columns="oac_code", values="share")
                .reindex(index=codes).fillna(0.0))
        wide.columns = [f"oac_{c}" for c in wide.columns]
        too_few = (self.places["oac_matched"] < max(min_matched, 1)).to_numpy()
        wide.loc[too_few, :] = np.nan
        if log_postcodes:
            wide["log_postcodes"] = np.log(self.places["postcodes"].to_numpy(float))
        return wide

    def to_frame(self) -> pd.DataFrame:
        """One row per place (:attr:`places`)."""
        return self.places.copy()

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: inputs, per-place rows, OAC shares, totals, notes, releases."""
        out: dict[str, Any] = {
            "inputs": {"level": self.level},
            "places": _records(self.places),
            "oac": _records(self.oac),
            "totals": {"places": len(self.places)},
            "notes": list(self.notes),
            "releases": list(self.releases),
        }
        if "postcodes" in self.places:
            out["totals"]["postcodes"] = int(self.places["postcodes"].sum())
        if self.user_features is not None:
            out["features"] = _records(self.user_features.reset_index())
        return out

    @classmethod
    def from_csv(cls, path: Path | str) -> PlaceSet:
        """A user's own places and features from a CSV (see :func:`read_places_csv`)."""
        return read_places_csv(Path(path))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, missing values as None."""
    rows = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    return [{str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in rows]


# --------------------------------------------------------------------------- postcode keys


# --------------------------------------------------------------------------- aggregation


# --------------------------------------------------------------------------- core


# --------------------------------------------------------------------------- CSV


def postcode_places(level: Level, *, postcodes: pd.DataFrame, oac: pd.DataFrame,
                    names: pd.DataFrame | None = None) -> PlaceSet:
    """Postcode districts or sectors with postcode count, centroid, main LAD and OAC mix.

    The formulation is in the module docstring and
    :func:`keycities.sources.postcode_places.place_tables`, which computes the
    tables (the store holds them, built at ``keycities build``:
    :func:`keycities.analysis.places.from_store.postcode_place_set`).

    Parameters
    ----------
    level
        ``"district"`` or ``"sector"``.
    postcodes, oac, names
        As :func:`keycities.sources.postcode_places.place_tables` takes them.
    """
    places, shares, notes = place_tables(level, postcodes=postcodes, oac=oac, names=names)
    return PlaceSet(level, places, shares, (ONSPD_RELEASE.id, OAC_RELEASE.id), notes)


def read_places_csv(path: Path) -> PlaceSet:
    """Read and validate a user's places-and-features CSV.

    Columns (header required, any case): ``code``, ``name``, ``lat``,
    ``lon`` (WGS84 degrees), then one or more numeric feature columns.  An
    empty feature cell is a missing value (kept as NaN for the caller to
    impute or exclude); anything else must be a finite number as a
    spreadsheet writes it (:func:`keycities._util.numbers.parse_number`: no
    ``1_000``, ``nan`` or ``inf``).  Codes must be unique.  The file must be
    UTF-8 text and strictly valid CSV (the checks of
    :mod:`keycities.network.loader`); a problem in a row that spans several
    lines (a quoted cell with a line break) names the line the row starts on.

    Raises
    ------
    PlaceFileError
        Listing every problem with its line number; nothing is loaded.
    KeycitiesError
        When the file does not exist or cannot be read.
    """
    text, problems = decode_user_text(read_user_file(path, "Places file"))
    records, csv_problems = csv_records(text) if not problems else ([], [])
    if problems or csv_problems:
        raise PlaceFileError(str(path), [*problems, *csv_problems])
    header_line, raw_header = records[0] if records else (1, [])
    header = [c.strip().lower() for c in raw_header]
    rows = [(line, [c.strip() for c in cells]) for line, cells in records[1:]]
    problems = _header_problems(header, header_line)
    if problems:
        raise PlaceFileError(str(path), problems)
    feature_cols = [c for c in header if c not in CSV_REQUIRED]
    parsed = [_parse_row(line, cells, header, problems) for line, cells in rows]
    problems.extend(_duplicate_codes(parsed, [line for line, _ in rows]))
    if not rows:
        problems.append(f"line {header_line + 1}: the file lists no places")
    if problems:
        raise PlaceFileError(str(path), by_line(problems))
    table = pd.DataFrame(parsed, columns=[*CSV_REQUIRED, *feature_cols])
    places = table[list(CSV_REQUIRED)].assign(level="csv")[["code", "name", "level", "lat",
                                                           "lon"]]
    feats = table.set_index("code")[feature_cols].astype(float)
    missing = int(feats.isna().sum().sum())
    notes = [f"{len(places)} places and {len(feature_cols)} feature(s) "
             f"({', '.join(feature_cols)}) supplied by the user in {path.name}."]
    if missing:
        notes.append(f"{missing} feature value(s) are missing (empty cells), left as missing.")
    return PlaceSet("csv", places, pd.DataFrame(columns=OAC_COLUMNS), (), notes, feats)


def _header_problems(header: list[str], line: int) -> list[str]:
    problems = []
    absent = [c for c in CSV_REQUIRED if c not in header]
    if absent:
        problems.append(f"line {line}: header lacks {', '.join(absent)} (need code, name, lat, "
                        f"lon, then numeric feature columns; got {[clip(h) for h in header]})")
    dupes = sorted({clip(c) for c in header if header.count(c) > 1})
    if dupes:
        problems.append(f"line {line}: column(s) {', '.join(dupes)} appear more than once")
    if "" in header:
        problems.append(f"line {line}: a column has no name")
    if not problems and len(header) == len(CSV_REQUIRED):
        problems.append(f"line {line}: no feature columns after code, name, lat, lon")
    return problems


def _parse_row(line: int, cells: list[str], header: list[str],
               problems: list[str]) -> dict[str, Any]:
    """One row's values; problems are appended with the line number."""
    if len(cells) != len(header):
        problems.append(f"line {line}: {len(cells)} cells, the header has {len(header)}")
    values = dict(zip(header, cells, strict=False))
    feature_cols = [c for c in header if c not in CSV_REQUIRED]
    out: dict[str, Any] = {"code": values.get("code", ""), "name": values.get("name", "")}
    for col in ("code", "name"):
        if not out[col]:
            problems.append(f"line {line}: '{col}' is empty")
    for col, bound in (("lat", 90.0), ("lon", 180.0)):
        out[col] = _coordinate(line, col, values.get(col, ""), bound, problems)
    for col in feature_cols:
        cell = values.get(col, "")
        try:
            out[col] = math.nan if cell == "" else parse_number(cell)
        except NumberError as exc:
            out[col] = None
            problems.append(f"line {line}: {clip(col)} {clip(cell)!r} {exc}")
    return out


def _coordinate(line: int, col: str, cell: str, bound: float,
                problems: list[str]) -> float | None:
    """A latitude or longitude within ``bound`` degrees, or None with a problem appended."""
    try:
        value = parse_number(cell)
    except NumberError as exc:
        problems.append(f"line {line}: {col} {clip(cell)!r} {exc}; {col} must be a number "
                        f"between -{bound:g} and {bound:g}")
        return None
    if abs(value) > bound:
        problems.append(f"line {line}: {col} {clip(cell)!r} is not a number between "
                        f"-{bound:g} and {bound:g}")
        return None
    return value


def _duplicate_codes(parsed: list[dict[str, Any]], lines: list[int]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for line, row in zip(lines, parsed, strict=True):
        code = row["code"]
        if code and code in first:
            problems.append(f"line {line}: code {clip(code)!r} already given on line "
                            f"{first[code]}")
        first.setdefault(code, line)
    return problems
