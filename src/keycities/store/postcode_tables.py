"""The derived postcode tables: per-LAD postcode profiles and OAC shares.

Built from the package-shipped ONS Postcode Directory and 2011 OAC
(:mod:`keycities.sources.postcodes`, which has the caveats) into rows for the
store tables ``postcode_profile`` and ``oac_share``.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from keycities.errors import KeycitiesError
from keycities.sources.base import Release
from keycities.sources.postcode_places import place_tables
from keycities.sources.postcodes import (
    BRITISH_GRID,
    IRISH_GRID,
    OAC_RELEASE,
    ONSPD_RELEASE,
    grid_to_lonlat,
    grid_transformer,
    load_oac_names,
    load_postcodes,
    oac_frame,
    oac_share_rows,
    oac_tree_arrays,
    verify_package_data,
)

_COUNTS_SQL = """
    WITH p AS (
        SELECT pcd, lad, isfinite(easting) AND isfinite(northing) AS has_grid, easting, northing
        FROM postcodes)
    SELECT p.lad AS code, o.oac AS oac, GROUPING(o.oac) = 1 AS all_oac,
           count(*) AS postcodes, count(*) FILTER (has_grid) AS postcodes_with_grid,
           avg(easting) FILTER (has_grid) AS easting, avg(northing) FILTER (has_grid) AS northing,
           count(o.oac) AS oac_matched
    FROM p LEFT JOIN oac AS o ON p.pcd = o.pcd
    GROUP BY GROUPING SETS ((p.lad), (p.lad, o.oac))
"""


_POSTCODE_SCHEMA = pa.schema([("pcd", pa.large_string()), ("lad", pa.large_string()),
                              ("easting", pa.float64()), ("northing", pa.float64())])


_OAC_SCHEMA = pa.schema([("pcd", pa.large_string()), ("oac", pa.large_string())])


def _arrow(df: pd.DataFrame, schema: pa.Schema, what: str) -> pa.Table:
    """``df``'s columns with the types the query needs (zero-copy for Arrow-backed text)."""
    try:
        return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
    except (KeyError, pa.ArrowException, TypeError, ValueError) as exc:
        raise KeycitiesError(
            f"{what} must have columns {schema.names} ({', '.join(map(str, schema.types))}): "
            f"{exc}"
        ) from exc


def _join_counts(postcodes: pd.DataFrame, oac: pd.DataFrame) -> pd.DataFrame:
    """Per-LAD totals (``all_oac``) and per-LAD-and-subgroup counts, in one pass."""
    con = duckdb.connect()
    try:
        con.register("postcodes", _arrow(postcodes, _POSTCODE_SCHEMA, "postcodes"))
        con.register("oac", _arrow(oac, _OAC_SCHEMA, "oac"))
        return con.sql(_COUNTS_SQL).to_arrow_table().to_pandas()
    finally:
        con.close()


def _profile_rows(totals: pd.DataFrame, release: Release) -> pd.DataFrame:
    prof = totals[["code", "postcodes", "postcodes_with_grid", "easting", "northing",
                   "oac_matched"]].copy()
    prof["lon"], prof["lat"] = grid_to_lonlat(prof["code"], prof["easting"], prof["northing"])
    prof["geography_vintage"] = release.geography_vintage
    prof["release_id"] = release.id
    cols = ["code", "geography_vintage", "postcodes", "postcodes_with_grid", "easting",
            "northing", "lon", "lat", "oac_matched", "release_id"]
    return prof[cols].sort_values("code").reset_index(drop=True).astype(
        {"postcodes": "int64", "postcodes_with_grid": "int64", "oac_matched": "int64",
         "geography_vintage": "int64"})


def postcode_profiles(postcodes: pd.DataFrame, oac: pd.DataFrame, *,
                      names: pd.DataFrame | None = None,
                      postcode_release: Release = ONSPD_RELEASE,
                      oac_release: Release = OAC_RELEASE) -> dict[str, pd.DataFrame]:
    """Per-LAD postcode profile and OAC mix.

    Formulation: for each LAD, ``postcodes`` = number of ONSPD postcodes
    (terminated ones included); (``easting``, ``northing``) = mean of the
    grid references of its ``postcodes_with_grid`` postcodes, converted to
    WGS84 ``lon``/``lat`` with pyproj; ``oac_matched`` = its postcodes found
    in the OAC postcode lookup at unit level.  The OAC share of class *c* at
    level *l* is (matched postcodes in *c*) / ``oac_matched``, so shares sum
    to 1 per LAD and level; classes with no postcodes have no row.  Coverage
    is ``oac_matched / postcodes``.  These are shares of *postcodes*, not of
    residents or addresses: postcodes differ in size, and terminated ones
    count too.

    The package's district-level fallback (``map.json``) is deliberately not
    used: it gives every postcode of a district one class, almost always the
    district's commonest, which would bias shares towards it; unit matches
    already cover about 97% of postcodes.  Postcodes without a LAD and the
    pseudo-areas ``L99999999``/``M99999999`` are dropped; their counts are
    in ``attrs``.

    Parameters
    ----------
    postcodes
        Output of :func:`load_postcodes` (``pcd``, ``lad``, ``easting``,
        ``northing``).
    oac
        Output of :func:`load_oac` (``pcd``, ``oac``), one row per postcode.
    names
        Output of :func:`load_oac_names`; default read from the package.
    postcode_release, oac_release
        Provenance: ``postcode_profile`` rows carry ``postcode_release.id``
        and its geography vintage, ``oac_share`` rows ``oac_release.id``.

    Returns
    -------
    dict
        ``{"postcode_profile": ..., "oac_share": ...}`` with the columns of
        those store tables.  ``postcode_profile.attrs`` holds
        ``postcodes_without_lad`` and ``postcodes_in_pseudo_areas``.
    """
    counts = _join_counts(postcodes, oac)
    no_lad = counts["code"].isna()
    pseudo = counts["code"].str.endswith("99999999", na=False)
    kept, totals = counts[~no_lad & ~pseudo], counts[counts["all_oac"]]
    subgroups = kept[~kept["all_oac"] & kept["oac"].notna()]
    profile = _profile_rows(kept[kept["all_oac"]], postcode_release)
    profile.attrs["postcodes_without_lad"] = int(totals.loc[no_lad, "postcodes"].sum())
    profile.attrs["postcodes_in_pseudo_areas"] = int(totals.loc[pseudo, "postcodes"].sum())
    names = load_oac_names() if names is None else names
    return {"postcode_profile": profile,
            "oac_share": oac_share_rows(subgroups, names, oac_release)}


def _verified_tree_arrays(directory: Path | None) -> tuple[np.ndarray, np.ndarray]:
    if directory is None:
        verify_package_data(OAC_RELEASE)
    return oac_tree_arrays(directory)


def build_postcode_tables(*, parallel: bool = True, postcode_dir: Path | None = None,
                          oac_dir: Path | None = None,
                          keep_postcodes: bool = False,
                          with_places: bool = False) -> dict[str, pd.DataFrame]:
    """Rows for the ``postcode_profile`` and ``oac_share`` tables from the packages.

    The installed packages' data are first checked against the pinned
    sha256 (:func:`verify_package_data`); explicit directories (tests) are
    not.  With ``parallel`` (Linux only) a forked worker parses the OAC
    lookup while this process decodes the postcode files; the worker sends
    back fixed-width byte arrays, not Python objects.

    Parameters
    ----------
    parallel
        Use the background worker when the platform allows.
    postcode_dir, oac_dir
        Read these folders instead of the installed packages.
    keep_postcodes
        Also return the postcode table itself under ``"postcodes"`` (the
        build reuses it for split weights instead of decoding it twice).
    with_places
        Also return the postcode districts and sectors (``postcode_place``,
        ``postcode_place_oac`` and ``postcode_place_note`` rows, see
        :func:`place_set_tables`).

    Returns
    -------
    dict
        See :func:`postcode_profiles`.

    Raises
    ------
    HashMismatchError
        An installed package differs from the pinned release.
    """
    if postcode_dir is None:
        verify_package_data(ONSPD_RELEASE)
    # Only a forked worker starts without re-importing pandas (about 1 s, which
    # would eat the gain); fork is unsafe on macOS and absent on Windows.
    if parallel and sys.platform == "linux":
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            future = pool.submit(_verified_tree_arrays, oac_dir)
            postcodes = load_postcodes(postcode_dir)
            for grid in (BRITISH_GRID, IRISH_GRID):  # set up pyproj while the worker works
                grid_transformer(grid)
            tree = future.result()
    else:
        tree = _verified_tree_arrays(oac_dir)
        postcodes = load_postcodes(postcode_dir)
    oac, names = oac_frame(*tree), load_oac_names(oac_dir)
    tables = postcode_profiles(postcodes, oac, names=names)
    if with_places:
        tables |= place_set_tables(postcodes, oac, names)
    if keep_postcodes:
        tables["postcodes"] = postcodes
    return tables


def place_set_tables(postcodes: pd.DataFrame, oac: pd.DataFrame,
                     names: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Postcode districts and sectors as store rows: profile, OAC shares and notes.

    See :func:`keycities.sources.postcode_places.place_tables`; the place and
    note rows carry the postcode directory's release id, the OAC rows the
    OAC's.
    """
    places, shares, notes = [], [], []
    for level in ("district", "sector"):
        p, o, n = place_tables(level, postcodes=postcodes, oac=oac, names=names)
        places.append(p.assign(release_id=ONSPD_RELEASE.id))
        shares.append(o)
        notes.append(pd.DataFrame({"level": level, "position": range(len(n)), "note": n,
                                   "release_id": ONSPD_RELEASE.id}))
    return {"postcode_place": pd.concat(places, ignore_index=True),
            "postcode_place_oac": pd.concat(shares, ignore_index=True),
            "postcode_place_note": pd.concat(notes, ignore_index=True)}
