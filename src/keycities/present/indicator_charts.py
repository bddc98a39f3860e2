"""The indicator pages' charts, drawn as plain SVG: ranked bars, series with bands, a histogram.

An indicator page draws three charts for every one of the library's indicators.
Drawn by Vega (``vl-convert``, about 50 ms a chart on this machine) they alone
would take the page past its 150 ms budget, so these three simple charts are
drawn here as SVG strings (a millisecond each).  Each is a :class:`SvgChart`
with the interface of :class:`~keycities.present.charts.Figure` that pages use:
a title, a description in words and the table it plots (the page shows both,
so the chart is never the only way to the numbers).  Pure functions of frames.
The scatter of two indicators is drawn the same way, by
:func:`keycities.present.figures.scatter_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.present.charts import ACCENT, INK

GREY = "#9e9e9e"
BLUES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c", "#08306b", "#041c40")
"""Sequential classes of the choropleth, light to dark (ColorBrewer Blues, then darker)."""
NO_VALUE = "#f0f0f0"
SERIES_COLOURS = (INK, ACCENT, "#1b9e77", "#7570b3", "#e7298a", "#66a61e")
SERIES_DASHES = ("", "6 3", "2 2", "8 3 2 3", "", "6 3")
W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36


@dataclass(frozen=True)
class SvgChart:
    """A chart drawn as SVG, with its title, description in words and table."""

    title: str
    description: str
    table: pd.DataFrame
    svg: str

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: title, description and the table (the SVG is the page's)."""
        return jsonable({"title": self.title, "description": self.description,
                         "table": self.table})


# ------------------------------------------------------------------ numbers and scales


def in_sentence(title: str) -> str:
    """A chart title inside a sentence: its first letter lower-cased unless the first word
    is an acronym ("GVA per job"); place names keep their capitals."""
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        return title[0].lower() + title[1:]
    return title


def quantile_breaks(values: Sequence[float] | np.ndarray, k: int = 5) -> list[float]:
    """Upper bounds of ``k`` classes of (about) equal counts: the ``1/k, ..., (k-1)/k``
    quantiles of the finite values, repeats dropped (fewer classes when values tie),
    with the maximum last.  Empty for no values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return []
    inner = np.quantile(x, np.arange(1, k) / k)
    return [float(b) for b in dict.fromkeys([*inner.tolist(), float(x.max())])]


def class_of(value: float, breaks: Sequence[float]) -> int | None:
    """Index of the class of ``value`` (the first upper bound at or above it)."""
    if value is None or not math.isfinite(value) or not breaks:
        return None
    return min(int(np.searchsorted(np.asarray(breaks), value, side="left")), len(breaks) - 1)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values from at or below ``lo`` to at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start, stop = math.floor(lo / step), math.ceil(hi / step)
    return [round(k * step, 10) for k in range(start, stop + 1)]


def short(x: float, decimals: int | None = None) -> str:
    """A tick or legend number: thousands separated, the published decimals at most."""
    if x is None or not math.isfinite(x):
        return "—"
    if decimals is not None and abs(x) < 1e4:
        return f"{x:,.{decimals}f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def _svg(inner: list[str], title: str, height: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="presentation" aria-hidden="true" '
            f'viewBox="0 0 {W} {height}" width="{W}" height="{height}" font-family="sans-serif" '
            f'font-size="11"><title>{escape(title)}</title>' + "".join(inner) + "</svg>")


def _y_axis(ticks: list[float], y: Any, unit: str, decimals: int | None) -> list[str]:
    out = []
    for t in ticks:
        py = y(t)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                   'stroke="#e0e0e0"/>'
                   f'<text x="{LEFT - 4}" y="{py + 4:.1f}" text-anchor="end">'
                   f'{escape(short(t, decimals))}</text>')
    out.append(f'<text x="12" y="{TOP + (H - TOP - BOTTOM) / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {TOP + (H - TOP - BOTTOM) / 2:.0f})">'
               f'{escape(unit)}</text>')
    return out


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


# ------------------------------------------------------------------ the charts


def ranked_bars(ranking: pd.DataFrame, *, title: str, unit: str, england: float | None,
                decimals: int | None = None) -> SvgChart:
    """Every district's value as a bar, best first (``rank`` order), members in the accent
    colour, England's value as a dashed line.

    ``ranking``: rank, name, value, member (as :attr:`IndicatorView.ranking`).
    """
    r = ranking.dropna(subset=["value"]).reset_index(drop=True)
    vals = r["value"].to_numpy(dtype=float)
    ref = [england] if england is not None and math.isfinite(england) else []
    lo, hi = min([0.0, *vals, *ref]), max([0.0, *vals, *ref])
    ticks = nice_ticks(lo, hi)
    lo, hi = min(lo, *ticks), max(hi, *ticks)
    y = _scale(lo, hi, H - BOTTOM, TOP)
    n = max(len(r), 1)
    bw = (W - LEFT - RIGHT) / n
    inner = _y_axis(ticks, y, unit, decimals)
    y0 = y(0.0)
    for i, (v, member, name) in enumerate(zip(vals, r["member"], r["name"], strict=True)):
        top, bottom = sorted((y(v), y0))
        fill = ACCENT if member else INK
        inner.append(f'<rect x="{LEFT + i * bw:.2f}" y="{top:.1f}" width="{max(bw - .2, .6):.2f}" '
                     f'height="{max(bottom - top, .5):.1f}" fill="{fill}">'
                     f'<title>{escape(str(name))}: {escape(short(v, decimals))}</title></rect>')
    if ref:
        py = y(ref[0])
        inner.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                     f'stroke="#000" stroke-dasharray="5 3"/><text x="{W - RIGHT}" '
                     f'y="{py - 4:.1f}" text-anchor="end">England {escape(short(ref[0], decimals))}'
                     '</text>')
    inner.append(f'<text x="{LEFT}" y="{H - 18}">1 (best)</text><text x="{W - RIGHT}" '
                 f'y="{H - 18}" text-anchor="end">{len(r)}</text>'
                 f'<rect x="{LEFT + 120}" y="{H - 12}" width="10" height="10" fill="{INK}"/>'
                 f'<text x="{LEFT + 134}" y="{H - 3}">district</text>'
                 f'<rect x="{LEFT + 200}" y="{H - 12}" width="10" height="10" fill="{ACCENT}"/>'
                 f'<text x="{LEFT + 214}" y="{H - 3}">member of the network</text>')
    members = r[r["member"]]
    desc = (f"Bar chart of {in_sentence(title)}: {len(r)} districts ranked, best first, from "
            f"{short(vals.max() if len(vals) else math.nan, decimals)} to "
            f"{short(vals.min() if len(vals) else math.nan, decimals)} {unit}"
            + (f"; England {short(ref[0], decimals)} {unit} (dashed line)" if ref else "")
            + (f"; {len(members)} members highlighted, ranked "
               + ", ".join(f"{n} {k}" for n, k in zip(members["name"], members["rank"],
                                                       strict=True)) if len(members) else "")
            + ".")
    table = r[["rank", "name", "value", "member"]].rename(columns={
        "rank": "Rank", "name": "Place", "value": f"Value ({unit})", "member": "Member"})
    return SvgChart(title, desc, table, _svg(inner, title))


def series_chart(long: pd.DataFrame, *, title: str, unit: str,
                 decimals: int | None = None) -> SvgChart:
    """Lines of ``value`` by period, one per ``series``, with a band from ``lower`` to
    ``upper`` where published.

    ``long``: label (the period's words), start (its start date), series, value, lower,
    upper.  Periods are equally spaced in time order.
    """
    data = long.dropna(subset=["value"])
    periods = (data[["label", "start"]].drop_duplicates("label").sort_values("start")
               ["label"].tolist())
    names = list(dict.fromkeys(data["series"]))
    lines: dict[str, dict[str, tuple[float, float, float]]] = {n: {} for n in names}
    for name, label, v, lw, up in zip(data["series"], data["label"], data["value"],
                                      data["lower"], data["upper"], strict=True):
        lines[name][label] = (float(v), float(lw), float(up))
    nums = [x for pts in lines.values() for t in pts.values() for x in t if math.isfinite(x)]
    lo, hi = (min(nums), max(nums)) if nums else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    ticks = nice_ticks(lo - pad, hi + pad)
    lo, hi = min(lo - pad, *ticks), max(hi + pad, *ticks)
    y = _scale(lo, hi, H - BOTTOM - 16, TOP)
    px = {p: LEFT + 20 + k * (W - LEFT - RIGHT - 40) / max(len(periods) - 1, 1)
          for k, p in enumerate(periods)}
    inner = _y_axis(ticks, y, unit, decimals)
    for p, x in px.items():
        inner.append(f'<text x="{x:.1f}" y="{H - BOTTOM - 2}" text-anchor="middle">'
                     f'{escape(p)}</text>')
    parts, banded = [], False
    for k, name in enumerate(names):
        pts = [(p, *lines[name][p]) for p in periods if p in lines[name]]
        colour, dash = SERIES_COLOURS[k % 6], SERIES_DASHES[k % 6]
        inner += _line(pts, str(name), colour, dash, px, y, decimals)
        banded = banded or any(math.isfinite(lw) and math.isfinite(up) for _, _, lw, up in pts)
        lx, ly = LEFT + (k % 3) * 190, H - 14 + (k // 3) * 12
        inner.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"'
                     + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
                     f'<text x="{lx + 28}" y="{ly}">{escape(str(name)[:30])}</text>')
        if pts:
            parts.append(f"{name}: {short(pts[0][1], decimals)} in {pts[0][0]} to "
                         f"{short(pts[-1][1], decimals)} in {pts[-1][0]}")
    desc = (f"Line chart of {in_sentence(title)} ({unit}). " + "; ".join(parts) + "."
            + (" Shaded bands: 95% confidence intervals as published." if banded else
               " No confidence intervals are published."))
    table = pd.DataFrame({"Period": periods, **{str(n): [lines[n].get(p, (np.nan,))[0]
                                                         for p in periods] for n in names}})
    return SvgChart(title, desc, table, _svg(inner, title, H + (len(names) > 3) * 12))


def _line(pts: list[tuple[str, float, float, float]], name: str, colour: str, dash: str,
          px: dict[str, float], y: Any, decimals: int | None) -> list[str]:
    """One series: its band (where intervals are published), line, points and whiskers."""
    out = []
    band = [(p, lw, up) for p, _, lw, up in pts if math.isfinite(lw) and math.isfinite(up)]
    if len(band) > 1:
        ring = [f"{px[p]:.1f},{y(up):.1f}" for p, _, up in band] + [
            f"{px[p]:.1f},{y(lw):.1f}" for p, lw, _ in band[::-1]]
        out.append(f'<polygon points="{" ".join(ring)}" fill="{colour}" fill-opacity="0.15"/>')
    for p, lw, up in band:
        out.append(f'<line x1="{px[p]:.1f}" x2="{px[p]:.1f}" y1="{y(lw):.1f}" '
                   f'y2="{y(up):.1f}" stroke="{colour}" stroke-opacity=".5"/>')
    line = " ".join(f"{px[p]:.1f},{y(v):.1f}" for p, v, _, _ in pts)
    out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"'
               + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    out += [f'<circle cx="{px[p]:.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>'
            f'{escape(name)}, {escape(p)}: {escape(short(v, decimals))}</title></circle>'
            for p, v, _, _ in pts]
    return out


def histogram(values: Sequence[float] | np.ndarray, *, title: str, unit: str,
              england: float | None = None, marks: dict[str, float] | None = None,
              decimals: int | None = None, bins: int = 24) -> SvgChart:
    """How the districts' values are spread: a histogram, England's value as a dashed
    line and ``marks`` (a network's members) as ticks under the axis."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    marks = {k: v for k, v in (marks or {}).items() if v is not None and math.isfinite(v)}
    if not len(x):
        return SvgChart(title, f"No values of {in_sentence(title)}.", pd.DataFrame(),
                        _svg([], title))
    counts, edges = np.histogram(x, bins=bins)
    lo, hi = float(edges[0]), float(edges[-1])
    if england is not None and math.isfinite(england):
        lo, hi = min(lo, england), max(hi, england)
    px = _scale(lo, hi, LEFT, W - RIGHT)
    ticks = nice_ticks(0, float(counts.max()), 4)
    top = max(ticks[-1], float(counts.max())) if ticks else 1.0
    y = _scale(0, top, H - BOTTOM - 10, TOP)
    inner = _y_axis(ticks, y, "districts", 0)
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        bw = max(px(b) - px(a) - 1, .5)
        inner.append(f'<rect x="{px(a) + .5:.1f}" y="{y(c):.1f}" width="{bw:.1f}" '
                     f'height="{y(0) - y(c):.1f}" fill="{INK}"><title>{escape(short(a, decimals))}'
                     f' to {escape(short(b, decimals))}: {int(c)} districts</title></rect>')
    for t in nice_ticks(lo, hi):
        if lo <= t <= hi:
            inner.append(f'<text x="{px(t):.1f}" y="{H - 12}" text-anchor="middle">'
                         f'{escape(short(t, decimals))}</text>')
    for name, v in marks.items():
        inner.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{y(0) + 1:.1f}" '
                     f'y2="{y(0) + 9:.1f}" stroke="{ACCENT}" stroke-width="2">'
                     f'<title>{escape(name)}: {escape(short(v, decimals))}</title></line>')
    if england is not None and math.isfinite(england):
        inner.append(f'<line x1="{px(england):.1f}" x2="{px(england):.1f}" y1="{TOP}" '
                     f'y2="{y(0):.1f}" stroke="#000" stroke-dasharray="5 3"/>'
                     f'<text x="{px(england) + 4:.1f}" y="{TOP + 10}">England</text>')
    inner.append(f'<text x="{W - RIGHT}" y="{H - 1}" text-anchor="end">{escape(unit)}'
                 + (" · ticks below the axis: members" if marks else "") + "</text>")
    peak = int(counts.argmax())
    desc = (f"Histogram of {in_sentence(title)}: {len(x)} districts from "
            f"{short(x.min(), decimals)} to {short(x.max(), decimals)} {unit}, median "
            f"{short(float(np.median(x)), decimals)};"
            f" the most common range is {short(edges[peak], decimals)} to "
            f"{short(edges[peak + 1], decimals)} ({int(counts[peak])} districts)"
            + (f"; England {short(england, decimals)}" if england is not None
               and math.isfinite(england) else "") + ".")
    table = pd.DataFrame({"From": edges[:-1], "To": edges[1:], "Districts": counts})
    return SvgChart(title, desc, table, _svg(inner, title))


__all__ = ["BLUES", "NO_VALUE", "SvgChart", "class_of", "histogram", "in_sentence",
           "nice_ticks", "quantile_breaks", "ranked_bars", "series_chart", "short"]
