"""Tests of keycities.geography.weights: postcode counts of the parts of merged LADs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from keycities.errors import KeycitiesError
from keycities.geography.areas import AREA_COLUMNS, lad_table
from keycities.geography.mapping import crosswalk, to_vintage
from keycities.geography.weights import parts_from_changes, postcode_split_weights

MERGED, WEST, EAST = "E06000099", "E07000001", "E07000002"


def _square(x0: float, y0: float, size: float = 0.2) -> str:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


# Two adjacent squares near Birmingham, WGS84 lon/lat.
BOUNDARIES = {2016: pd.DataFrame({"code": [WEST, EAST],
                                  "geojson": [_square(-2.2, 52.4), _square(-2.0, 52.4)]})}


def _postcodes(points: list[tuple[str, float | None, float | None]]) -> pd.DataFrame:
    """Postcodes from (lad, lon, lat); grid references computed as ONSPD gives them."""
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    lad = [p[0] for p in points]
    lon = np.array([np.nan if p[1] is None else p[1] for p in points])
    lat = np.array([np.nan if p[2] is None else p[2] for p in points])
    e, n = to_bng.transform(lon, lat)
    return pd.DataFrame({"lad": lad, "easting": np.where(np.isnan(lon), np.nan, e),
                         "northing": np.where(np.isnan(lat), np.nan, n)})


POSTCODES = _postcodes([
    (MERGED, -2.15, 52.45), (MERGED, -2.10, 52.50), (MERGED, -2.05, 52.55),  # west
    (MERGED, -1.95, 52.45), (MERGED, -1.85, 52.55),  # east
    (MERGED, -1.79, 52.50),  # just east of the east square: nearest is east
    (MERGED, None, None),  # no grid reference
    ("E06000001", -2.10, 52.50),  # another LAD: ignored
])


def test_point_in_polygon_counts() -> None:
    w = postcode_split_weights(POSTCODES, BOUNDARIES, {MERGED: [WEST, EAST]})
    assert list(w.columns) == ["code", "geography_vintage", "weight", "basis"]
    got = w.set_index("code")
    assert got.at[WEST, "weight"] == 3
    assert got.at[EAST, "weight"] == 3
    assert set(w["geography_vintage"]) == {2016}


def test_basis_states_source_and_edge_handling() -> None:
    w = postcode_split_weights(POSTCODES, BOUNDARIES, {MERGED: [WEST, EAST]})
    basis = w["basis"].iloc[0]
    assert basis.startswith("postcode count, ONS Postcode Directory Nov 2025, "
                            "point-in-polygon against 2016 generalised boundaries; "
                            "1 postcodes outside every part assigned to the nearest part")
    assert "1 postcodes without a grid reference left out" in basis


def test_outside_point_goes_to_nearest_part_in_metres() -> None:
    pcs = _postcodes([(MERGED, -2.21, 52.5)])  # west of the west square
    got = postcode_split_weights(pcs, BOUNDARIES, {MERGED: [EAST, WEST]}).set_index("code")
    assert (got.at[WEST, "weight"], got.at[EAST, "weight"]) == (1, 0)


def test_newest_boundary_set_holding_all_parts_is_used() -> None:
    boundaries = {**BOUNDARIES, 2021: BOUNDARIES[2016].iloc[:1], 2019: BOUNDARIES[2016]}
    w = postcode_split_weights(POSTCODES, boundaries, {MERGED: [WEST, EAST]})
    assert set(w["geography_vintage"]) == {2019}


def test_missing_boundaries_are_an_error() -> None:
    with pytest.raises(KeycitiesError, match=r"No boundary set holds all parts of E06000099"):
        postcode_split_weights(POSTCODES, BOUNDARIES, {MERGED: [WEST, "E07000003"]})


def test_merged_code_without_postcodes_is_an_error() -> None:
    with pytest.raises(KeycitiesError, match=r"No postcodes with LAD E06000098 in the 2025"):
        postcode_split_weights(POSTCODES, BOUNDARIES, {"E06000098": [WEST, EAST]})


def test_parts_from_changes_follows_chains() -> None:
    ch = pd.DataFrame({
        "old_code": ["E07000190", "E07000191", "E07000246", "E07000187", "E08000016"],
        "new_code": ["E07000246", "E07000246", "E06000066", "E06000066", "E08000038"],
        "type": ["merger", "merger", "merger", "merger", "new_code"],
        "year": [2019, 2019, 2023, 2023, 2025]}).assign(old_name="", new_name="")
    assert parts_from_changes(ch, vintage=2016) == {
        "E06000066": ["E07000187", "E07000190", "E07000191"]}
    assert parts_from_changes(ch, vintage=2021) == {"E06000066": ["E07000187", "E07000246"]}


@pytest.mark.mirror
def test_bcp_weights_from_package_postcodes(mirror: Path) -> None:
    from keycities.sources.postcodes import load_postcodes

    geo = json.loads((mirror / "lad_boundaries/ONSvisual_ltla16_bsc_wgs84.geojson").read_text())
    b16 = pd.DataFrame({"code": [f["properties"]["areacd"] for f in geo["features"]],
                        "geojson": [json.dumps(f["geometry"]) for f in geo["features"]]})
    postcodes = load_postcodes()
    bcp = ["E06000028", "E06000029", "E07000048"]  # Bournemouth, Poole, Christchurch
    w = postcode_split_weights(postcodes, {2016: b16},
                               {"E06000058": bcp}).set_index("code")["weight"]
    assert w["E06000028"] > w["E06000029"] > w["E07000048"] > 0
    n_bcp = postcodes[(postcodes["lad"] == "E06000058") & postcodes["easting"].notna()]
    assert w.sum() == len(n_bcp)
    # end to end: BCP's 2023 value shared back onto its 2016 parts
    lads = lad_table(pd.DataFrame({"code": [*bcp, "E06000058"],
                                   "vintage_start": [2016, 2016, 2016, 2019],
                                   "vintage_end": [2018, 2018, 2018, None]}
                                  ).assign(name="x").reindex(columns=list(AREA_COLUMNS)))
    ch = pd.DataFrame({"old_code": bcp, "new_code": "E06000058", "type": "merger",
                       "year": 2019, "old_name": "", "new_name": ""})
    weights = w.rename("weight").reset_index().assign(geography_vintage=2016, basis="pc")
    xw = crosswalk(lads, ch, source=2023, target=2016, weights=weights)
    out = to_vintage(pd.DataFrame({"area_code": ["E06000058"], "value": [1000.0]}), xw,
                     kind="count")
    assert out["value"].sum() == pytest.approx(1000.0)
    assert out["estimate"].all()
