"""Split weights for merged LADs from the ONS Postcode Directory: the last resort.

When a figure published on new boundaries (say Cumberland, 2023) is needed on
the old ones (Allerdale, Carlisle, Copeland), the merged area's value is
shared among its former parts in proportion to a weight of each part
(:mod:`keycities.geography.mapping`).  The parts' own or related official
figures are used where the store has them (:mod:`keycities.geography.shares`);
otherwise the weight is the number of the merged area's current postcodes
whose grid reference falls in each part:

    m(part) = #{postcodes p of the merged LAD : p lies in polygon(part)}

Postcodes outside every part's polygon (the boundaries are generalised, so
coastal and edge postcodes fall just outside) go to the nearest part.  The
count of postcodes is a proxy for addresses, not people, and gives rural
districts too much (a mean error of 10% for population in the back-test of
:mod:`keycities.geography.backtest`); the basis says so.
Source: ONS Postcode Directory (ONSPD), grid references to 1 m (OSGB36,
EPSG:27700); ONS Open Geography Portal generalised LAD boundaries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from keycities.errors import KeycitiesError
from keycities.geography.areas import lad_changes
from keycities.geography.mapping import predecessors, successors

WEIGHT_COLUMNS: tuple[str, ...] = ("code", "geography_vintage", "weight", "basis")


def parts_from_changes(changes: pd.DataFrame, *, vintage: int,
                       postcode_vintage: int = 2025) -> dict[str, list[str]]:
    """The merged LADs of ``postcode_vintage`` and their parts in ``vintage``.

    Parameters
    ----------
    changes
        Change rows (store ``change`` table).
    vintage
        The earlier boundary vintage whose areas are the parts.
    postcode_vintage
        The vintage of the postcode directory's LAD codes.

    Returns
    -------
    dict
        Merged code (``postcode_vintage``) -> sorted part codes (``vintage``),
        only for codes made of more than one part.
    """
    ch = lad_changes(changes)
    ch = ch[(ch["year"] > vintage) & (ch["year"] <= postcode_vintage)]
    finals = {c for new in ch["new_code"].unique()
              for c in successors(new, changes, vintage=postcode_vintage)}
    out = {}
    for code in sorted(finals):
        parts = predecessors(code, changes, vintage=vintage)
        if len(parts) > 1:
            out[code] = parts
    return out


def _part_shapes(boundaries: dict[int, pd.DataFrame], merged: str,
                 parts: list[str]) -> tuple[int, list[shapely.Geometry]]:
    """The newest boundary set holding every part, and the parts' geometries."""
    for vintage in sorted(boundaries, reverse=True):
        table = boundaries[vintage]
        by_code = dict(zip(table["code"].astype(str).str.upper(), table["geojson"],
                           strict=True))
        if all(p in by_code for p in parts):
            shapes = [shapely.from_geojson(by_code[p]) for p in parts]
            for shape in shapes:
                shapely.prepare(shape)
            return vintage, shapes
    raise KeycitiesError(
        f"No boundary set holds all parts of {merged} ({', '.join(parts)}); have vintages "
        f"{sorted(boundaries)}. Load LAD boundaries of a year in which those areas existed.")


def _assign(shapes: list[shapely.Geometry], lon: np.ndarray, lat: np.ndarray,
            easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, int]:
    """Index of the part each point falls in (nearest part when in none), and #outside."""
    inside = np.column_stack([shapely.contains_xy(s, lon, lat) for s in shapes])
    part = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
    outside = part == -1
    if outside.any():
        # Distances in metres on the British National Grid, not in degrees.
        to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
        flat = [shapely.transform(s, lambda xy: np.column_stack(
            to_bng.transform(xy[:, 0], xy[:, 1]))) for s in shapes]
        points = shapely.points(easting[outside], northing[outside])
        dist = np.column_stack([shapely.distance(s, points) for s in flat])
        part[outside] = dist.argmin(axis=1)
    return part, int(outside.sum())


def postcode_split_weights(postcodes: pd.DataFrame, boundaries: dict[int, pd.DataFrame],
                           parts: dict[str, list[str]], *, postcode_vintage: int = 2025,
                           directory: str = "ONS Postcode Directory Nov 2025") -> pd.DataFrame:
    """Split weights of the former parts of merged LADs: postcodes in each part.

    Parameters
    ----------
    postcodes
        lad (LAD code in ``postcode_vintage``), easting, northing (OS grid,
        EPSG:27700; missing for postcodes without a grid reference).
    boundaries
        Vintage -> table (code, geojson in WGS84 lon/lat).  For each merged
        area the newest vintage holding all its parts is used.
    parts
        Merged code -> the older codes it was made of
        (see :func:`parts_from_changes`).
    postcode_vintage
        Vintage of the ``lad`` codes.
    directory
        Name of the postcode directory release, quoted in the basis.

    Returns
    -------
    pandas.DataFrame
        code (the part), geography_vintage (of the boundaries used), weight
        (number of postcodes), basis.
    """
    lad = postcodes["lad"].astype(str).str.upper()
    pc = postcodes.loc[lad.isin(list(parts)), ["easting", "northing"]].assign(lad=lad)
    gridded = pc["easting"].notna() & pc["northing"].notna()
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(pc["easting"].to_numpy(float), pc["northing"].to_numpy(float))
    pc = pc.assign(lon=lon, lat=lat)
    rows = []
    for merged, codes in parts.items():
        mine = (pc["lad"] == merged).to_numpy()
        if not mine.any():
            raise KeycitiesError(
                f"No postcodes with LAD {merged} in the {postcode_vintage} postcode directory; "
                f"is {merged} a {postcode_vintage} LAD code?")
        sub = pc[mine & gridded.to_numpy()]
        vintage, shapes = _part_shapes(boundaries, merged, [c.upper() for c in codes])
        part, outside = _assign(shapes, sub["lon"].to_numpy(), sub["lat"].to_numpy(),
                                sub["easting"].to_numpy(float), sub["northing"].to_numpy(float))
        counts = np.bincount(part, minlength=len(codes))
        basis = (f"postcode count, {directory}, point-in-polygon against {vintage} "
                 f"generalised boundaries; {outside} postcodes outside every part assigned "
                 "to the nearest part")
        no_grid = int(mine.sum() - len(sub))
        if no_grid:
            basis += f"; {no_grid} postcodes without a grid reference left out"
        rows += [(c.upper(), vintage, float(n), basis) for c, n in zip(codes, counts, strict=True)]
    return pd.DataFrame(rows, columns=list(WEIGHT_COLUMNS))
