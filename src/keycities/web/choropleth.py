"""An indicator's value for every district as a choropleth in plain SVG.

Drawn from the outlines :func:`keycities.web.maps.shapes_from_boundaries`
projected and simplified once per store (the indicator pages keep one
:class:`~keycities.web.maps.Shapes` per boundary vintage), so a map is string
joins: no projection or simplification per request.  Classes are quantiles of
the values shown (:func:`~keycities.present.indicator_charts.quantile_breaks`),
shaded light (low) to dark (high) whatever the direction, with a legend in the
indicator's unit; a network's members are outlined; districts with no value
are pale grey and say so.  An inset frames one chosen place and its
neighbours.  Colours are inline styles, so the shared map stylesheet does not
repaint them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from keycities.present.indicator_charts import BLUES, NO_VALUE, class_of, short
from keycities.web.maps import UNIT_M, Shapes

SVG_STYLE = "max-width:100%;height:auto;background:#f7fbff;border:1px solid #d0d7de"


@dataclass(frozen=True)
class Choropleth:
    """What one choropleth shows (values by code on ``shapes``' boundaries)."""

    values: Mapping[str, float]
    breaks: Sequence[float]
    unit: str
    title: str
    description: str
    decimals: int | None = None
    members: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    focus: str | None = None


def colour(c: Choropleth, code: str) -> str:
    """The fill of district ``code``: its class's blue, or the no-value grey."""
    k = class_of(c.values.get(code, float("nan")), c.breaks)
    return NO_VALUE if k is None else class_colour(k, len(c.breaks))


def class_colour(k: int, n: int) -> str:
    """The blue of class ``k`` of ``n`` (fewer classes spread over the whole ramp)."""
    return BLUES[round(k * (len(BLUES) - 3) / max(n - 1, 1)) + 1] if n > 1 else BLUES[3]


def _paths(shapes: Shapes, c: Choropleth, links: Mapping[str, str],
           codes: Sequence[str]) -> list[str]:
    out, outlines = [], []
    for code in codes:
        d = shapes.paths[code]
        label = escape(c.labels.get(code, shapes.names.get(code, code)))
        path = (f'<path d="{d}" style="fill:{colour(c, code)};stroke:#fff;stroke-width:1.5">'
                f"<title>{label}</title></path>")
        href = links.get(code)
        if href:
            path = f'<a href="{escape(href)}" aria-label="{label}">{path}</a>'
        out.append(path)
        if code in c.members:
            outlines.append(f'<path d="{d}" class="member" style="fill:none;stroke:#d95f02;'
                            'stroke-width:9;pointer-events:none"/>')
    return out + outlines


def choropleth_svg(shapes: Shapes, c: Choropleth, *, links: Mapping[str, str] | None = None,
                   width: int = 460) -> str:
    """The map of every district of ``shapes``, fitted to their extent (Great Britain and
    Northern Ireland), then the legend, then an inset of ``c.focus`` if any."""
    links = links or {}
    x0, y0, x1, y1 = shapes.bounds
    w, h = x1 - x0, y1 - y0
    height = int(width * h / w)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="choropleth" role="img" '
            f'viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" width="{width}" height="{height}" '
            f'style="{SVG_STYLE}" aria-labelledby="cm-t cm-d" '
            f'preserveAspectRatio="xMidYMid meet"><title id="cm-t">{escape(c.title)}</title>'
            f'<desc id="cm-d">{escape(c.description)}</desc><g class="areas">')
    body = _paths(shapes, c, links, list(shapes.paths))
    parts = [head, *body, "</g></svg>", legend_svg(c)]
    if c.focus and c.focus in shapes.boxes:
        parts.append(inset_svg(shapes, c, links))
    return "".join(parts)


def legend_svg(c: Choropleth) -> str:
    """The classes with their ranges in the unit, the no-value swatch and the outline."""
    rows = []
    lower = None
    for k, upper in enumerate(c.breaks):
        lo = "" if lower is None else f"{short(lower, c.decimals)} to "
        text = (f"up to {short(upper, c.decimals)}" if lower is None
                else f"{lo}{short(upper, c.decimals)}")
        rows.append((class_colour(k, len(c.breaks)), text))
        lower = upper
    rows.append((NO_VALUE, "no value"))
    unit = f" ({c.unit})" if c.unit else ""
    items = [f'<text x="0" y="12" font-weight="bold">Legend{escape(unit)}</text>']
    for i, (fill, text) in enumerate(rows):
        y = 20 + 18 * i
        items.append(f'<rect x="0" y="{y}" width="16" height="14" style="fill:{fill};'
                     f'stroke:#9e9e9e"/><text x="22" y="{y + 11}">{escape(text)}</text>')
    y = 20 + 18 * len(rows)
    if c.members:
        items.append(f'<rect x="0" y="{y}" width="16" height="14" style="fill:#fff;'
                     f'stroke:#d95f02;stroke-width:3"/><text x="22" y="{y + 11}">'
                     "member of the network (outlined)</text>")
        y += 18
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="legend" role="img" '
            f'aria-label="Legend{escape(unit)}" width="260" height="{y + 4}" '
            f'font-family="sans-serif" font-size="12">' + "".join(items) + "</svg>")


def inset_svg(shapes: Shapes, c: Choropleth, links: Mapping[str, str], *,
              width: int = 260) -> str:
    """``c.focus`` and the districts around it, framed with a margin."""
    assert c.focus is not None
    bx0, by0, bx1, by1 = shapes.boxes[c.focus]
    pad = max(bx1 - bx0, by1 - by0, 40_000 / UNIT_M) * 0.8
    x0, y0, x1, y1 = bx0 - pad, by0 - pad, bx1 + pad, by1 + pad
    near = [k for k, (a, b, cc, d) in shapes.boxes.items()
            if a < x1 and cc > x0 and b < y1 and d > y0]
    name = c.labels.get(c.focus, shapes.names.get(c.focus, c.focus))
    body = _paths(shapes, c, links, near)
    ring = (f'<path d="{shapes.paths[c.focus]}" style="fill:none;stroke:#000;stroke-width:6;'
            'pointer-events:none"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="choropleth inset" role="img" '
            f'viewBox="{x0:.0f} {y0:.0f} {x1 - x0:.0f} {y1 - y0:.0f}" width="{width}" '
            f'height="{int(width * (y1 - y0) / (x1 - x0))}" style="{SVG_STYLE}" '
            f'aria-label="Inset: {escape(name)} and its neighbours">'
            f"<title>Inset: {escape(name)} and its neighbours</title>"
            + "".join(body) + ring + "</svg>")


__all__ = ["Choropleth", "choropleth_svg", "class_colour", "colour", "inset_svg", "legend_svg"]
