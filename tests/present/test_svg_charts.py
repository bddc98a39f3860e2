"""The web pages' line and bar charts drawn as plain SVG (issue 18, point 3): a laptop's
drawing and a phone's, units and legends, dashes as well as colours, nothing outside the
frame; the Vega-Lite form made only when asked for."""

from __future__ import annotations

import pickle
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from keycities.present.charts import ACCENT, PHONE_FONT, PHONE_WIDTH, spec
from keycities.present.figures import bar_figure, line_figure
from keycities.present.svg_charts import WIDE, tick_text, ticks

SVG = "{http://www.w3.org/2000/svg}"


def drawings(svg: str) -> dict[str, ET.Element]:
    """The drawings of a chart by class (``wide``, ``narrow``)."""
    root = ET.fromstring(f"<div>{svg}</div>")
    return {el.get("class", "").split()[-1]: el for el in root}


def texts(el: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in el.iter(f"{SVG}text")]


def points(el: ET.Element) -> list[tuple[float, float]]:
    """Every drawn coordinate: line ends, polyline points, circles, bar corners, text."""
    out = []
    for e in el.iter():
        tag = e.tag.removeprefix(SVG)
        if tag == "polyline":
            out += [tuple(map(float, p.split(","))) for p in e.get("points", "").split()]
        elif tag == "circle":
            out.append((float(e.get("cx", 0)), float(e.get("cy", 0))))
        elif tag == "rect":
            x, y = float(e.get("x", 0)), float(e.get("y", 0))
            out += [(x, y), (x + float(e.get("width", 0)), y + float(e.get("height", 0)))]
        elif tag in ("line", "text"):
            for a, b in (("x1", "y1"), ("x2", "y2"), ("x", "y")):
                if e.get(a) is not None:
                    out.append((float(e.get(a, 0)), float(e.get(b, 0))))
    return out  # type: ignore[return-value]


def inside(el: ET.Element) -> bool:
    w, h = float(el.get("width", 0)), float(el.get("height", 0))
    assert el.get("viewBox") == f"0 0 {el.get('width')} {el.get('height')}"  # scales
    return all(0 <= x <= w and 0 <= y <= h for x, y in points(el))


@pytest.fixture
def series() -> pd.DataFrame:
    years = list(range(1998, 2024))
    return pd.DataFrame({"year": years * 2,
                         "series": ["Kingston upon Hull, City of"] * 26 + ["England"] * 26,
                         "value": [20000 + 400 * i for i in range(26)]
                         + [22000 + 560 * i for i in range(26)]})


def test_a_line_chart_is_drawn_for_a_laptop_and_a_phone(series: pd.DataFrame) -> None:
    fig = line_figure(series, title="GVA per filled job", unit="£ per filled job")
    got = drawings(fig.svg)
    assert set(got) == {"wide", "narrow"}
    assert got["wide"].get("width") == str(WIDE)
    assert int(got["narrow"].get("width", 0)) <= PHONE_WIDTH
    assert int(got["narrow"].get("font-size", 0)) >= PHONE_FONT
    for el in got.values():
        assert inside(el)
        words = texts(el)
        assert "£ per filled job" in words  # the unit is the value axis's title
        assert {"England", "Kingston upon Hull, City of"} <= set(words)  # the legend
        assert "1998" in words or "2000" in words  # integer years, no "1,998"
        lines = el.findall(f"{SVG}polyline")
        assert len(lines) == 2
        # told apart by dash as well as colour
        assert len({(p.get("stroke"), p.get("stroke-dasharray")) for p in lines}) == 2
        assert len({p.get("stroke-dasharray") for p in lines}) == 2
        assert len(el.findall(f"{SVG}circle")) == 52  # a point, with its value, per year
    assert "England: 22,000 in 1998 to 36,000 in 2023" in fig.description
    assert list(fig.table.columns) == ["year", "England", "Kingston upon Hull, City of"]
    assert fig.table["year"].tolist() == list(range(1998, 2024))


def test_a_line_chart_of_counts_has_whole_number_ticks() -> None:
    counts = pd.DataFrame({"year": [2020, 2021, 2022], "series": "members",
                           "value": [25.0, 26.0, 27.0]})
    fig = line_figure(counts, title="Members", unit="members")
    for el in drawings(fig.svg).values():
        numbers = [t for t in texts(el) if re.fullmatch(r"[\d,.−]+", t)]
        assert numbers and all("." not in t for t in numbers), numbers
    assert ticks(25, 27, 5, whole=True) == [25.0, 26.0, 27.0]
    assert tick_text([0.0, 0.05, 0.1]) == ["0.00", "0.05", "0.10"]
    assert tick_text([-2.0, 0.0, 2000.0]) == ["−2", "0", "2,000"]


def test_a_bar_chart_is_largest_first_with_its_highlight_and_fits_a_phone() -> None:
    df = pd.DataFrame({"name": ["Bradford", "A place with a very long name indeed, really",
                                "Plymouth", "Salford"],
                       "uplift": [3.1, 2.0, 1.5, -0.4]})
    fig = bar_figure(df, category="name", value="uplift", title="Annual uplift",
                     unit="£ billion a year", highlight="Plymouth")
    got = drawings(fig.svg)
    assert set(got) == {"wide", "narrow"}
    for el in got.values():
        assert inside(el)
        assert "£ billion a year" in texts(el)
        bars = el.findall(f"{SVG}rect")
        names = [b.findtext(f"{SVG}title", "").split(":")[0] for b in bars]
        assert names == list(fig.table["name"]) == ["Bradford", names[1], "Plymouth", "Salford"]
        assert [b.get("fill") for b in bars].count(ACCENT) == 1
        assert bars[2].get("fill") == ACCENT
    phone = texts(got["narrow"])
    assert any(t.endswith("…") for t in phone)  # a long name is cut on a phone...
    assert any(b.findtext(f"{SVG}title", "").startswith("A place with a very long name")
               for b in got["narrow"].iter(f"{SVG}rect"))  # ...and named in full on hover
    assert "Bradford 3.1" in fig.description


def test_the_vega_lite_form_is_made_only_when_asked_for(series: pd.DataFrame) -> None:
    fig = line_figure(series, title="GVA", unit="£")
    assert "chart" not in fig.__dict__  # drawing the page made no Altair chart
    again = pickle.loads(pickle.dumps(fig))  # a figure crosses process boundaries
    assert again.svg == fig.svg
    vl = fig.payload()["spec"]
    assert vl == spec(fig) and vl["encoding"]["y"]["title"] == "£"
    assert fig.chart.to_dict(validate=True) == vl


def test_the_roll_out_forest_plot_is_drawn_best_first_with_kinds_by_shape_and_colour() -> None:
    from keycities.present.charts import INK, interval_chart
    from keycities.present.figures import SpecFigure, interval_drawing

    rows = pd.DataFrame({"place": ["Plymouth", "Norwich", "Sunderland", "Bradford"],
                         "estimate": [0.01, 0.03, -0.02, 0.02],
                         "low": [-0.01, 0.0, -0.05, -0.01], "high": [0.03, 0.06, 0.01, 0.05],
                         "kind": ["pilot", "pilot", "predicted", "predicted"]})
    fig = interval_chart(rows, title="Roll-out")
    svg = interval_drawing(fig)
    got = drawings(svg)
    assert set(got) == {"wide", "narrow"}
    for el in got.values():
        assert inside(el)
        words = texts(el)
        assert "Effect (%)" in words and {"pilot", "predicted"} <= set(words)
        marks = [e for e in el.iter() if e.tag in (f"{SVG}circle", f"{SVG}path")
                 and e.findtext(f"{SVG}title")]
        order = [m.findtext(f"{SVG}title", "").split(" (")[0] for m in marks]
        assert order == ["Norwich", "Bradford", "Plymouth", "Sunderland"]  # best first
        assert "+3.0 (+0.0 to +6.0) (Effect (%))" in marks[0].findtext(f"{SVG}title", "")
        shapes = {m.findtext(f"{SVG}title", "").split("(")[1].split(")")[0]:
                  (m.tag, m.get("fill")) for m in marks}
        assert shapes["pilot"] == (f"{SVG}circle", ACCENT)
        assert shapes["predicted"] == (f"{SVG}path", INK)
    plain = SpecFigure.of(fig, svg=svg)
    assert plain.svg == svg and set(plain.payload()) == {"title", "description", "spec",
                                                         "table"}


def test_the_scatter_of_two_indicators_is_plain_svg_with_members_on_top() -> None:
    # Issue 18 point 3: the scatter page's chart was drawn by Vega (two drawings of ~300
    # points); it is plain SVG now, its Vega-Lite form made only when asked for.
    from keycities.present.figures import scatter_figure

    points = pd.DataFrame({"name": ["Alpha", "Beta & Co", "Gamma", "Delta"],
                           "x": [1.0, 2.5, 4.0, float("nan")], "y": [10.0, 30.0, 20.0, 5.0],
                           "member": [True, False, False, True]})
    fig = scatter_figure(points, x_title="Pay (£ a week)", y_title="Claimants (%)",
                         title="Pay and claimants", description="Scatter plot.")
    assert "chart" not in fig.__dict__  # the Altair chart is not built for the page
    wide, narrow = fig.svg.split("</svg>")[:2]
    for drawing in (wide, narrow):
        dots = re.findall(r'<circle cx="[^"]+" cy="[^"]+" r="3" fill="([^"]+)"', drawing)
        assert len(dots) == 3  # the point without an x is not drawn
        assert dots[-1] == ACCENT and dots.count(ACCENT) == 1  # the member, on top
        assert "Pay (£ a week)" in drawing and "Claimants (%)" in drawing
        assert "Beta &amp; Co: Pay (£ a week) 2.5; Claimants (%) 30" in drawing
        assert "other district" in drawing and ">member<" in drawing
    assert 'class="plain wide"' in wide and 'class="plain narrow"' in narrow
    assert fig.table.columns.tolist() == ["Place", "Pay (£ a week)", "Claimants (%)", "Member"]
    assert fig.spec()["mark"]["type"] == "circle"


def test_a_description_keeps_place_names_and_acronyms_in_capitals() -> None:
    # Seen on the place page: "Line chart of gva, plymouth and england (1998 = 100)".
    df = pd.DataFrame({"year": [1998, 2021, 1998, 2021], "value": [100.0, 230.0, 100.0, 212.0],
                       "series": ["England", "England", "Plymouth", "Plymouth"]})
    fig = line_figure(df, title="GVA, Plymouth and England (1998 = 100)", unit="index")
    assert fig.description.startswith("Line chart of GVA, Plymouth and England (1998 = 100)")
    pop = line_figure(df, title="Population, Plymouth and England", unit="people")
    assert pop.description.startswith("Line chart of population, Plymouth and England")
    bars = bar_figure(pd.DataFrame({"c": ["Hull", "York"], "v": [2.0, 1.0]}), category="c",
                      value="v", title="Share of members, Hull", unit="%")
    assert bars.description.startswith("Bar chart of share of members, Hull, 2 bars")
