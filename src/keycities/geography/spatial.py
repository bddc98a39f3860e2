"""Distances and areas: great-circle kilometres between all pairs, areas in km².

All-pairs matrices are computed in blocks of rows (memory ``BLOCK x n``) and
held as float32 from :data:`FLOAT32_FROM` places (half the memory), so that the
same helpers serve 350 councils and 12,000 postcode sectors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Transformer

EARTH_RADIUS_KM = 6371.0088
"""Mean radius of the Earth (IUGG), km."""

BLOCK = 1024
"""Rows computed at once for the all-pairs matrices (memory: BLOCK x n)."""

FLOAT32_FROM = 4000
"""From this many places the all-pairs matrices are float32 (half the memory)."""


def matrix_dtype(n: int) -> type[np.floating]:
    """float32 for :data:`FLOAT32_FROM` places or more, else float64."""
    return np.float32 if n >= FLOAT32_FROM else np.float64


def haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between all pairs of points (n x n)."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    n = len(la)
    out = np.empty((n, n), dtype=matrix_dtype(n))
    for r0 in range(0, n, BLOCK):
        a_, o_ = la[r0:r0 + BLOCK, None], lo[r0:r0 + BLOCK, None]
        h = (np.sin((a_ - la) / 2) ** 2
             + np.cos(a_) * np.cos(la) * np.sin((o_ - lo) / 2) ** 2)
        out[r0:r0 + BLOCK] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    return out


def area_km2(codes: Sequence[str], geojson: Sequence[str]) -> list[float]:
    """Area in km² of lon/lat GeoJSON geometries, projected with pyproj.

    Great Britain in the British National Grid (EPSG:27700), Northern Ireland
    (codes starting 'N') in Irish Transverse Mercator (EPSG:2157): both are
    transverse Mercator grids whose scale error over their territory is
    below about 0.1 %, small against the error of generalised boundaries.
    """
    out = []
    grids = {"GB": Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True),
             "NI": Transformer.from_crs("EPSG:4326", "EPSG:2157", always_xy=True)}
    for code, text in zip(codes, geojson, strict=True):
        tr = grids["NI" if code.startswith("N") else "GB"]
        geom = shapely.from_geojson(text if isinstance(text, str) else json.dumps(text))
        proj = shapely.transform(geom, lambda xy, tr=tr: np.column_stack(
            tr.transform(xy[:, 0], xy[:, 1])))
        out.append(float(shapely.area(proj)) / 1e6)
    return out
