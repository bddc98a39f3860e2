"""Charts: marks, fields, titles and descriptions in the Vega-Lite spec; tables; saving
PNG/SVG/JSON/HTML offline and atomically."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from keycities.errors import KeycitiesError
from keycities.present import charts
from keycities.present.charts import (
    Figure,
    event_study_chart,
    gap_chart,
    observed_vs_synthetic,
    placebo_distribution,
    save,
    spec,
)

YEARS = list(range(2005, 2021))


def layers(node: dict[str, Any], data: Any = None) -> list[dict[str, Any]]:
    """Every unit (non-layer) view of a spec, depth first, with the data it inherits."""
    data = node.get("data", data)
    if "layer" in node:
        return [u for child in node["layer"] for u in layers(child, data)]
    return [{**node, "data": data}]


def marks(s: dict[str, Any]) -> list[str]:
    return [u["mark"]["type"] if isinstance(u["mark"], dict) else u["mark"] for u in layers(s)]


def fields(s: dict[str, Any]) -> set[str]:
    return {enc["field"] for u in layers(s) for enc in u.get("encoding", {}).values()
            if isinstance(enc, dict) and "field" in enc}


def rules_at(s: dict[str, Any], channel: str) -> list[float]:
    """Values drawn by rule marks along ``channel`` (from their inline data)."""
    out = []
    for u in layers(s):
        enc = u.get("encoding", {})
        kind = u["mark"]["type"] if isinstance(u["mark"], dict) else u["mark"]
        if kind == "rule" and channel in enc and "y2" not in enc and "x2" not in enc:
            out += [row[enc[channel]["field"]] for row in u["data"]["values"]]
    return out


@pytest.fixture
def effects() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    synthetic = 50_000 + 500 * np.arange(len(YEARS)) + rng.normal(0, 300, len(YEARS))
    observed = synthetic + rng.normal(0, 200, len(YEARS)) + 2_500 * (np.array(YEARS) >= 2014)
    return pd.DataFrame({"year": YEARS, "observed": observed, "synthetic": synthetic})


def test_observed_vs_synthetic(effects: pd.DataFrame) -> None:
    fig = observed_vs_synthetic(effects, 2014, title="GVA per job, Coventry", unit="£")
    s = fig.spec()
    assert s["title"]["text"] == "GVA per job, Coventry" == fig.title
    assert s["description"] == fig.description and "2014" in fig.description
    assert "2005-2020" in fig.description and "£" in fig.description
    assert marks(s).count("line") == 1 and "rule" in marks(s)
    assert {"year", "value", "series"} <= fields(s)
    assert rules_at(s, "x") == [2014]
    line = next(u for u in layers(s) if marks(u) == ["line"])
    assert line["encoding"]["x"]["axis"]["format"] == "d"  # 2015, not 2,015
    assert line["encoding"]["y"]["title"] == "Value (£)"
    assert set(fig.table["series"]) == {"Observed", "Synthetic"} and len(fig.table) == 32
    assert fig.table["year"].dtype.kind == "i"
    obs_pre = effects.loc[effects["year"] < 2014, "observed"].mean()
    assert f"{obs_pre:,.0f}" in fig.description  # the words say the numbers drawn


def test_gap_chart_with_placebos(effects: pd.DataFrame) -> None:
    gaps = pd.DataFrame([(f"P{i}", y, float(i - 5) * 10) for i in range(12) for y in YEARS],
                        columns=["place", "year", "gap"])
    fig = gap_chart(effects.assign(gap=effects["observed"] - effects["synthetic"]), 2014,
                    gaps, unit="£")
    s = fig.spec()
    units = layers(s)
    lines = [u for u in units if u["mark"]["type"] == "line"]
    assert len(lines) == 2
    grey, bold = lines  # placebos drawn first: behind
    assert grey["mark"]["color"] == charts.GREY and grey["encoding"]["detail"]["field"] == "place"
    assert bold["mark"]["strokeWidth"] > grey["mark"]["strokeWidth"]
    assert len(grey["data"]["values"]) == 12 * 16 and len(bold["data"]["values"]) == 16
    assert rules_at(s, "y") == [0.0] and rules_at(s, "x") == [2014]
    assert "12 placebo places" in fig.description and s["description"] == fig.description
    assert fig.table["treated"].sum() == 16 and fig.table["place"].nunique() == 13
    alone = gap_chart(effects.assign(gap=1.0), 2014)
    assert marks(alone.spec()).count("line") == 1 and "placebo" not in alone.description


def test_placebo_distribution_highlights_treated_and_titles_p() -> None:
    ratios = pd.DataFrame({"place": ["A", "B", "C", "Coventry", "D"],
                           "ratio": [1.0, 2.0, 8.0, 5.0, 0.5],
                           "treated": [False, False, False, True, False]})
    fig = placebo_distribution(ratios)
    s = fig.spec()
    assert "p = 0.400" in s["title"]["text"]  # 2 of 5 places have ratio >= 5
    assert "rank 2 of 5" in s["title"]["subtitle"]
    assert "Coventry" in fig.description and "0.400" in fig.description
    assert {"ratio", "place"} <= fields(s)
    filters = [t["filter"] for u in layers(s) for t in u.get("transform", [])]
    assert "datum.treated" in filters and "!datum.treated" in filters
    assert fig.table.iloc[0]["place"] == "C" and fig.table["rank"].tolist() == [1, 2, 3, 4, 5]
    given = placebo_distribution(ratios, p_value=0.25)
    assert "p = 0.250" in given.spec()["title"]["text"]
    with pytest.raises(KeycitiesError, match="exactly one place as treated"):
        placebo_distribution(ratios.assign(treated=False))


def test_event_study_chart() -> None:
    coefs = pd.DataFrame({"event_time": [-3, -2, -1, 0, 1, 2],
                          "estimate": [0.001, -0.002, 0.0, 0.04, 0.05, 0.05]})
    coefs["ci_low"], coefs["ci_high"] = coefs["estimate"] - 0.01, coefs["estimate"] + 0.01
    coefs.loc[2, ["ci_low", "ci_high"]] = np.nan
    fig = event_study_chart(coefs, title="Event study: GVA per job")
    s = fig.spec()
    assert s["title"]["text"] == "Event study: GVA per job" and s["description"]
    assert "point" in marks(s)
    bars = [u for u in layers(s) if "y2" in u.get("encoding", {})]
    assert len(bars) == 1 and bars[0]["encoding"]["y"]["field"] == "ci_low"
    assert bars[0]["encoding"]["y2"]["field"] == "ci_high"
    assert rules_at(s, "y") == [0.0] and rules_at(s, "x") == [-0.5]
    assert "-3 to 2" in fig.description and "95%" in fig.description
    assert fig.table["period"].tolist() == ["before"] * 3 + ["after"] * 3


def test_missing_columns_say_which() -> None:
    with pytest.raises(KeycitiesError, match="missing synthetic"):
        observed_vs_synthetic(pd.DataFrame({"year": [2020], "observed": [1.0]}), 2020)
    with pytest.raises(KeycitiesError, match="empty"):
        event_study_chart(pd.DataFrame(columns=["event_time", "estimate", "ci_low", "ci_high"]))


# -------------------------------------------------------------------------------- saving

@pytest.fixture(scope="module")
def figure() -> Figure:
    coefs = pd.DataFrame({"event_time": [-2, -1, 0, 1], "estimate": [0.0, 0.0, 0.05, 0.06],
                          "ci_low": [-0.01, np.nan, 0.04, 0.05],
                          "ci_high": [0.01, np.nan, 0.06, 0.07]})
    return event_study_chart(coefs)


def test_save_png_is_a_png(figure: Figure, tmp_path: Path) -> None:
    out = save(figure, tmp_path / "es.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert [p.name for p in tmp_path.iterdir()] == ["es.png"]  # no temporary left behind


def test_save_svg_is_svg_with_the_title(figure: Figure, tmp_path: Path) -> None:
    out = save(figure.chart, tmp_path / "es.svg")
    root = ET.fromstring(out.read_text())
    assert root.tag.endswith("svg")
    assert "Event study" in out.read_text()


def test_save_json_round_trips(figure: Figure, tmp_path: Path) -> None:
    out = save(figure, tmp_path / "es.json")
    back = json.loads(out.read_text())
    assert back == spec(figure) == json.loads(json.dumps(figure.spec()))
    assert back["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert json.loads(json.dumps(figure.payload()))["table"][0]["event_time"] == -2


def test_save_charts_writes_every_format_from_one_spec(figure: Figure, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from keycities.present.testbed import save_charts  # deferred: imports the testbed

    made: list[Any] = []
    to_spec = charts.spec
    monkeypatch.setattr(charts, "spec", lambda c: made.append(c) or to_spec(c))
    paths = save_charts({"es": figure}, tmp_path, formats=("json", "svg"))
    assert [p.name for p in paths] == ["es.json", "es.svg"]
    assert json.loads(paths[0].read_text()) == to_spec(figure)
    assert "Event study" in paths[1].read_text()
    assert sum(c is figure for c in made) == 1  # converted once, not once per format


def test_save_charts_checks_formats_before_writing_anything(figure: Figure,
                                                            tmp_path: Path) -> None:
    from keycities.present.testbed import save_charts  # deferred: imports the testbed

    with pytest.raises(KeycitiesError, match="Unknown chart format 'gif'"):
        save_charts({"es": figure}, tmp_path, formats=("json", "gif"))
    assert list(tmp_path.iterdir()) == []


def test_save_html_is_self_contained(figure: Figure, tmp_path: Path) -> None:
    text = save(figure, tmp_path / "es.html").read_text()
    assert text.lstrip().lower().startswith("<!doctype html") or "<html" in text[:200]
    assert "cdn.jsdelivr" not in text and len(text) > 100_000  # Vega bundled: offline


def test_atomic_save_leaves_nothing_when_rendering_fails(figure: Figure, tmp_path: Path,
                                                         monkeypatch) -> None:
    def boom(vl_spec: dict[str, Any], fmt: str) -> bytes:
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(charts, "_render", boom)
    with pytest.raises(RuntimeError, match="renderer failed"):
        save(figure, tmp_path / "es.png")
    assert list(tmp_path.iterdir()) == []


def test_atomic_save_keeps_old_file_when_writing_fails(figure: Figure, tmp_path: Path,
                                                       monkeypatch) -> None:
    target = tmp_path / "es.svg"
    target.write_text("old")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(charts.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save(figure, target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["es.svg"]


def test_save_rejects_unknown_suffix_and_missing_directory(figure: Figure,
                                                           tmp_path: Path) -> None:
    with pytest.raises(KeycitiesError, match=r"\.png, \.svg, \.json, \.html"):
        save(figure, tmp_path / "es.pdf")
    with pytest.raises(KeycitiesError, match="does not exist"):
        save(figure, tmp_path / "nowhere" / "es.png")


def _svg_sizes(svg: str) -> tuple[float, list[float]]:
    """The drawn width of an SVG and the font size of each text in it."""
    root = ET.fromstring(svg)
    sizes = [float(t.get("font-size", "0").rstrip("px")) for t in root.iter()
             if t.tag.endswith("text") and (t.text or "").strip()]
    return float(root.get("width", "0")), sizes


def test_phone_spec_fits_a_phone_with_text_of_12_px(effects: pd.DataFrame) -> None:
    """Issue 16, point 11: a 600 px chart scaled to a phone showed 5-6 px text."""
    import vl_convert as vlc

    from keycities.present.charts import PHONE_FONT, PHONE_WIDTH, phone_spec
    from keycities.present.figures import bar_figure

    names = pd.DataFrame({"place": [f"A place with a long name number {i}" for i in range(5)],
                          "value": np.arange(5.0)})
    for fig in (observed_vs_synthetic(effects, 2014), gap_chart(effects.assign(
            gap=effects["observed"] - effects["synthetic"]), 2014), placebo_distribution(
            pd.DataFrame({"place": list("abcd"), "ratio": [1.0, 2.0, 3.0, 4.0],
                          "treated": [False, False, True, False]})),
                bar_figure(names, category="place", value="value", title="A bar chart",
                           unit="£")):
        laptop = spec(fig)
        phone = phone_spec(laptop)
        assert spec(fig) == laptop  # not changed in place
        wide, _ = _svg_sizes(vlc.vegalite_to_svg(laptop))
        width, sizes = _svg_sizes(vlc.vegalite_to_svg(phone))
        assert wide > PHONE_WIDTH + 100  # the laptop's drawing: 600 px and more
        assert width <= PHONE_WIDTH + 2, fig.title  # at its own size on a 390 px screen
        assert sizes and min(sizes) >= PHONE_FONT, fig.title


def test_every_kind_of_chart_is_valid_vega_lite(effects: pd.DataFrame) -> None:
    # spec() skips Altair's schema validation (most of a chart's drawing time), so
    # every kind of chart is validated here instead.
    from keycities.present.charts import frontier_chart, interval_chart
    from keycities.present.figures import bar_figure, line_figure

    placebos = pd.DataFrame({"year": YEARS * 2, "place": ["A"] * 16 + ["B"] * 16,
                             "gap": np.linspace(-1, 1, 32)})
    ratios = pd.DataFrame({"place": ["A", "B", "C"], "ratio": [1.0, 2.0, 3.0],
                           "treated": [False, True, False]})
    coefs = pd.DataFrame({"event_time": [-1, 0, 1], "estimate": [0.0, 0.1, 0.2],
                          "ci_low": [-0.1, 0.0, 0.1], "ci_high": [0.1, 0.2, 0.3]})
    frontier = pd.DataFrame({"label": ["power", "balance"], "mde": [0.02, 0.04],
                             "imbalance": [0.3, 0.1], "testbeds": ["A, B", "C, D"],
                             "chosen": [True, False]})
    rows = pd.DataFrame({"place": ["A", "B"], "estimate": [1.0, 2.0], "low": [0.0, 1.0],
                         "high": [2.0, 3.0], "kind": ["pilot", "prediction"]})
    series = pd.DataFrame({"year": [2019, 2020] * 2, "series": ["a", "a", "b", "b"],
                           "value": [1.0, 2.0, 3.0, 4.0]})
    gaps = effects.assign(gap=effects["observed"] - effects["synthetic"])
    figures = [observed_vs_synthetic(effects, 2014), gap_chart(gaps, 2014, placebos),
               placebo_distribution(ratios), event_study_chart(coefs),
               frontier_chart(frontier), interval_chart(rows, title="Effects"),
               line_figure(series, title="Lines", unit="£"),
               bar_figure(series.head(2), category="series", value="value", title="Bars",
                          unit="£", highlight="a")]
    for fig in figures:
        assert fig.chart.to_dict(validate=True) == spec(fig)
