"""Charts for testbed evaluations: synthetic control paths, gaps, placebos, event studies.

Every builder is a pure function from a plain DataFrame to a :class:`Figure`:
an Altair (Vega-Lite 6) chart with a title and a Vega-Lite ``description``
that says in words what the chart shows (screen readers announce it), plus
the plotted data as a tidy table with readable column names, so a page can
offer the same numbers as a table.  :func:`spec` gives the Vega-Lite JSON the
web app renders; :func:`save` writes PNG, SVG, JSON or self-contained HTML
(rendered by ``vl-convert``, which bundles Vega: no internet needed), atomically.

Conventions: years are integers on the axis (no "2,015"), axis titles carry
units, series differ by dash and width as well as colour.  :func:`phone_spec`
redraws any spec for a phone: :data:`PHONE_WIDTH` wide in all, text at least
:data:`PHONE_FONT` px, so that it is shown at its own size, not scaled down.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError

# Altair checks every part of a chart against the Vega-Lite schema as it is made
# ("debug mode"), which took longer than building and drawing keycities' charts; the
# tests check every chart the pages serve against the schema instead
# (tests/web/test_pages.py), and ``to_dict()`` still validates unless told not to.
alt.utils.schemapi.disable_debug_mode()

WIDTH = 600
HEIGHT = 300
INK = "#1f4e79"
"""Treated / observed series."""
ACCENT = "#d95f02"
"""Synthetic series and highlights (distinct from INK for colour-blind readers)."""
GREY = "#9e9e9e"
DARK_GREY = "#616161"
FORMATS = (".png", ".svg", ".json", ".html")
PHONE_WIDTH = 340
"""Width of a chart drawn for a phone, axes and legend included, in CSS px (a 390 px
screen less the page's margins, with room to spare for 360 px screens)."""
PHONE_FONT = 12
"""Smallest text of a chart drawn for a phone, in px."""
PHONE_LABEL_LIMIT = 120
"""Longest axis label of a chart drawn for a phone, in px (longer ones end in "…")."""


class VegaSpec:
    """``spec()`` and ``payload()`` of a figure with ``title``, ``description``, ``table``
    and an Altair chart (:meth:`altair`); the spec is made once, on first use."""

    title: str
    description: str
    table: pd.DataFrame

    def altair(self) -> alt.TopLevelMixin:
        """The Altair chart."""
        raise NotImplementedError  # pragma: no cover

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite JSON specification (made once: a page draws it and serves it)."""
        return self._spec

    @cached_property
    def _spec(self) -> dict[str, Any]:
        return spec(self.altair())

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: title, description, Vega-Lite spec and the table."""
        return jsonable({"title": self.title, "description": self.description,
                         "spec": self.spec(), "table": self.table})


@dataclass(frozen=True)
class Figure(VegaSpec):
    """A chart, the table it plots, its title and its description in words."""

    chart: alt.TopLevelMixin
    table: pd.DataFrame
    title: str
    description: str

    def altair(self) -> alt.TopLevelMixin:
        """The Altair chart."""
        return self.chart


# -------------------------------------------------------------------------------- helpers

def _need(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise KeycitiesError(f"{name} must be a DataFrame with columns {', '.join(columns)}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeycitiesError(f"{name} needs columns {', '.join(columns)}; missing "
                             f"{', '.join(missing)} (has {', '.join(map(str, frame.columns))}).")
    if frame.empty:
        raise KeycitiesError(f"{name} is empty: nothing to plot.")
    return frame.loc[:, list(columns)].copy()


def _num(x: float) -> str:
    """A number for a sentence: thousands separated, otherwise three significant figures."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _years(frame: pd.DataFrame, column: str = "year") -> pd.DataFrame:
    frame[column] = pd.to_numeric(frame[column]).astype(int)
    return frame.sort_values(column, kind="stable").reset_index(drop=True)


def _data(frame: pd.DataFrame) -> alt.Data:
    """Inline values (JSON-ready: NaN becomes null), not subject to Altair's row limit."""
    return alt.Data(values=jsonable(frame))


def _year_x(years: pd.Series) -> alt.X:
    # nice=False: the axis spans the data's years, not rounded outwards to 2004.
    return alt.X("year:Q", title="Year", scale=alt.Scale(zero=False, nice=False,
                                                          domain=[int(years.min()),
                                                                  int(years.max())]),
                 axis=alt.Axis(format="d", tickMinStep=1))


def _in(unit: str) -> str:
    return f", in {unit}" if unit else ""


def _axis_title(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _start_rule(start: int, label: str = "start") -> alt.TopLevelMixin:
    base = alt.Chart(_data(pd.DataFrame({"year": [start], "label": [f"{label} {start}"]})))
    rule = base.mark_rule(color="black", strokeDash=[2, 2]).encode(x="year:Q")
    text = base.mark_text(align="left", dx=4, dy=-4, baseline="top", fontSize=11).encode(
        x="year:Q", y=alt.value(0), text="label:N")
    return alt.layer(rule, text)


def _finish(layers: Sequence[Any], table: pd.DataFrame, title: str,
            description: str, subtitle: str | None = None, height: int = HEIGHT) -> Figure:
    head = alt.TitleParams(text=title, subtitle=subtitle or [], anchor="start")
    chart = alt.layer(*layers).properties(title=head, description=description,
                                          width=WIDTH, height=height)
    return Figure(chart=chart, table=table.reset_index(drop=True), title=title,
                  description=description)


def _mean(series: pd.Series, mask: pd.Series) -> float:
    vals = series[mask].dropna()
    return float(vals.mean()) if len(vals) else float("nan")


# -------------------------------------------------------------------------------- builders

def observed_vs_synthetic(effects: pd.DataFrame, start: int, *,
                          title: str = "Observed and synthetic control",
                          unit: str = "") -> Figure:
    """Two lines, the treated place and its synthetic control, with a rule at the start.

    Parameters
    ----------
    effects
        Columns year, observed, synthetic.
    start
        First treated year.
    title, unit
        Chart title; unit of the outcome for the axis title (e.g. "£ per job").

    Returns
    -------
    Figure
        Table columns: year, series ("Observed"/"Synthetic"), value.
    """
    frame = _years(_need(effects, ["year", "observed", "synthetic"], "effects"))
    table = frame.melt(id_vars="year", var_name="series", value_name="value")
    table["series"] = table["series"].map({"observed": "Observed", "synthetic": "Synthetic"})
    pre, post = frame["year"] < start, frame["year"] >= start
    gap = frame["observed"] - frame["synthetic"]
    description = (
        f"Line chart: observed and synthetic-control values by year, "
        f"{frame['year'].min()}-{frame['year'].max()}, the policy starting in {start}. "
        f"Before the start the observed series averages {_num(_mean(frame['observed'], pre))} "
        f"and the synthetic {_num(_mean(frame['synthetic'], pre))}; from the start "
        f"{_num(_mean(frame['observed'], post))} and {_num(_mean(frame['synthetic'], post))} "
        f"(mean gap {_num(_mean(gap, post))}){_in(unit)}.")
    lines = alt.Chart(_data(table)).mark_line(point=True).encode(
        x=_year_x(frame["year"]),
        y=alt.Y("value:Q", title=_axis_title("Value", unit), scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["Observed", "Synthetic"],
                                        range=[INK, ACCENT])),
        strokeDash=alt.StrokeDash("series:N", legend=None,
                                  scale=alt.Scale(domain=["Observed", "Synthetic"],
                                                  range=[[1, 0], [6, 3]])),
        tooltip=["year:Q", "series:N", alt.Tooltip("value:Q", format=",.4~g")])
    return _finish([lines, _start_rule(start)], table, title, description)


def gap_chart(effects: pd.DataFrame, start: int, placebo_gaps: pd.DataFrame | None = None, *,
              title: str = "Gap: observed minus synthetic", unit: str = "") -> Figure:
    """The treated place's gap (bold) over thin grey placebo gaps, zero line, start rule.

    Parameters
    ----------
    effects
        Columns year, gap (observed - synthetic) of the treated place.
    start
        First treated year.
    placebo_gaps
        Optional columns place, year, gap: each donor's gap when it is treated
        in place of the real one (in-space placebos).
    title, unit
        Chart title; unit of the gap for the axis title.

    Returns
    -------
    Figure
        Table columns: place ("treated" for the treated place), year, gap, treated (bool).
    """
    own = _years(_need(effects, ["year", "gap"], "effects"))
    own.insert(0, "place", "treated")
    own["treated"] = True
    parts = [own]
    n_placebo = 0
    if placebo_gaps is not None:
        plac = _years(_need(placebo_gaps, ["place", "year", "gap"], "placebo_gaps"))
        plac["place"] = plac["place"].astype(str)
        plac["treated"] = False
        n_placebo = int(plac["place"].nunique())
        parts.insert(0, plac)
    table = pd.concat(parts, ignore_index=True)
    pre, post = own["year"] < start, own["year"] >= start
    description = (
        f"Line chart of the treated place's gap (observed minus synthetic control) by year, "
        f"{own['year'].min()}-{own['year'].max()}, with a zero line and the start in {start}. "
        f"Mean gap before the start {_num(_mean(own['gap'], pre))}, from the start "
        f"{_num(_mean(own['gap'], post))}{_in(unit)}."
        + (f" {n_placebo} placebo places are drawn as thin grey lines behind it."
           if n_placebo else ""))
    y = alt.Y("gap:Q", title=_axis_title("Gap", unit))
    layers: list[Any] = []
    if n_placebo:
        layers.append(alt.Chart(_data(table[~table["treated"]])).mark_line(
            color=GREY, strokeWidth=0.8, opacity=0.5).encode(
            x=_year_x(table["year"]), y=y, detail="place:N",
            tooltip=["place:N", "year:Q", "gap:Q"]))
    zero = alt.Chart(_data(pd.DataFrame({"gap": [0.0]}))).mark_rule(color="black").encode(
        y="gap:Q")
    layers += [zero, alt.Chart(_data(table[table["treated"]])).mark_line(
        color=INK, strokeWidth=3).encode(x=_year_x(table["year"]), y=y,
                                         tooltip=["year:Q", alt.Tooltip("gap:Q", format=
                                                                        ",.4~g")]),
               _start_rule(start)]
    return _finish(layers, table, title, description)


def placebo_distribution(ratios: pd.DataFrame, *, p_value: float | None = None,
                         title: str = "Placebo test: post/pre RMSPE ratios") -> Figure:
    """A strip of every place's post/pre RMSPE ratio, the treated place highlighted.

    The permutation p-value (Abadie, Diamond & Hainmueller 2010, JASA 105(490))
    is the share of places whose ratio is at least the treated place's,
    ``p = #{j: r_j >= r_treated} / n`` (the treated place counted), unless
    ``p_value`` is given.  It is shown in the subtitle.

    Parameters
    ----------
    ratios
        Columns place, ratio, treated (bool, exactly one True).

    Returns
    -------
    Figure
        Table columns: place, ratio, treated, rank (1 = largest ratio).
    """
    frame = _need(ratios, ["place", "ratio", "treated"], "ratios")
    frame["treated"] = frame["treated"].astype(bool)
    frame["place"] = frame["place"].astype(str)
    if int(frame["treated"].sum()) != 1:
        raise KeycitiesError("ratios must mark exactly one place as treated (treated=True); "
                             f"{int(frame['treated'].sum())} are.")
    frame = frame.sort_values("ratio", ascending=False, kind="stable").reset_index(drop=True)
    frame["rank"] = frame["ratio"].rank(ascending=False, method="max").astype(int)
    mine = frame[frame["treated"]].iloc[0]
    n = len(frame)
    if p_value is None:
        p_value = float((frame["ratio"] >= mine["ratio"]).sum()) / n
    subtitle = (f"{mine['place']}: ratio {_num(mine['ratio'])}, rank {mine['rank']} of {n} "
                "(1 = largest)")
    description = (f"Strip plot of the post/pre-period RMSPE ratio for {n} places. The treated "
                   f"place {mine['place']} has ratio {_num(mine['ratio'])}, rank "
                   f"{mine['rank']} of {n} (1 = largest), permutation p-value {p_value:.3f}.")
    base = alt.Chart(_data(frame)).encode(
        x=alt.X("ratio:Q", title="Post/pre RMSPE ratio (unitless)", scale=alt.Scale(zero=True)),
        tooltip=["place:N", alt.Tooltip("ratio:Q", format=".3~g"), "rank:Q"])
    dots = base.transform_filter("!datum.treated").mark_tick(
        color=GREY, thickness=1.5, size=30)
    mark = base.transform_filter("datum.treated").mark_tick(color=ACCENT, thickness=4, size=44)
    label = base.transform_filter("datum.treated").mark_text(
        dy=-28, color=ACCENT, fontWeight="bold").encode(text="place:N")
    return _finish([dots, mark, label], frame, f"{title} (p = {p_value:.3f})", description,
                   subtitle, height=HEIGHT // 2)


def event_study_chart(coefs: pd.DataFrame, *, title: str = "Event study",
                      unit: str = "log points", level: float = 0.95) -> Figure:
    """Estimates by event time with interval bars, a zero line and a rule at -0.5.

    Parameters
    ----------
    coefs
        Columns event_time, estimate, ci_low, ci_high (NaN intervals, e.g. the
        reference period, draw no bar).
    title, unit, level
        Chart title; unit of the estimates; the intervals' confidence level (for
        the words only).

    Returns
    -------
    Figure
        Table columns: event_time, estimate, ci_low, ci_high, period ("before"/"after").
    """
    frame = _need(coefs, ["event_time", "estimate", "ci_low", "ci_high"], "coefs")
    frame = _years(frame, "event_time")
    frame["period"] = np.where(frame["event_time"] < 0, "before", "after")
    before = frame["period"] == "before"
    pct = f"{level:.0%}"
    description = (
        f"Event-study chart: estimated effect ({unit}) for each year relative to the start, "
        f"{frame['event_time'].min()} to {frame['event_time'].max()}, with {pct} intervals; "
        f"the start is between -1 and 0. Mean estimate before the start "
        f"{_num(_mean(frame['estimate'], before))}, from the start "
        f"{_num(_mean(frame['estimate'], ~before))}.")
    lo, hi = int(frame["event_time"].min()), int(frame["event_time"].max())
    x = alt.X("event_time:Q", title="Years since start (event time)",
              scale=alt.Scale(nice=False, domain=[lo - 0.5, hi + 0.5]),
              axis=alt.Axis(format="d", tickMinStep=1))
    y_title = _axis_title("Effect", unit)
    base = alt.Chart(_data(frame))
    zero = alt.Chart(_data(pd.DataFrame({"y": [0.0]}))).mark_rule(color="black").encode(y="y:Q")
    split = alt.Chart(_data(pd.DataFrame({"x": [-0.5]}))).mark_rule(
        color="black", strokeDash=[2, 2]).encode(x="x:Q")
    bars = base.mark_rule(color=INK, strokeWidth=1.5).encode(
        x=x, y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x=x, y=alt.Y("estimate:Q", title=y_title),
        color=alt.Color("period:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["before", "after"], range=[DARK_GREY, INK])),
        shape=alt.Shape("period:N", legend=None,
                        scale=alt.Scale(domain=["before", "after"], range=["circle", "square"])),
        tooltip=["event_time:Q", alt.Tooltip("estimate:Q", format=".4~g"),
                 alt.Tooltip("ci_low:Q", format=".4~g"), alt.Tooltip("ci_high:Q", format=".4~g")])
    return _finish([zero, split, bars, points], frame, title, description)


# --------------------------------------------------------------------------------- outputs

def frontier_chart(frontier: pd.DataFrame, *, title: str = "Power against representativeness"
                   ) -> Figure:
    """The testbed sets of the frontier: pooled MDE against imbalance, the chosen one marked.

    Parameters
    ----------
    frontier
        Columns label (what the set is best for), mde (share), imbalance (roll-out SD),
        testbeds (names), chosen (bool).
    """
    frame = _need(frontier, ["label", "mde", "imbalance", "testbeds", "chosen"], "frontier")
    frame = frame.dropna(subset=["mde", "imbalance"]).reset_index(drop=True)
    frame["mde_pct"] = 100 * frame["mde"].astype(float)
    description = ("Each point is a set of testbeds: its pooled minimum detectable effect "
                   "(lower = more power) against how far its feature means lie from the "
                   "roll-out's (lower = more representative). " + "; ".join(
                       f"{r['label']!s}: MDE {r['mde_pct']:.1f}%, imbalance "
                       f"{r['imbalance']:.2f} SD" for r in frame.to_dict(orient="records")))
    base = alt.Chart(_data(frame)).encode(
        x=alt.X("imbalance:Q", title="Imbalance against the roll-out (standard deviations)",
                scale=alt.Scale(zero=True)),
        y=alt.Y("mde_pct:Q", title="Pooled minimum detectable effect (%)",
                scale=alt.Scale(zero=True)),
        tooltip=["label:N", "testbeds:N", alt.Tooltip("mde_pct:Q", format=".1f"),
                 alt.Tooltip("imbalance:Q", format=".2f")])
    line = base.mark_line(color=GREY, strokeDash=[4, 3])
    dots = base.mark_point(filled=True, size=80).encode(
        color=alt.condition("datum.chosen", alt.value(ACCENT), alt.value(INK)))
    text = base.mark_text(dx=8, align="left").encode(text="label:N")
    table = frame[["label", "mde", "imbalance", "testbeds", "chosen"]]
    return _finish([line, dots, text], table, title, description)


def interval_chart(rows: pd.DataFrame, *, title: str, unit: str = "%") -> Figure:
    """Point estimates with intervals, one row per place (a forest plot).

    Parameters
    ----------
    rows
        Columns place, estimate, low, high (shares), kind (e.g. 'pilot' or 'predicted').
    """
    frame = _need(rows, ["place", "estimate", "low", "high", "kind"], "rows").copy()
    for col in ("estimate", "low", "high"):
        frame[col] = 100 * frame[col].astype(float)
    description = (f"{len(frame)} places, each with its estimate and interval in {unit}: "
                   + "; ".join(f"{r['place']!s} {r['estimate']:+.1f} ({r['low']:+.1f} to "
                               f"{r['high']:+.1f})"
                               for r in frame.head(30).to_dict(orient="records")))
    order = list(frame.sort_values("estimate", ascending=False)["place"])
    y = alt.Y("place:N", sort=order, title=None)
    base = alt.Chart(_data(frame)).encode(y=y, tooltip=[
        "place:N", "kind:N", alt.Tooltip("estimate:Q", format="+.1f"),
        alt.Tooltip("low:Q", format="+.1f"), alt.Tooltip("high:Q", format="+.1f")])
    bars = base.mark_rule(color=GREY).encode(x=alt.X("low:Q", title=f"Effect ({unit})"),
                                             x2="high:Q")
    dots = base.mark_point(filled=True).encode(
        x="estimate:Q", color=alt.Color("kind:N", title=None,
                                        scale=alt.Scale(range=[ACCENT, INK])))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=DARK_GREY).encode(x="x:Q")
    return _finish([bars, dots, zero], frame, title, description,
                   height=max(HEIGHT // 2, 14 * len(frame)))


def _phone_text(node: Any) -> None:
    """Raise every font size below :data:`PHONE_FONT` and cap axis label widths, in place."""
    if isinstance(node, list):
        for item in node:
            _phone_text(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("data", "datasets", "values"):  # the plotted rows: nothing to restyle
            continue
        if key.endswith(("fontSize", "FontSize")) and isinstance(value, int | float):
            node[key] = max(value, PHONE_FONT)
        elif key == "axis" and isinstance(value, dict) and value.get("labelLimit", 0) > \
                PHONE_LABEL_LIMIT:
            value["labelLimit"] = PHONE_LABEL_LIMIT
        _phone_text(value)


def _wrap(title: Any, chars: int) -> Any:
    """A title's text broken into lines of at most ``chars`` characters."""
    if isinstance(title, str):
        return textwrap.wrap(title, chars) or title
    if isinstance(title, dict):
        out = dict(title)
        for key, n in (("text", chars), ("subtitle", chars + 8)):
            if isinstance(out.get(key), str):
                out[key] = _wrap(out[key], n)
        return out
    return title


def phone_spec(vl: Mapping[str, Any], *, width: int = PHONE_WIDTH) -> dict[str, Any]:
    """The same chart drawn for a phone: ``width`` px wide in all, larger text, fewer ticks.

    A single or layered view is fitted to ``width`` including its axes and legend
    (Vega-Lite ``autosize: fit-x``), so Vega picks fewer ticks for the narrower
    axis; text smaller than :data:`PHONE_FONT` is raised to it, long axis labels
    are cut at :data:`PHONE_LABEL_LIMIT` px and titles wrap.  Drawn at its own
    size, its text is as large on a 390 px screen as on a laptop.

    Parameters
    ----------
    vl
        A Vega-Lite specification (:func:`spec`).
    width
        The chart's whole width in CSS px.

    Returns
    -------
    dict
        A new specification; ``vl`` is not changed.
    """
    out = copy.deepcopy(dict(vl))
    if not any(k in out for k in ("hconcat", "vconcat", "concat", "facet", "repeat")):
        out["width"] = width
        out["autosize"] = {"type": "fit-x", "contains": "padding"}
    font = {"labelFontSize": PHONE_FONT, "titleFontSize": PHONE_FONT}
    config = out.setdefault("config", {})
    for part in ("axis", "legend", "header"):
        config[part] = {**config.get(part, {}), **font}
    config["legend"].setdefault("columns", 1)  # one entry a line: a row would overflow
    config["legend"].setdefault("orient", "bottom")  # beside the plot it takes its width
    config["title"] = {**config.get("title", {}), "fontSize": PHONE_FONT + 2,
                       "subtitleFontSize": PHONE_FONT}
    for mark in ("text", "mark"):
        config[mark] = {**config.get(mark, {}), "fontSize": PHONE_FONT}
    if "title" in out:
        out["title"] = _wrap(out["title"], width // 8)
    _phone_text(out)
    return out


def _chart(chart: Figure | alt.TopLevelMixin) -> alt.TopLevelMixin:
    # A Figure, or any figure holding its chart (present.figures.PlainFigure makes its own).
    return chart if isinstance(chart, alt.TopLevelMixin) else chart.chart


def spec(chart: Figure | alt.TopLevelMixin | dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite JSON specification (a plain dict) the web app can render.

    Not validated against the Vega-Lite schema here (that takes longer than drawing
    the chart); the tests validate every kind of chart keycities makes.  A dict is
    taken to be a specification already and returned as it is (so a figure saved in
    several formats is converted once).
    """
    if isinstance(chart, dict):
        return chart
    out: dict[str, Any] = _chart(chart).to_dict(validate=False)
    return out


def _render(vl_spec: dict[str, Any], fmt: str) -> bytes:
    """Render a Vega-Lite spec with vl-convert (bundled Vega: works offline)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    version = vl_version_for_vl_convert()
    if fmt == ".png":
        return bytes(vlc.vegalite_to_png(vl_spec, vl_version=version, scale=2))
    if fmt == ".svg":
        return str(vlc.vegalite_to_svg(vl_spec, vl_version=version)).encode("utf-8")
    if fmt == ".html":
        html = vlc.vegalite_to_html(vl_spec, vl_version=version, bundle=True)
        return str(html).encode("utf-8")
    return (json.dumps(vl_spec, indent=2) + "\n").encode("utf-8")


def save(chart: Figure | alt.TopLevelMixin | dict[str, Any],
         path: str | os.PathLike[str]) -> Path:
    """Write a chart to ``path``, the format from its suffix: .png, .svg, .json, .html.

    ``chart`` is a figure, an Altair chart or its Vega-Lite spec (:func:`spec`).
    PNG and SVG are rendered by vl-convert; .json is the Vega-Lite spec; .html
    is a self-contained page (Vega bundled in).  The file is written to a
    temporary file beside ``path`` and moved into place, so a failure leaves
    no file (and an existing one untouched).

    Raises
    ------
    KeycitiesError
        An unsupported suffix, or a directory that does not exist.
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in FORMATS:
        raise KeycitiesError(f"Cannot save a chart as {path.name!r}: use one of "
                             f"{', '.join(FORMATS)}.")
    if not path.parent.is_dir():
        raise KeycitiesError(f"Directory {path.parent} does not exist: create it first.")
    data = _render(spec(chart), fmt)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a chart is a file to share
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
