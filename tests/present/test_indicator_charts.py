"""The indicator pages' SVG charts and the choropleth's classes: well-formed SVG, the
numbers in the table and the words, classes of equal counts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from keycities.present.indicator_charts import (
    class_of,
    histogram,
    nice_ticks,
    quantile_breaks,
    ranked_bars,
    series_chart,
)
from keycities.web.choropleth import Choropleth, choropleth_svg, colour
from keycities.web.maps import Shapes

SVG = "{http://www.w3.org/2000/svg}"


def test_quantile_breaks_give_classes_of_equal_counts() -> None:
    values = np.arange(1, 101, dtype=float)
    breaks = quantile_breaks(values, 5)
    assert len(breaks) == 5 and breaks[-1] == 100
    counts = np.bincount([class_of(v, breaks) for v in values])
    assert counts.tolist() == [20, 20, 20, 20, 20]


def test_quantile_breaks_drop_ties_and_ignore_missing() -> None:
    breaks = quantile_breaks([1.0, 1.0, 1.0, 1.0, 2.0, np.nan], 5)
    assert breaks == sorted(set(breaks)) and breaks[-1] == 2.0
    assert class_of(float("nan"), breaks) is None
    assert quantile_breaks([np.nan]) == []


def test_nice_ticks_are_round_and_span_the_range() -> None:
    ticks = nice_ticks(3.2, 97.0)
    assert ticks[0] <= 3.2 and ticks[-1] >= 90
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]) and steps[0] in (10, 20, 25)


RANKING = pd.DataFrame({"rank": [1, 2, 3, 4], "name": ["A", "B", "C", "D"],
                        "value": [9.0, 7.5, 5.0, 2.0], "member": [False, True, False, True]})


def test_ranked_bars_draw_a_bar_per_place_members_in_accent_and_england_line() -> None:
    fig = ranked_bars(RANKING, title="Thing, 2024", unit="%", england=6.0, decimals=1)
    root = ET.fromstring(fig.svg)
    bars = root.findall(f".//{SVG}rect[{SVG}title]")
    assert len(bars) == 4
    assert [b.get("fill") for b in bars].count("#d95f02") == 2
    assert "England 6.0" in fig.svg
    assert "B 2, D 4" in fig.description and "England 6.0 %" in fig.description
    assert fig.table["Rank"].tolist() == [1, 2, 3, 4]


def test_series_chart_draws_bands_only_where_intervals_are_published() -> None:
    long = pd.DataFrame({
        "label": ["2022", "2023", "2024"] * 2,
        "start": pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01"] * 2),
        "series": ["England"] * 3 + ["Hull"] * 3, "value": [5.0, 5.5, 6.0, 4.0, 4.2, 4.1],
        "lower": [np.nan] * 3 + [3.5, 3.7, 3.6], "upper": [np.nan] * 3 + [4.5, 4.7, 4.6]})
    fig = series_chart(long, title="Thing", unit="years", decimals=1)
    root = ET.fromstring(fig.svg)
    assert len(root.findall(f".//{SVG}polygon")) == 1  # Hull's band, not England's
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert "Hull: 4.0 in 2022 to 4.1 in 2024" in fig.description
    assert "confidence intervals" in fig.description
    assert fig.table.columns.tolist() == ["Period", "England", "Hull"]


def test_histogram_counts_every_value_and_marks_members() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(50, 10, 300)
    fig = histogram(values, title="Thing", unit="%", england=52.0,
                    marks={"Hull": 41.0, "Leeds": 60.0})
    assert fig.table["Districts"].sum() == 300
    root = ET.fromstring(fig.svg)
    ticks = [ln for ln in root.findall(f".//{SVG}line") if ln.find(f"{SVG}title") is not None]
    assert len(ticks) == 2
    assert "300 districts" in fig.description


def _square(x: int, y: int) -> str:
    return f"M{x} {y}l10 0 0 10 -10 0Z"


@pytest.fixture
def shapes() -> Shapes:
    codes = ["E1", "E2", "E3", "E4"]
    return Shapes(paths={c: _square(10 * i, 0) for i, c in enumerate(codes)},
                  names={c: f"Place {c}" for c in codes}, outline="",
                  bounds=(0, 0, 40, 10),
                  boxes={c: (10 * i, 0, 10 * i + 10, 10) for i, c in enumerate(codes)},
                  vintage=2023, release_id="r")


def test_choropleth_shades_by_class_outlines_members_and_says_no_value(shapes: Shapes) -> None:
    values = {"E1": 1.0, "E2": 2.0, "E3": 3.0}
    c = Choropleth(values=values, breaks=quantile_breaks(list(values.values()), 3), unit="%",
                   title="T", description="D", members=frozenset({"E2"}), focus="E3")
    svg = choropleth_svg(shapes, c, links={"E1": "/place/E1"})
    fills = {code: colour(c, code) for code in shapes.paths}
    assert len({fills["E1"], fills["E2"], fills["E3"]}) == 3
    assert fills["E4"] == "#f0f0f0"  # no value
    assert svg.count('class="member"') == 2  # the map and the inset
    assert "no value" in svg and "Legend (%)" in svg
    assert 'href="/place/E1"' in svg and "inset" in svg
    for part in svg.split("</svg>")[:-1]:
        ET.fromstring(part + "</svg>")
