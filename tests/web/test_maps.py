"""Maps: framed on their places, with a key (issue 16, point 11)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from keycities.web.maps import (
    MIN_FRAME_M,
    UNIT_M,
    Shapes,
    frame,
    map_html,
    shapes_from_boundaries,
)


def _square(lon: float, lat: float, side: float) -> str:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side],
            [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    """Three districts: two small ones in the south, one far to the north."""
    rows = pd.DataFrame({
        "code": ["E1", "E2", "S1"], "name": ["Southtown", "Nearby", "Northtown"],
        "geojson": [_square(-1.0, 51.0, 0.1), _square(-0.8, 51.1, 0.1),
                    _square(-6.0, 60.0, 0.5)], "release_id": "test"})
    return shapes_from_boundaries(rows, vintage=2023)


def test_one_place_is_framed_with_its_surroundings_not_the_whole_map(shapes: Shapes) -> None:
    x0, y0, x1, y1 = shapes.bounds
    x, y, w, h = frame(shapes, ["E1"])
    assert w * h < 0.25 * (x1 - x0) * (y1 - y0)
    assert min(w, h) >= MIN_FRAME_M / UNIT_M
    bx0, by0, bx1, by1 = shapes.boxes["E1"]
    assert x < bx0 and y < by0 and x + w > bx1 and y + h > by1  # with a margin
    assert 0.75 <= h / w <= 1.4
    # both southern places: one frame round both; nothing to frame: the whole map
    x, y, w, h = frame(shapes, ["E1", "E2"])
    assert x < shapes.boxes["E1"][0] and x + w > shapes.boxes["E2"][2]
    assert frame(shapes, []) == (x0, y0, x1 - x0, y1 - y0)


def test_a_map_has_a_legend_of_the_colours_drawn_and_an_overview(shapes: Shapes) -> None:
    html = map_html(shapes, title="T", description="D", highlight={"E1": "place",
                                                                   "E2": "peer"},
                    legend={"place": "Southtown", "peer": "Peer"}, ident="m1")
    assert 'aria-labelledby="m1-t m1-d"' in html
    assert 'class="overview"' in html  # a framed map says where it is in the UK
    legend = html.split('<ul class="legend"')[1]
    assert legend.index("swatch place") < legend.index("swatch peer") < legend.index(
        "swatch rest")
    assert ">Southtown</li>" in legend and ">Peer</li>" in legend
    assert "swatch twin" not in legend  # only the colours drawn
    whole = map_html(shapes, title="T", description="D", every_area=True)
    assert 'class="overview"' not in whole  # the whole map needs no overview


def test_a_small_frame_draws_the_districts_around_its_place(shapes: Shapes) -> None:
    svg = map_html(shapes, title="T", description="D", highlight={"E1": "place"})
    assert svg.count('class="place"') == 1
    assert "<title>Nearby</title>" in svg  # the neighbour, unshaded, for its border
    assert "Northtown" not in svg  # far outside the frame
