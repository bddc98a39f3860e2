"""Maps as plain SVG: LAD boundaries from the store, drawn on the British National Grid.

The app must work with no internet, so maps use no tile server and no
JavaScript library: the boundaries in the store (ONS's ultra-generalised
"BUC" LAD boundaries, WGS84) are projected once to the British National Grid
(EPSG:27700, so distances and shapes look right for GB), simplified to
``TOLERANCE_M`` and written as SVG paths.  Each area is a link to its place
page with a ``<title>`` (its name and value) that browsers show on hover and
screen readers read; the caller supplies a text description and a table, so
the map is never the only way to the numbers.

Northern Ireland is kept (it is part of the UK), the Isles of Scilly and
Shetland appear where they are (no insets).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

TOLERANCE_M = 600.0
"""Douglas–Peucker tolerance of the drawn areas, in metres (invisible at page scale)."""
OUTLINE_TOLERANCE_M = 1500.0
"""Tolerance of the land outline behind locator maps."""

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@dataclass(frozen=True)
class Shapes:
    """Projected, simplified LAD outlines ready to draw.

    Attributes
    ----------
    paths
        LAD code -> SVG path data in map units (metres east / north flipped).
    names
        LAD code -> name.
    bounds
        (min_x, min_y, max_x, max_y) of everything, in the same units.
    outline
        The coast and the land border, as one path (the background of
        locator maps, a few per cent of the size of every area).
    boxes
        LAD code -> its own (min_x, min_y, max_x, max_y).
    vintage
        The boundary vintage (year).
    release_id
        The boundary release the outlines come from.
    """

    paths: dict[str, str]
    names: dict[str, str]
    outline: str
    bounds: tuple[float, float, float, float]
    boxes: dict[str, tuple[float, float, float, float]]
    vintage: int
    release_id: str


UNIT_M = 100.0
"""Map units are hectometres, so that path coordinates are short integers."""


def project(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (WGS84) to SVG map units: BNG easting, minus northing, in hm."""
    x, y = _TO_BNG.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x) / UNIT_M, -np.asarray(y) / UNIT_M


def _path(geom: shapely.Geometry) -> str:
    parts: list[str] = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.rint(np.asarray(ring.coords)[:-1]).astype(int)
            if len(xy) < 3:
                continue
            # Relative moves after the first point: short integers, a third of the bytes.
            d = np.diff(xy, axis=0)
            d = d[(d != 0).any(axis=1)]
            if len(d) < 2:  # a ring smaller than the rounding: nothing to draw
                continue
            rel = " ".join(f"{dx} {dy}" for dx, dy in d)
            parts.append(f"M{xy[0, 0]} {xy[0, 1]}l{rel}Z")
    return "".join(parts)


def shapes_from_boundaries(boundaries: pd.DataFrame, *, vintage: int) -> Shapes:
    """Project and simplify boundary rows (code, name, geojson, release_id).

    Parameters
    ----------
    boundaries
        The store's ``boundary`` rows of one vintage; ``geojson`` holds a
        WGS84 Polygon or MultiPolygon.
    vintage
        Their vintage (recorded on the result).

    Returns
    -------
    Shapes
    """
    paths: dict[str, str] = {}
    geoms = []
    boxes: dict[str, tuple[float, float, float, float]] = {}
    lo = np.array([np.inf, np.inf])
    hi = -lo
    for code, gj in zip(boundaries["code"], boundaries["geojson"], strict=True):
        geom = shapely.geometry.shape(json.loads(gj))
        geom = shapely.transform(geom, lambda xy: np.column_stack(project(xy[:, 0], xy[:, 1])))
        geom = shapely.simplify(geom, TOLERANCE_M / UNIT_M, preserve_topology=True)
        if geom.is_empty:
            continue
        b = geom.bounds
        boxes[str(code)] = (b[0], b[1], b[2], b[3])
        lo = np.minimum(lo, b[:2])
        hi = np.maximum(hi, b[2:])
        paths[str(code)] = _path(geom)
        geoms.append(geom)
    land = shapely.simplify(shapely.union_all(shapely.make_valid(np.array(geoms)), grid_size=1),
                            OUTLINE_TOLERANCE_M / UNIT_M) if geoms else shapely.Polygon()
    release = str(boundaries["release_id"].iloc[0]) if len(boundaries) else ""
    names = dict(zip(boundaries["code"], boundaries["name"], strict=True))
    return Shapes(paths=paths, outline=_path(land), names=names,
                  bounds=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
                  boxes=boxes,
                  vintage=vintage, release_id=release)


@dataclass(frozen=True)
class Line:
    """A line between two places on the map (a twinning pair)."""

    lon: tuple[float, float]
    lat: tuple[float, float]
    title: str


def map_svg(shapes: Shapes, *, title: str, description: str,
            highlight: Mapping[str, str] | None = None,
            labels: Mapping[str, str] | None = None,
            links: Mapping[str, str] | None = None,
            lines: Sequence[Line] = (), zoom_to: Sequence[str] = (),
            every_area: bool = False, width: int = 420) -> str:
    """An SVG map of the LADs.

    Parameters
    ----------
    shapes
        From :func:`shapes_from_boundaries`.
    title, description
        The map's accessible name and its description in words.
    highlight
        LAD code -> CSS class (``member``, ``place``, ``peer``, ``twin``...).
    labels
        LAD code -> hover text (default: the name).
    links
        LAD code -> URL each area links to.
    lines
        Lines to draw on top (twinning pairs), in WGS84.
    zoom_to
        Frame the map on these LADs (with a margin) instead of the whole UK.
    every_area
        Draw every LAD; by default only the highlighted ones, on the land outline
        (a locator map: the page is a tenth of the size).
    width
        Width attribute in CSS pixels (the map scales to its container).

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    highlight = highlight or {}
    labels = labels or {}
    links = links or {}
    x0, y0, x1, y1 = shapes.bounds
    boxes = [shapes.boxes[c] for c in zoom_to if c in shapes.boxes]
    if boxes:
        b = np.array(boxes)
        bx0, by0, bx1, by1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        pad = max(bx1 - bx0, by1 - by0, 60_000 / UNIT_M) * 0.6
        x0, y0, x1, y1 = bx0 - pad, by0 - pad, bx1 + pad, by1 + pad
    w, h = x1 - x0, y1 - y0
    height = int(width * h / w)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" '
           f'viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" width="{width}" height="{height}" '
           f'aria-labelledby="map-t map-d" preserveAspectRatio="xMidYMid meet">'
           f'<title id="map-t">{escape(title)}</title><desc id="map-d">{escape(description)}'
           f'</desc><path class="land" d="{shapes.outline}"/><g class="areas">']
    for code, d in shapes.paths.items():
        if not every_area and code not in highlight:
            continue
        cls = highlight.get(code, "")
        label = escape(labels.get(code, shapes.names.get(code, code)))
        path = f'<path d="{d}" class="{cls}"><title>{label}</title></path>'
        href = links.get(code)
        if href and cls:
            path = f'<a href="{escape(href)}" aria-label="{label}">{path}</a>'
        out.append(path)
    out.append("</g>")
    if lines:
        out.append('<g class="lines">')
        for ln in lines:
            xs_, ys_ = project(ln.lon, ln.lat)
            out.append(f'<line x1="{xs_[0]:.0f}" y1="{ys_[0]:.0f}" x2="{xs_[1]:.0f}" '
                       f'y2="{ys_[1]:.0f}"><title>{escape(ln.title)}</title></line>')
            out.append(f'<circle cx="{xs_[0]:.0f}" cy="{ys_[0]:.0f}" r="{w / 250:.0f}"/>'
                       f'<circle cx="{xs_[1]:.0f}" cy="{ys_[1]:.0f}" r="{w / 250:.0f}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
