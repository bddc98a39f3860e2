"""Line and bar charts of the web pages drawn as plain SVG strings, for a laptop and a phone.

Drawn by Vega (``vl-convert``) each chart of a page cost about 50 ms, twice (a
laptop's drawing and a phone's), which alone took a place page past its 150 ms
budget (issue 18, point 3).  These charts are simple enough to draw here, in well
under a millisecond, as the indicator pages' charts are
(:mod:`keycities.present.indicator_charts`): the same conventions as the Vega
charts (integer years, the unit as the value axis's title, series told apart by
dash as well as colour, a legend naming every series), a ``<title>`` on every
point and bar for a pointer's hover, and two drawings of each chart: one
:data:`WIDE` px wide for a laptop (class ``wide``) and one
:data:`~keycities.present.charts.PHONE_WIDTH` px wide with text of
:data:`~keycities.present.charts.PHONE_FONT` px for a phone (class ``narrow``);
the stylesheet shows one of them.  Pure functions of plain lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from keycities.present.charts import ACCENT, INK, PHONE_FONT, PHONE_WIDTH
from keycities.present.indicator_charts import GREY, nice_ticks

WIDE = 680
"""Width of a laptop's drawing, axes and legend included, in CSS px."""
WIDE_FONT = 11
"""Text size of a laptop's drawing, in px."""
PALETTE = (INK, ACCENT, "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
DASHES = ("", "6 3", "2 2", "8 3 2 3", "", "6 3", "2 2", "8 3 2 3")
GRID = "#e0e0e0"
AXIS = "#888888"


@dataclass(frozen=True)
class Size:
    """One drawing's size: its whole width, text size, class and how long a label may be."""

    width: int
    font: int
    cls: str
    label_px: int

    def text_px(self, text: str) -> float:
        """About how wide ``text`` is drawn (sans-serif: about 0.6 em a character)."""
        return 0.6 * self.font * len(text)

    def cut(self, text: str, px: float | None = None) -> str:
        """``text`` cut to ``px`` (default :attr:`label_px`), ending in "…" when cut."""
        fits = max(int((px or self.label_px) / (0.6 * self.font)), 4)
        return text if len(text) <= fits else text[:fits - 1].rstrip() + "…"


SIZES = (Size(WIDE, WIDE_FONT, "wide", 260), Size(PHONE_WIDTH, PHONE_FONT, "narrow", 132))
"""The two drawings of every chart: a laptop's and a phone's."""


# ------------------------------------------------------------------ numbers and scales


def ticks(lo: float, hi: float, n: int, *, whole: bool = False) -> list[float]:
    """About ``n`` round ticks covering ``lo`` to ``hi`` (whole numbers only if ``whole``)."""
    out = nice_ticks(lo, hi, n)
    if whole and len(out) > 1 and out[1] - out[0] < 1:
        out = [float(v) for v in range(math.floor(lo), math.ceil(hi) + 1)]
    return out


def tick_text(values: Sequence[float]) -> list[str]:
    """Tick labels with thousands separators and as many decimals as the step needs."""
    step = min((abs(b - a) for a, b in zip(values, values[1:], strict=False) if b != a),
               default=1.0)
    digits = 0
    while digits < 6 and abs(round(step, digits) - step) > 1e-9 * max(1.0, abs(step)):
        digits += 1
    return [f"{v:,.{digits}f}".replace("-", "−") for v in values]


def value_text(x: float) -> str:
    """A value for a tooltip: four significant figures, thousands separated."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 10_000 else f"{x:,.4g}"


def scale(lo: float, hi: float, a: float, b: float) -> Callable[[float], float]:
    """The linear map of ``lo..hi`` onto ``a..b``."""
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _frame(size: Size, height: float, title: str, inner: list[str]) -> str:
    h = math.ceil(height)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="presentation" aria-hidden="true" '
            f'class="plain {size.cls}" viewBox="0 0 {size.width} {h}" width="{size.width}" '
            f'height="{h}" font-family="sans-serif" font-size="{size.font}">'
            f"<title>{escape(title)}</title>" + "".join(inner) + "</svg>")


def _swatch(x: float, y: float, colour: str, dash: str) -> str:
    return (f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")


def _legend(names: Sequence[str], size: Size, top: float, left: float) -> tuple[list[str], float]:
    """A line's swatch (colour and dash) and name per series, in rows that fit the width
    (one a row on a phone); returns the drawing and the height it takes."""
    out, x, y = [], left, top + size.font
    step = size.font + 7
    for k, name in enumerate(names):
        text = size.cut(name, 300 if size.cls == "wide" else size.width - left - 40)
        need = 30 + size.text_px(text) + 16
        if x > left and (size.cls == "narrow" or x + need > size.width):
            x, y = left, y + step
        out.append(_swatch(x, y - size.font / 3, PALETTE[k % 8], DASHES[k % 8])
                   + f'<text x="{x + 30:.1f}" y="{y:.1f}">{escape(text)}'
                   + (f"<title>{escape(name)}</title>" if text != name else "") + "</text>")
        x += need
    return out, y - top + 6


# ------------------------------------------------------------------ the charts


def line_svg(lines: dict[str, list[tuple[int, float]]], *, title: str, unit: str,
             size: Size) -> str:
    """Lines of (year, value) points, one per series (in ``lines``' order), on one axis.

    The value axis is not forced to zero (as the Vega charts: ``zero=False``); its
    ticks are whole numbers when every value is one (no "25.5 members").
    """
    pts = [p for series in lines.values() for p in series]
    years = [y for y, _ in pts] or [0]
    vals = [v for _, v in pts] or [0.0]
    whole = all(float(v).is_integer() for v in vals)
    lo, hi = min(vals), max(vals)
    pad = 0.0 if hi > lo else abs(hi) * 0.05 or 1.0  # one value: an axis around it
    yt = ticks(lo - pad, hi + pad, 5, whole=whole)  # the axis spans its ticks, as Vega's
    ylo, yhi = min(lo, *yt), max(hi, *yt)
    labels = tick_text(yt)
    f = size.font
    left = 18 + f + max(size.text_px(t) for t in labels)
    right, top, plot_h = 14.0, 8.0, (300.0 if size.cls == "wide" else 220.0)
    y = scale(ylo, yhi, top + plot_h, top)
    x0, x1 = min(years), max(years)
    x = scale(x0 - 0.5 * (x0 == x1), x1 + 0.5 * (x0 == x1), left + 8, size.width - right - 8)
    inner = []
    for t, text in zip(yt, labels, strict=True):
        inner.append(f'<line x1="{left:.1f}" x2="{size.width - right}" y1="{y(t):.1f}" '
                     f'y2="{y(t):.1f}" stroke="{GRID}"/><text x="{left - 4:.1f}" '
                     f'y="{y(t) + f / 3:.1f}" text-anchor="end">{text}</text>')
    mid = top + plot_h / 2
    inner.append(f'<text x="{f:.0f}" y="{mid:.1f}" text-anchor="middle" font-weight="bold" '
                 f'transform="rotate(-90 {f:.0f} {mid:.1f})">'
                 f"{escape(size.cut(unit, plot_h))}</text>")
    base = top + plot_h
    inner += _year_axis(x, x0, x1, base=base, left=left, right=right, size=size)
    for k, (name, series) in enumerate(lines.items()):
        colour, dash = PALETTE[k % 8], DASHES[k % 8]
        path = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in series)
        inner.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "")
                     + "/>")
        inner += [f'<circle cx="{x(yr):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"><title>'
                  f"{escape(name)}, {yr}: {value_text(v)}</title></circle>" for yr, v in series]
    legend, legend_h = _legend(list(lines), size, base + 12 + 2 * f, left)
    return _frame(size, base + 12 + 2 * f + legend_h, title, inner + legend)


def _year_axis(x: Callable[[float], float], x0: int, x1: int, *, base: float, left: float,
               right: float, size: Size) -> list[str]:
    """The axis line at ``base`` and years every 1, 2, 5, 10... years, as many as fit."""
    f = size.font
    out = [f'<line x1="{left:.1f}" x2="{size.width - right}" y1="{base:.1f}" '
           f'y2="{base:.1f}" stroke="{AXIS}"/>']
    most = max(int((size.width - left - right) / (f * 4.2)), 2)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if (x1 - x0) / s < most or s == 100)
    for yr in range(x0 + (-x0) % step, x1 + 1, step):
        out.append(f'<line x1="{x(yr):.1f}" x2="{x(yr):.1f}" y1="{base:.1f}" '
                   f'y2="{base + 4:.1f}" stroke="{AXIS}"/><text x="{x(yr):.1f}" '
                   f'y="{base + 6 + f:.1f}" text-anchor="middle">{yr}</text>')
    return out


def _row_axis(names: Sequence[str], values: Sequence[float], size: Size, band: float, *,
              zero: str) -> tuple[Callable[[float], float], float, float, float, float,
                                  list[str]]:
    """The value axis of labelled rows (bars, a forest plot), ``band`` high each: the scale
    ``x`` (taking in 0 and the ticks), the left and right margins (the names, half the last
    tick label), the top and the base of the rows, and the ticks' lines and labels (the
    line at 0 in the colour ``zero``)."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    xt = ticks(lo, hi, 7 if size.cls == "wide" else 4)
    lo, hi = min(lo, *xt), max(hi, *xt)
    labels = tick_text(xt)
    left = 8 + max([size.text_px(n) for n in names] or [0])
    right = 8 + size.text_px(labels[-1]) / 2 if labels else 8.0
    top = 6.0
    x = scale(lo, hi, left, size.width - right)
    base = top + band * len(names)
    f = size.font
    inner = [f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{base + 4:.1f}" '
             f'stroke="{GRID if t else zero}"/><text x="{x(t):.1f}" '
             f'y="{base + 6 + f:.1f}" text-anchor="middle">{text}</text>'
             for t, text in zip(xt, labels, strict=True)]
    return x, left, right, top, base, inner


def bar_svg(bars: Sequence[tuple[str, float]], *, title: str, unit: str, size: Size,
            highlight: str | None = None) -> str:
    """Horizontal bars of (category, value), in the given order, labelled on the left;
    ``highlight``'s bar in the accent colour."""
    f = size.font
    names = [size.cut(str(c)) for c, _ in bars]
    vals = [float(v) for _, v in bars]
    band = max(18.0, f + 7.0)
    x, left, right, top, base, inner = _row_axis(names, vals, size, band, zero=AXIS)
    for i, ((cat, v), name) in enumerate(zip(bars, names, strict=True)):
        y0 = top + i * band
        a, b = sorted((x(0.0), x(float(v))))
        fill = ACCENT if highlight is not None and str(cat) == highlight else INK
        inner.append(f'<text x="{left - 4:.1f}" y="{y0 + band / 2 + f / 3:.1f}" '
                     f'text-anchor="end">{escape(name)}</text>'
                     f'<rect x="{a:.1f}" y="{y0 + 2:.1f}" width="{max(b - a, .5):.1f}" '
                     f'height="{band - 4:.1f}" fill="{fill}"><title>{escape(str(cat))}: '
                     f"{value_text(float(v))}</title></rect>")
    inner.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{top}" y2="{base:.1f}" '
                 f'stroke="{AXIS}"/><text x="{(left + size.width - right) / 2:.1f}" '
                 f'y="{base + 12 + 2 * f:.1f}" text-anchor="middle" font-weight="bold">'
                 f"{escape(size.cut(unit, size.width - left - right))}</text>")
    return _frame(size, base + 18 + 2 * f, title, inner)


def _marker(kind: int, x: float, y: float, r: float, colour: str, tip: str = "") -> str:
    """A filled circle for the first kind, a filled diamond for the second (and so on):
    kinds differ by shape as well as colour.  ``tip``: its title (shown on hover)."""
    title = f"<title>{escape(tip)}</title>" if tip else ""
    if kind % 2 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}">{title}</circle>'
    return (f'<path d="M{x:.1f},{y - r - 1:.1f}L{x + r + 1:.1f},{y:.1f}L{x:.1f},'
            f'{y + r + 1:.1f}L{x - r - 1:.1f},{y:.1f}Z" fill="{colour}">{title}</path>')


def interval_svg(rows: Sequence[tuple[str, float, float, float, str]], *, title: str,
                 x_title: str, size: Size) -> str:
    """A forest plot: per row (place, estimate, low, high, kind), in the given order, a
    grey rule from low to high and a mark at the estimate (colour and shape by kind, in
    sorted order as Vega's nominal scale), a rule at zero, ``x_title`` under the axis
    and a legend of the kinds."""
    f = size.font
    kinds = sorted({k for *_, k in rows})
    colours = {k: (ACCENT, INK)[i % 2] for i, k in enumerate(kinds)}
    names = [size.cut(str(r[0])) for r in rows]
    nums = [v for r in rows for v in r[1:4] if math.isfinite(v)]
    band = max(14.0, f + 4.0)
    x, left, right, top, base, inner = _row_axis(names, nums, size, band, zero=GRID)
    inner.append(f'<line x1="{x(0.0):.1f}" x2="{x(0.0):.1f}" y1="{top}" y2="{base:.1f}" '
                 'stroke="#616161"/>')
    for i, ((place, est, low, high, kind), name) in enumerate(zip(rows, names, strict=True)):
        cy = top + (i + 0.5) * band
        inner.append(f'<text x="{left - 4:.1f}" y="{cy + f / 3:.1f}" text-anchor="end">'
                     f"{escape(name)}</text>")
        if math.isfinite(low) and math.isfinite(high):
            inner.append(f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{cy:.1f}" '
                         f'y2="{cy:.1f}" stroke="#9e9e9e" stroke-width="2"/>')
        if math.isfinite(est):
            inner.append(_marker(kinds.index(kind), x(est), cy, 3.5, colours[kind],
                                 f"{place} ({kind}): {est:+.1f} ({low:+.1f} to {high:+.1f})"
                                 f" ({x_title})"))
    inner.append(f'<text x="{(left + size.width - right) / 2:.1f}" y="{base + 12 + 2 * f:.1f}" '
                 f'text-anchor="middle" font-weight="bold">'
                 f"{escape(size.cut(x_title, size.width - left - right))}</text>")
    ly = base + 22 + 3 * f
    lx = left
    for i, kind in enumerate(kinds):
        inner.append(_marker(i, lx + 5, ly - f / 3, 4, colours[kind])
                     + f'<text x="{lx + 14:.1f}" y="{ly:.1f}">{escape(kind)}</text>')
        lx += 30 + size.text_px(kind)
    return _frame(size, ly + 8, title, inner)


def both(draw: Callable[..., str]) -> str:
    """A chart drawn for a laptop and for a phone (the stylesheet shows one): ``draw`` takes
    the keyword ``size``."""
    return "".join(draw(size=s) for s in SIZES)


def scatter_svg(points: Sequence[tuple[str, float, float, bool]], *, title: str,
                x_title: str, y_title: str, size: Size) -> str:
    """Every point (name, x, y, member) as a dot: other districts grey, members in the
    accent colour drawn on top, neither axis forced to zero (as the Vega chart), each
    axis titled with its indicator and unit, and a legend of the two colours."""
    f = size.font
    xs, ys = [p[1] for p in points] or [0.0], [p[2] for p in points] or [0.0]
    yt, xt = ticks(min(ys), max(ys), 5), ticks(min(xs), max(xs), 6 if size.cls == "wide" else 3)
    ylabels, xlabels = tick_text(yt), tick_text(xt)
    left = 18 + f + max(size.text_px(t) for t in ylabels)
    right, top, plot_h = 8 + size.text_px(xlabels[-1]) / 2, 8.0, (
        320.0 if size.cls == "wide" else 240.0)
    y = scale(min(*ys, *yt), max(*ys, *yt), top + plot_h, top)
    x = scale(min(*xs, *xt), max(*xs, *xt), left, size.width - right)
    base = top + plot_h
    inner = [f'<line x1="{left:.1f}" x2="{size.width - right:.1f}" y1="{y(t):.1f}" '
             f'y2="{y(t):.1f}" stroke="{GRID}"/><text x="{left - 4:.1f}" '
             f'y="{y(t) + f / 3:.1f}" text-anchor="end">{text}</text>'
             for t, text in zip(yt, ylabels, strict=True)]
    inner += [f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{base + 4:.1f}" '
              f'stroke="{GRID}"/><text x="{x(t):.1f}" y="{base + 6 + f:.1f}" '
              f'text-anchor="middle">{text}</text>' for t, text in zip(xt, xlabels, strict=True)]
    mid = top + plot_h / 2
    inner.append(f'<line x1="{left:.1f}" x2="{size.width - right:.1f}" y1="{base:.1f}" '
                 f'y2="{base:.1f}" stroke="{AXIS}"/><text x="{f:.0f}" y="{mid:.1f}" '
                 f'text-anchor="middle" font-weight="bold" transform="rotate(-90 {f:.0f} '
                 f'{mid:.1f})">{escape(size.cut(y_title, plot_h))}</text><text '
                 f'x="{(left + size.width - right) / 2:.1f}" y="{base + 12 + 2 * f:.1f}" '
                 f'text-anchor="middle" font-weight="bold">'
                 f"{escape(size.cut(x_title, size.width - left - right))}</text>")
    for name, px, py, member in sorted(points, key=lambda p: p[3]):
        inner.append(f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" '
                     f'fill="{ACCENT if member else GREY}" fill-opacity="0.8"><title>'
                     f"{escape(name)}: {escape(x_title)} {value_text(px)}; {escape(y_title)} "
                     f"{value_text(py)}</title></circle>")
    legend_y = base + 18 + 3 * f
    for k, (label, colour) in enumerate((("other district", GREY), ("member", ACCENT))):
        lx = left + k * (size.text_px("other district") + 30)
        inner.append(f'<circle cx="{lx + 4:.1f}" cy="{legend_y - f / 3:.1f}" r="4" '
                     f'fill="{colour}"/><text x="{lx + 12:.1f}" y="{legend_y:.1f}">'
                     f"{label}</text>")
    return _frame(size, legend_y + 8, title, inner)


__all__ = ["SIZES", "Size", "bar_svg", "both", "interval_svg", "line_svg", "scatter_svg",
           "tick_text", "ticks"]
