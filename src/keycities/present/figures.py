"""The web pages' charts: time series, indexed comparisons, bars.

Pure builders from tidy DataFrames to :class:`PlainFigure`: the chart drawn as
plain SVG for a laptop and a phone (:mod:`keycities.present.svg_charts`, well
under a millisecond where Vega took about 50 ms a drawing), its table, its title
and a description in words, following the conventions of
:mod:`keycities.present.charts`: integer years, units in axis titles, series
told apart by dash as well as colour.  The same chart as Vega-Lite (an Altair
chart) is made only when asked for: the JSON payload, chart files
(:func:`keycities.present.charts.save`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import altair as alt
import pandas as pd

from keycities._util.plain import jsonable
from keycities.present.charts import (
    ACCENT,
    HEIGHT,
    INK,
    WIDTH,
    Figure,
    VegaSpec,
    _data,
    _num,
)
from keycities.present.indicator_charts import GREY, in_sentence
from keycities.present.svg_charts import bar_svg, both, interval_svg, line_svg, scatter_svg


@dataclass(frozen=True)
class SpecFigure:
    """A chart as its Vega-Lite spec (plain data: it crosses process boundaries), with the
    same interface as :class:`~keycities.present.charts.Figure` for pages."""

    vega: dict[str, Any]
    table: pd.DataFrame
    title: str
    description: str
    svg: str | None = None
    """The chart drawn as SVG for a laptop and a phone, where it is (else pages draw
    ``vega``)."""

    @classmethod
    def of(cls, fig: Figure, *, svg: str | None = None) -> SpecFigure:
        """The plain form of an Altair figure (``svg``: its drawing, if made)."""
        return cls(fig.spec(), fig.table, fig.title, fig.description, svg)

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite JSON specification."""
        return self.vega

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: title, description, Vega-Lite spec and the table."""
        return jsonable({"title": self.title, "description": self.description,
                         "spec": self.vega, "table": self.table})


@dataclass(frozen=True)
class PlainFigure(VegaSpec):
    """A chart drawn as plain SVG (twice: for a laptop and a phone), with its table, title
    and description in words, and the same chart as Vega-Lite made on request, with the
    interface of :class:`~keycities.present.charts.Figure` that pages use.

    ``make`` builds the Altair chart (a :func:`functools.partial` of a module function,
    so the figure pickles); the page's HTML never calls it.
    """

    table: pd.DataFrame
    title: str
    description: str
    svg: str
    make: Callable[[], alt.TopLevelMixin]

    @cached_property
    def chart(self) -> alt.TopLevelMixin:
        """The Altair chart (made on first use)."""
        return self.make()

    def altair(self) -> alt.TopLevelMixin:
        """The Altair chart (made on first use)."""
        return self.chart


PALETTE = [INK, ACCENT, "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666"]
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 0], [6, 3], [2, 2], [8, 3, 2, 3]]


def line_figure(df: pd.DataFrame, *, title: str, unit: str, series: str = "series",
                index: bool = False) -> PlainFigure:
    """Lines of ``value`` by ``year``, one per ``series``.

    Parameters
    ----------
    df
        Columns ``year`` (int), ``value`` (float) and ``series``.
    title, unit
        Chart title and the unit of ``value`` (the y-axis title).
    series
        The column naming each line.
    index
        Say in the description that values are indexed (first common year = 100).

    Returns
    -------
    PlainFigure
        The chart as SVG; its table has a column ``year`` and one per series.
    """
    data = df[["year", series, "value"]].dropna()
    # Plain lists, not pandas' sorting and pivoting: a page draws several of these.
    rows = sorted(zip(data[series].tolist(), data["year"].astype(int).tolist(),
                      data["value"].astype(float).tolist(), strict=True))
    lines: dict[str, list[tuple[int, float]]] = {}
    for name, year, v in rows:
        lines.setdefault(str(name), []).append((year, v))
    names = list(lines)
    parts = [f"{name}: {_num(pts[0][1])} in {pts[0][0]} to {_num(pts[-1][1])} in {pts[-1][0]}"
             for name, pts in lines.items()]
    desc = (f"Line chart of {in_sentence(title)}"
            + (" (indexed, first common year = 100)" if index else "") + ". "
            + "; ".join(parts) + ".")
    years = sorted({year for _, year, _ in rows})
    by_year = {name: dict(pts) for name, pts in lines.items()}
    table = pd.DataFrame({"year": years, **{name: [at.get(y, math.nan) for y in years]
                                             for name, at in by_year.items()}})
    svg = both(partial(line_svg, lines, title=title, unit=unit))
    return PlainFigure(table, title, desc, svg,
                       partial(_line_chart, data, names, series, title, unit, desc))


def _line_chart(data: pd.DataFrame, names: list[Any], series: str, title: str, unit: str,
                desc: str) -> alt.TopLevelMixin:
    """:func:`line_figure`'s chart as Vega-Lite (for the JSON payload and chart files)."""
    data = data.sort_values([series, "year"])
    n = len(names)
    colour = alt.Color(f"{series}:N", title=None, sort=names,
                       scale=alt.Scale(domain=names, range=PALETTE[:n]),
                       legend=alt.Legend(orient="bottom", labelLimit=300))
    dash = alt.StrokeDash(f"{series}:N", sort=names, legend=None,
                          scale=alt.Scale(domain=names, range=DASHES[:n]))
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2).encode(
        x=alt.X("year:Q", title=None, axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False), axis=_y_axis(data)),
        color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip("year:Q"),
                 alt.Tooltip("value:Q", format=",.4~g")],
    ).properties(width=WIDTH, height=HEIGHT, title=title, description=desc)


def _y_axis(data: pd.DataFrame) -> alt.Axis:
    """Whole-number ticks for whole-number values (members, places): no "25.5 members"."""
    values = data["value"].astype(float)
    if len(values) and bool((values == values.round()).all()):
        return alt.Axis(format=",d", tickMinStep=1)
    return alt.Axis()


def bar_figure(df: pd.DataFrame, *, category: str, value: str, title: str, unit: str,
               highlight: str | None = None) -> PlainFigure:
    """Horizontal bars of ``value`` by ``category`` (largest first).

    ``highlight``: a category drawn in the accent colour.
    """
    data = df[[category, value]].dropna().sort_values(value, ascending=False)
    top = data.head(3)
    desc = (f"Bar chart of {in_sentence(title)}, {len(data)} bars; largest: "
            + "; ".join(f"{c} {_num(v)}" for c, v in zip(top[category], top[value], strict=True))
            + ".")
    bars = [(str(c), float(v)) for c, v in zip(data[category], data[value], strict=True)]
    svg = both(partial(bar_svg, bars, title=title, unit=unit, highlight=highlight))
    return PlainFigure(data.reset_index(drop=True), title, desc, svg,
                       partial(_bar_chart, data, category, value, title, unit, highlight, desc))


def _bar_chart(data: pd.DataFrame, category: str, value: str, title: str, unit: str,
               highlight: str | None, desc: str) -> alt.TopLevelMixin:
    """:func:`bar_figure`'s chart as Vega-Lite (for the JSON payload and chart files)."""
    colour = (alt.condition(alt.datum[category] == highlight, alt.value(ACCENT), alt.value(INK))
              if highlight else alt.value(INK))
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X(f"{value}:Q", title=unit),
        color=colour,
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=",.4~g")],
    ).properties(width=WIDTH - 200, height=max(60, 18 * len(data)), title=title,
                 description=desc)


def interval_drawing(fig: Figure, *, x_title: str = "Effect (%)") -> str:
    """:func:`~keycities.present.charts.interval_chart`'s forest plot drawn as SVG, for a
    laptop and a phone, from its table (place, estimate, low, high, kind; best first)."""
    t = fig.table.sort_values("estimate", ascending=False, kind="stable")
    rows = [(str(p), float(e), float(lo), float(hi), str(k)) for p, e, lo, hi, k in zip(
        t["place"], t["estimate"], t["low"], t["high"], t["kind"], strict=True)]
    return both(partial(interval_svg, rows, title=fig.title, x_title=x_title))


def scatter_figure(points: pd.DataFrame, *, x_title: str, y_title: str,
                   title: str, description: str) -> PlainFigure:
    """Every district as a point (members in the accent colour, drawn on top).

    ``points``: name, x, y, member.
    """
    data = points.dropna(subset=["x", "y"]).sort_values("member", kind="stable")
    dots = list(zip(data["name"].astype(str), data["x"].astype(float), data["y"].astype(float),
                    data["member"].astype(bool), strict=True))
    svg = both(partial(scatter_svg, dots, title=title, x_title=x_title, y_title=y_title))
    table = data.rename(columns={"name": "Place", "x": x_title, "y": y_title,
                                 "member": "Member"})
    return PlainFigure(table.reset_index(drop=True), title, description, svg,
                       partial(_scatter_chart, data, x_title, y_title, title, description))


def _scatter_chart(data: pd.DataFrame, x_title: str, y_title: str, title: str,
                   description: str) -> alt.TopLevelMixin:
    """:func:`scatter_figure`'s chart as Vega-Lite (for the JSON payload and chart files)."""
    return alt.Chart(_data(data)).mark_circle(size=36, opacity=0.8).encode(
        x=alt.X("x:Q", title=x_title, scale=alt.Scale(zero=False)),
        y=alt.Y("y:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("member:N", title=None, scale=alt.Scale(
            domain=[False, True], range=[GREY, ACCENT]), legend=alt.Legend(
            orient="bottom", labelExpr="datum.value ? 'member' : 'other district'")),
        tooltip=["name:N", alt.Tooltip("x:Q", title=x_title, format=",.4~g"),
                 alt.Tooltip("y:Q", title=y_title, format=",.4~g")],
    ).properties(width=560, height=380, title=title, description=description)


def indexed(df: pd.DataFrame, *, series: str = "series") -> pd.DataFrame:
    """Rebase each series to 100 in the first year every series has."""
    years = df.dropna(subset=["value"]).groupby(series)["year"].apply(set)
    common = set.intersection(*years) if len(years) else set()
    if not common:
        return df.iloc[0:0]
    base_year = min(common)
    base = df[df["year"] == base_year].set_index(series)["value"]
    out = df[df["year"] >= base_year].copy()
    out["value"] = 100 * out["value"] / out[series].map(base)
    return out
