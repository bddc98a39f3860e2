"""The web pages' charts: time series, indexed comparisons, bars.

Pure builders from tidy DataFrames to :class:`keycities.present.charts.Figure`
(an Altair chart, its table, its title and a description in words), following
the conventions of :mod:`keycities.present.charts`: integer years, units in
axis titles, series told apart by dash as well as colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from keycities._util.plain import jsonable
from keycities.present.charts import ACCENT, HEIGHT, INK, WIDTH, Figure, _num


@dataclass(frozen=True)
class SpecFigure:
    """A chart as its Vega-Lite spec (plain data: it crosses process boundaries), with the
    same interface as :class:`~keycities.present.charts.Figure` for pages."""

    vega: dict[str, Any]
    table: pd.DataFrame
    title: str
    description: str

    @classmethod
    def of(cls, fig: Figure) -> SpecFigure:
        """The plain form of an Altair figure."""
        return cls(fig.spec(), fig.table, fig.title, fig.description)

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite JSON specification."""
        return self.vega

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: title, description, Vega-Lite spec and the table."""
        return jsonable({"title": self.title, "description": self.description,
                         "spec": self.vega, "table": self.table})


PALETTE = [INK, ACCENT, "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666"]
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 0], [6, 3], [2, 2], [8, 3, 2, 3]]


def line_figure(df: pd.DataFrame, *, title: str, unit: str, series: str = "series",
                index: bool = False) -> Figure:
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
    """
    data = df[["year", series, "value"]].dropna().sort_values([series, "year"])
    names = list(dict.fromkeys(data[series]))
    n = len(names)
    colour = alt.Color(f"{series}:N", title=None, sort=names,
                       scale=alt.Scale(domain=names, range=PALETTE[:n]),
                       legend=alt.Legend(orient="bottom", labelLimit=300))
    dash = alt.StrokeDash(f"{series}:N", sort=names, legend=None,
                          scale=alt.Scale(domain=names, range=DASHES[:n]))
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2).encode(
        x=alt.X("year:Q", title=None, axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False), axis=_y_axis(data)),
        color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip("year:Q"),
                 alt.Tooltip("value:Q", format=",.4~g")],
    ).properties(width=WIDTH, height=HEIGHT, title=title)
    parts = []
    for name in names:
        s = data[data[series] == name]
        parts.append(f"{name}: {_num(s['value'].iloc[0])} in {int(s['year'].iloc[0])} to "
                     f"{_num(s['value'].iloc[-1])} in {int(s['year'].iloc[-1])}")
    desc = (f"Line chart of {title.lower()}"
            + (" (indexed, first common year = 100)" if index else "") + ". "
            + "; ".join(parts) + ".")
    chart = chart.properties(description=desc)
    table = data.pivot(index="year", columns=series, values="value").reset_index()
    table.columns.name = None
    return Figure(chart, table, title, desc)


def _y_axis(data: pd.DataFrame) -> alt.Axis:
    """Whole-number ticks for whole-number values (members, places): no "25.5 members"."""
    values = data["value"].astype(float)
    if len(values) and bool((values == values.round()).all()):
        return alt.Axis(format=",d", tickMinStep=1)
    return alt.Axis()


def bar_figure(df: pd.DataFrame, *, category: str, value: str, title: str, unit: str,
               highlight: str | None = None) -> Figure:
    """Horizontal bars of ``value`` by ``category`` (largest first).

    ``highlight``: a category drawn in the accent colour.
    """
    data = df[[category, value]].dropna().sort_values(value, ascending=False)
    colour = (alt.condition(alt.datum[category] == highlight, alt.value(ACCENT), alt.value(INK))
              if highlight else alt.value(INK))
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X(f"{value}:Q", title=unit),
        color=colour,
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=",.4~g")],
    ).properties(width=WIDTH - 200, height=max(60, 18 * len(data)), title=title)
    top = data.head(3)
    desc = (f"Bar chart of {title.lower()}, {len(data)} bars; largest: "
            + "; ".join(f"{c} {_num(v)}" for c, v in zip(top[category], top[value], strict=True))
            + ".")
    return Figure(chart.properties(description=desc), data.reset_index(drop=True), title, desc)


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
