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
Shetland appear where they are (no insets).  A map of a few places is framed on
them (:func:`frame`), with a small overview of the UK beside it that marks the
frame, and a legend in HTML (:func:`map_html`): text that stays readable when
the map is scaled down to a phone's width.
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
OVERVIEW_TOLERANCE_M = 6000.0
"""Tolerance of the small UK overview beside a framed map (about 90 px wide)."""
MIN_FRAME_M = 80_000.0
"""Smallest side of a framed map, in metres: one district is shown with its surroundings."""
LOCAL_SHARE = 0.05
"""A frame at most this share of the UK's box also draws the other districts in it."""
ASPECT = (0.75, 1.4)
"""Height over width of a framed map, at least and at most (so a phone shows it whole)."""

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
    overview
        The outline again, coarser: the small UK overview beside a framed map.
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
    overview: str = ""


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


def _solid(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom``'s polygons without their holes: the slivers left between simplified
    districts would show as specks inside the land outline."""
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, shapely.Polygon)]
    return shapely.MultiPolygon([shapely.Polygon(g.exterior) for g in polys])


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
    union = (_solid(shapely.union_all(shapely.make_valid(np.array(geoms)), grid_size=1))
             if geoms else shapely.Polygon())
    land = shapely.simplify(union, OUTLINE_TOLERANCE_M / UNIT_M)
    overview = shapely.simplify(union, OVERVIEW_TOLERANCE_M / UNIT_M)
    release = str(boundaries["release_id"].iloc[0]) if len(boundaries) else ""
    names = dict(zip(boundaries["code"], boundaries["name"], strict=True))
    return Shapes(paths=paths, outline=_path(land), names=names,
                  bounds=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
                  boxes=boxes, overview=_path(overview),
                  vintage=vintage, release_id=release)


@dataclass(frozen=True)
class Line:
    """A line between two places on the map (a twinning pair)."""

    lon: tuple[float, float]
    lat: tuple[float, float]
    title: str


Box = tuple[float, float, float, float]
"""(x, y, width, height) in map units: an SVG viewBox."""

LEGEND = {"member": "Member", "place": "Selected place", "peer": "Peer", "twin": "Twin"}
"""Default legend labels of the highlight classes (a page may name them better)."""


def _line_points(lines: Sequence[Line]) -> list[Box]:
    boxes: list[Box] = []
    for ln in lines:
        xs_, ys_ = project(ln.lon, ln.lat)
        boxes += [(float(x), float(y), float(x), float(y)) for x, y in zip(xs_, ys_,
                                                                         strict=True)]
    return boxes


def frame(shapes: Shapes, codes: Sequence[str], *, lines: Sequence[Line] = ()) -> Box:
    """The view of a map showing ``codes`` (and the ends of ``lines``) with their surroundings.

    The areas' common box, at least :data:`MIN_FRAME_M` on its longer side, gets a
    margin of 8% of that side plus 10 km, and is widened (or heightened) to a
    height/width ratio within :data:`ASPECT`.  With nothing to frame, or a frame
    as large as the UK, the whole of :attr:`Shapes.bounds`.

    Returns
    -------
    Box
        (x, y, width, height) in map units.
    """
    ux0, uy0, ux1, uy1 = shapes.bounds
    whole = (ux0, uy0, ux1 - ux0, uy1 - uy0)
    boxes = [shapes.boxes[c] for c in codes if c in shapes.boxes] + _line_points(lines)
    if not boxes:
        return whole
    b = np.array(boxes)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    size = max(x1 - x0, y1 - y0, MIN_FRAME_M / UNIT_M)
    pad = 0.08 * size + 10_000 / UNIT_M
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = max(x1 - x0, MIN_FRAME_M / UNIT_M) + 2 * pad
    h = max(y1 - y0, MIN_FRAME_M / UNIT_M) + 2 * pad
    w, h = max(w, h / ASPECT[1]), max(h, w * ASPECT[0])
    if w >= whole[2] and h >= whole[3]:
        return whole
    return (float(cx - w / 2), float(cy - h / 2), float(w), float(h))


def _meets(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
           ) -> bool:
    """Whether two (min_x, min_y, max_x, max_y) boxes overlap."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _view(shapes: Shapes, highlight: Mapping[str, str], zoom_to: Sequence[str],
          every_area: bool, lines: Sequence[Line]) -> Box:
    """The frame :func:`map_svg` draws: ``zoom_to``, else the highlighted areas and lines."""
    if zoom_to:
        return frame(shapes, zoom_to)
    return frame(shapes, [] if every_area else list(highlight),
                 lines=[] if every_area else lines)


def map_svg(shapes: Shapes, *, title: str, description: str,
            highlight: Mapping[str, str] | None = None,
            labels: Mapping[str, str] | None = None,
            links: Mapping[str, str] | None = None,
            lines: Sequence[Line] = (), zoom_to: Sequence[str] = (),
            every_area: bool = False, width: int = 420, ident: str = "map") -> str:
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
        Frame the map on these LADs (see :func:`frame`); by default on the
        highlighted ones and the lines, unless ``every_area``.
    every_area
        Draw every LAD, framed on the whole UK unless ``zoom_to``; by default only
        the highlighted ones, on the land outline (a locator map: the page is a
        tenth of the size), and in a frame of at most :data:`LOCAL_SHARE` of the
        UK the other LADs in it (their borders).
    width
        Width attribute in CSS pixels (the map scales to its container).
    ident
        Prefix of the map's element ids (unique on its page).

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    highlight = highlight or {}
    labels = labels or {}
    links = links or {}
    x0, y0, w, h = _view(shapes, highlight, zoom_to, every_area, lines)
    height = int(width * h / w)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" '
           f'viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" width="{width}" height="{height}" '
           f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMidYMid meet">'
           f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">'
           f'{escape(description)}</desc><path class="land" d="{shapes.outline}"/>'
           '<g class="areas">']
    ux0, uy0, ux1, uy1 = shapes.bounds
    # a small frame draws its other districts too: their borders place the highlighted ones
    local = w * h <= LOCAL_SHARE * (ux1 - ux0) * (uy1 - uy0)
    for code, d in shapes.paths.items():
        if not (every_area or code in highlight
                or (local and _meets(shapes.boxes[code], (x0, y0, x0 + w, y0 + h)))):
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


def overview_svg(shapes: Shapes, view: Box) -> str:
    """A small map of the whole UK with ``view`` (a :func:`frame`) marked on it."""
    x0, y0, x1, y1 = shapes.bounds
    w, h = x1 - x0, y1 - y0
    vx, vy, vw, vh = view
    # a frame too small to see at this size is drawn at a visible size around its centre;
    # one reaching past the UK is cut at its edge
    least = w / 25
    if vw < least:
        vx, vw = vx + vw / 2 - least / 2, least
    if vh < least:
        vy, vh = vy + vh / 2 - least / 2, least
    vx1, vy1 = min(vx + vw, x1), min(vy + vh, y1)
    vx, vy = max(vx, x0), max(vy, y0)
    vw, vh = vx1 - vx, vy1 - vy
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="overview" role="img" '
            f'viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" width="72" height="{72 * h / w:.0f}" '
            f'aria-label="Where the map lies in the UK">'
            f'<path d="{shapes.overview or shapes.outline}"/>'
            f'<rect x="{vx:.0f}" y="{vy:.0f}" width="{vw:.0f}" height="{vh:.0f}"/></svg>')


def legend_html(classes: Sequence[str], *, names: Mapping[str, str] | None = None,
                lines: str | None = None, rest: str = "Other areas") -> str:
    """The legend of a map: one swatch (the class's own colour) and label per class.

    Parameters
    ----------
    classes
        The highlight classes drawn, in the order to list them.
    names
        Class -> label (default :data:`LEGEND`, else the class itself).
    lines
        The label of the lines drawn, if any.
    rest
        The label of the land not highlighted.
    """
    names = {**LEGEND, **(names or {})}
    items = [(f"swatch {escape(c)}", names.get(c, c)) for c in classes]
    if lines:
        items.append(("swatch line", lines))
    items.append(("swatch rest", rest))
    lis = "".join(f'<li><span class="{cls}" aria-hidden="true"></span>{escape(label)}</li>'
                  for cls, label in items)
    return f'<ul class="legend" aria-label="Key to the map">{lis}</ul>'


def map_html(shapes: Shapes, *, title: str, description: str,
             highlight: Mapping[str, str] | None = None,
             labels: Mapping[str, str] | None = None,
             links: Mapping[str, str] | None = None,
             lines: Sequence[Line] = (), zoom_to: Sequence[str] = (),
             every_area: bool = False, legend: Mapping[str, str] | None = None,
             line_label: str = "Pair", ident: str = "map") -> str:
    """:func:`map_svg` with its key: the legend and, for a framed map, the UK overview.

    ``legend`` names the highlight classes (class -> label; listed in its order,
    then any other class drawn); the other arguments are those of :func:`map_svg`.
    """
    highlight = highlight or {}
    svg = map_svg(shapes, title=title, description=description, highlight=highlight,
                  labels=labels, links=links, lines=lines, zoom_to=zoom_to,
                  every_area=every_area, ident=ident)
    drawn = dict.fromkeys(highlight.values())
    classes = [c for c in (legend or {}) if c in drawn] + [c for c in drawn
                                                           if c and c not in (legend or {})]
    view = _view(shapes, highlight, zoom_to, every_area, lines)
    x0, y0, x1, y1 = shapes.bounds
    whole = view == (x0, y0, x1 - x0, y1 - y0)
    key = legend_html(classes, names=legend, lines=line_label if lines else None)
    return (f'{svg}<div class="map-key">{"" if whole else overview_svg(shapes, view)}'
            f'{key}</div>')
