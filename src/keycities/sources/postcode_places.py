"""Postcode districts and sectors: their profile and OAC mix, from the package data.

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

The work is array code: postcodes become 64-bit integer keys (their pcd7
bytes), places are integer codes, and counts, sums, the postcode-by-LAD and
the place-by-OAC-subgroup tables are ``numpy.bincount`` results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keycities.errors import KeycitiesError
from keycities.sources.postcodes import (
    BRITISH_GRID,
    IRISH_GRID,
    OAC_RELEASE,
    ONSPD_RELEASE,
    grid_to_lonlat,
    load_oac,
    load_oac_names,
    load_postcodes,
    oac_share_rows,
)

Level = Literal["district", "sector"]


#: Bytes of the pcd7 postcode that make up each place's key.
KEY_WIDTH: dict[str, int] = {"district": 4, "sector": 5}


PLACE_COLUMNS = ["code", "name", "level", "postcodes", "postcodes_with_grid", "easting",
                 "northing", "grid", "lon", "lat", "main_lad", "main_lad_share", "lads",
                 "oac_matched", "oac_coverage"]


OAC_COLUMNS = ["code", "level", "oac_code", "oac_name", "postcodes", "share", "release_id"]


def _text_array(values: pd.Series, problem: str) -> pa.Array:
    """``values`` as one Arrow large-string array; ``problem`` names the error."""
    try:
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise KeycitiesError(f"{problem} ({exc}).") from exc
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _pcd7_bytes(values: pd.Series, what: str) -> np.ndarray:
    """``(n, 7)`` uint8 array of pcd7 postcodes, without a Python string per row."""
    arr = _text_array(values, f"{what}: column 'pcd' must hold postcode strings")
    bad = pc.invert(pc.fill_null(pc.equal(pc.binary_length(arr), 7), False))
    if len(arr) and pc.any(bad).as_py():
        examples = arr.filter(bad)[:3].to_pylist()
        raise KeycitiesError(f"{what}: postcodes must be in pcd7 layout (7 characters, e.g. "
                             f"'B1  1AA', 'SW1A1AA'); found {examples}.")
    if not len(arr):
        return np.zeros((0, 7), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    # Every value is 7 bytes, so the values are the 7n contiguous bytes from the first offset.
    return data[offsets[0]:offsets[-1]].reshape(-1, 7)


def _keys(chars: np.ndarray, width: int) -> np.ndarray:
    """The first ``width`` bytes of each postcode as one big-endian unsigned integer."""
    buf = np.zeros((len(chars), 8), dtype=np.uint8)
    buf[:, :width] = chars[:, :width]
    return buf.view(">u8").ravel().astype(np.uint64)


def _place_codes(keys: np.ndarray, level: str) -> tuple[np.ndarray, list[str]]:
    """Integer place of each postcode and the place codes (``"B1"``, ``"B1 1"``)."""
    inverse, uniques = pd.factorize(keys, sort=True)
    raw = np.asarray(uniques, dtype=np.uint64).astype(">u8").view("S8")
    text = [b.decode("ascii", "replace") for b in raw.tolist()]
    if level == "district":
        return inverse, [t.rstrip() for t in text]
    return inverse, [f"{t[:4].rstrip()} {t[4]}" for t in text]


def _codes(values: pd.Series, what: str) -> tuple[np.ndarray, list[str]]:
    """Integer code of each value (-1 when missing) and the distinct values."""
    arr = _text_array(values, f"{what} must hold text codes")
    encoded = pc.dictionary_encode(arr)
    index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return index.astype(np.int64), [str(v) for v in encoded.dictionary.to_pylist()]


def _oac_subgroups(post_keys: np.ndarray, oac: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Index of each postcode's OAC subgroup (-1 when unmatched) and the subgroup codes."""
    if not {"pcd", "oac"} <= set(oac.columns):
        raise KeycitiesError("oac must have columns ['pcd', 'oac'] (see load_oac).")
    oac_keys = _keys(_pcd7_bytes(oac["pcd"], "oac"), 7)
    classes, names = _codes(oac["oac"], "oac column 'oac'")
    # A sort-merge join: both packages list postcodes in order, so the sort is
    # nearly free and the binary search beats hashing 2.7M keys.
    order = np.argsort(oac_keys, kind="stable")
    sorted_keys = oac_keys[order]
    if (sorted_keys[1:] == sorted_keys[:-1]).any():
        raise KeycitiesError("oac lists a postcode more than once; give one class per postcode.")
    if not len(sorted_keys):
        return np.full(len(post_keys), -1, dtype=np.int64), names
    pos = np.minimum(np.searchsorted(sorted_keys, post_keys), len(sorted_keys) - 1)
    found = sorted_keys[pos] == post_keys
    return np.where(found, classes[order[pos]], -1), names


@dataclass(frozen=True)
class _Postcodes:
    """Postcodes kept, as integer codes: place, LAD, OAC subgroup; grid references."""

    place: np.ndarray
    place_codes: list[str]
    lad: np.ndarray
    lad_codes: list[str]
    oac: np.ndarray
    oac_codes: list[str]
    easting: np.ndarray
    northing: np.ndarray
    dropped_no_lad: int
    dropped_pseudo: int


def _encode(postcodes: pd.DataFrame, oac: pd.DataFrame, level: str) -> _Postcodes:
    missing = [c for c in ("pcd", "lad", "easting", "northing") if c not in postcodes]
    if missing:
        raise KeycitiesError(f"postcodes lacks column(s) {missing} (see load_postcodes).")
    chars = _pcd7_bytes(postcodes["pcd"], "postcodes")
    post_keys = _keys(chars, 7)
    sub, sub_codes = _oac_subgroups(post_keys, oac)
    lad, lad_codes = _codes(postcodes["lad"], "postcodes column 'lad'")
    pseudo_ids = [i for i, c in enumerate(lad_codes) if c.endswith("99999999")]
    pseudo = np.isin(lad, pseudo_ids)
    keep = (lad >= 0) & ~pseudo
    place, place_codes = _place_codes(_keys(chars[keep], KEY_WIDTH[level]), level)
    return _Postcodes(place, place_codes, lad[keep], lad_codes, sub[keep], sub_codes,
                      postcodes["easting"].to_numpy(float)[keep],
                      postcodes["northing"].to_numpy(float)[keep],
                      int((lad < 0).sum()), int(pseudo.sum()))


def _centroids(p: _Postcodes, n: int) -> pd.DataFrame:
    """Postcode counts and mean grid reference per place, on one grid or none."""
    grid = np.isfinite(p.easting) & np.isfinite(p.northing)
    irish_lad = np.array([c.startswith("N") for c in p.lad_codes], dtype=bool)
    irish = irish_lad[p.lad] & grid
    with_grid = np.bincount(p.place[grid], minlength=n)
    n_irish = np.bincount(p.place[irish], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        east = np.bincount(p.place[grid], weights=p.easting[grid], minlength=n) / with_grid
        north = np.bincount(p.place[grid], weights=p.northing[grid], minlength=n) / with_grid
    mixed = (n_irish > 0) & (n_irish < with_grid)
    east[mixed], north[mixed] = np.nan, np.nan
    on_irish = pd.Series(np.where(n_irish == with_grid, "N", "G"))
    lon, lat = grid_to_lonlat(on_irish, pd.Series(east), pd.Series(north))
    grids = np.full(n, BRITISH_GRID, dtype=object)
    grids[n_irish > 0], grids[mixed], grids[with_grid == 0] = IRISH_GRID, "mixed", None
    return pd.DataFrame({"postcodes": np.bincount(p.place, minlength=n),
                         "postcodes_with_grid": with_grid, "easting": east, "northing": north,
                         "grid": grids, "lon": lon, "lat": lat})


def _main_lads(p: _Postcodes, n: int) -> pd.DataFrame:
    """Each place's LAD with most postcodes (ties: smallest code), its share, LAD count."""
    order = np.argsort(p.lad_codes)  # so that argmax breaks ties by the smallest code
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    m = len(order)
    table = np.bincount(p.place * m + rank[p.lad], minlength=n * m).reshape(n, m)
    best = table.argmax(axis=1)
    total = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = table[np.arange(n), best] / total
    return pd.DataFrame({"main_lad": np.asarray(p.lad_codes, dtype=object)[order][best],
                         "main_lad_share": share, "lads": (table > 0).sum(axis=1)})


def _subgroup_counts(p: _Postcodes, n: int) -> pd.DataFrame:
    """(code, oac, postcodes) rows: matched postcodes per place and OAC subgroup."""
    m = len(p.oac_codes)
    hit = p.oac >= 0
    table = np.bincount(p.place[hit] * m + p.oac[hit], minlength=n * m).reshape(n, m)
    rows, cols = np.nonzero(table)
    return pd.DataFrame({"code": np.asarray(p.place_codes, dtype=object)[rows],
                         "oac": np.asarray(p.oac_codes, dtype=object)[cols],
                         "postcodes": table[rows, cols]})


def place_tables(level: Level, *, postcodes: pd.DataFrame | None = None,
                 oac: pd.DataFrame | None = None,
                 names: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Postcode districts or sectors with postcode count, centroid, main LAD and OAC mix.

    The formulation is in the module docstring.

    Parameters
    ----------
    level
        ``"district"`` (outward code, ``"SR1"``) or ``"sector"`` (outward
        code and first inward character, ``"SR1 1"``).
    postcodes
        Output of :func:`keycities.sources.postcodes.load_postcodes`
        (``pcd`` in pcd7 layout, ``lad``, ``easting``, ``northing``);
        default read from the installed package.
    oac
        Output of :func:`keycities.sources.postcodes.load_oac` (``pcd``,
        ``oac`` subgroup code); default read from the installed package.
    names
        Output of :func:`keycities.sources.postcodes.load_oac_names`.

    Returns
    -------
    (places, oac, notes)
        Places sorted by code (:data:`PLACE_COLUMNS`), their OAC shares
        (:data:`OAC_COLUMNS`) and notes naming the releases.

    Raises
    ------
    KeycitiesError
        Unknown level, missing columns, postcodes not in pcd7 layout.
    """
    if level not in KEY_WIDTH:
        raise KeycitiesError(f"Unknown place level {level!r}: use 'district' or 'sector'.")
    postcodes = load_postcodes() if postcodes is None else postcodes
    oac = load_oac() if oac is None else oac
    p = _encode(postcodes, oac, level)
    n = len(p.place_codes)
    places = pd.concat([_centroids(p, n), _main_lads(p, n)], axis=1)
    places.insert(0, "code", p.place_codes)
    places.insert(1, "name", p.place_codes)
    places.insert(2, "level", level)
    places["oac_matched"] = np.bincount(p.place[p.oac >= 0], minlength=n)
    places["oac_coverage"] = places["oac_matched"] / places["postcodes"]
    names = load_oac_names() if names is None else names
    shares = oac_share_rows(_subgroup_counts(p, n), names, OAC_RELEASE)
    return places[PLACE_COLUMNS], shares[OAC_COLUMNS], _notes(level, places, p)


def _notes(level: str, places: pd.DataFrame, p: _Postcodes) -> list[str]:
    what = {"district": "postcode district (outward code, e.g. 'SR1')",
            "sector": "postcode sector (outward code and first inward character, e.g. 'SR1 1')"}
    notes = [
        f"{len(places):,} places, each a {what[level]}, from {len(p.place):,} ONSPD postcodes "
        f"(release {ONSPD_RELEASE.id}).",
        "Postcode counts include terminated postcodes: the packaged ONSPD keeps no "
        "termination date (as in the LAD postcode profiles).",
        f"Left out: {p.dropped_no_lad:,} postcodes with no LAD (and no grid reference) and "
        f"{p.dropped_pseudo:,} in the Channel Islands and Isle of Man pseudo-areas.",
        "Centroid = mean grid reference of the place's postcodes; Northern Ireland on the "
        "Irish Grid (EPSG:29903), elsewhere the British National Grid (EPSG:27700); lon/lat "
        "converted to WGS84.",
        "main_lad = the 2025 LAD holding most of the place's postcodes; main_lad_share = its "
        "share of them.",
        "OAC share of class c = unit-matched postcodes in c / unit-matched postcodes "
        f"(2011 OAC, release {OAC_RELEASE.id}); shares of postcodes, not residents.",
    ]
    mixed = int((places["grid"] == "mixed").sum())
    if mixed:
        notes.append(f"{mixed} place(s) have postcodes on both grids: centroid left missing.")
    unmatched = int((places["oac_matched"] == 0).sum())
    if unmatched:
        notes.append(f"{unmatched} place(s) have no postcode in the OAC lookup: their OAC "
                     "shares are unavailable (missing, not zero).")
    return notes
