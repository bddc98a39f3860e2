"""Tests for the boundary and LAD history readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely

from keycities.sources import boundaries as bnd
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file


def _collection(coords: list[list[float]], crs: str | None, code_key: str = "LAD21CD",
                name_key: str = "LAD21NM") -> dict[str, Any]:
    coll: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"OBJECTID": 1, code_key: "E06000001 ", name_key: "Hartlepool"},
            "geometry": {"type": "Polygon", "coordinates": [coords]},
        }],
    }
    if crs:
        coll["crs"] = {"type": "name", "properties": {"name": crs}}
    return coll


def test_bng_is_transformed_to_lon_lat() -> None:
    # ONS gives Hartlepool's reference point as BNG (447160, 531474) = (-1.27018, 54.67614).
    ring = [[447160, 531474], [448160, 531474], [447160, 532474], [447160, 531474]]
    rows = bnd.boundary_rows(_collection(ring, "EPSG:27700"))
    assert list(rows.columns) == ["code", "name", "geojson"]
    assert rows.loc[0, "code"] == "E06000001"
    geom = json.loads(rows.loc[0, "geojson"])
    assert geom["type"] == "Polygon"
    lon, lat = geom["coordinates"][0][0]
    assert lon == pytest.approx(-1.27018, abs=2e-5)
    assert lat == pytest.approx(54.67614, abs=2e-5)


def test_lon_lat_rounded_and_compact() -> None:
    ring = [[-1.241184850278, 54.723335305230], [-1.2, 54.7], [-1.25, 54.69],
            [-1.241184850278, 54.723335305230]]
    coll = _collection(ring, "urn:ogc:def:crs:OGC:1.3:CRS84", "LAD23CD", "LAD23NM")
    text = bnd.boundary_rows(coll).loc[0, "geojson"]
    assert " " not in text
    assert "[-1.24118,54.72334]" in text
    assert shapely.from_geojson(text).is_valid


def test_no_crs_means_wgs84_and_areacd_keys() -> None:
    ring = [[-1.2435, 54.7225], [-1.25, 54.72], [-1.26, 54.73], [-1.2435, 54.7225]]
    rows = bnd.boundary_rows(_collection(ring, None, "areacd", "areanm"))
    assert json.loads(rows.loc[0, "geojson"])["coordinates"][0][0] == [-1.2435, 54.7225]


def test_wrong_crs_is_caught() -> None:
    # BNG numbers labelled as lon/lat land far outside the UK.
    ring = [[447160, 531474], [448160, 531474], [447160, 532474], [447160, 531474]]
    with pytest.raises(SheetFormatError, match="outside the UK"):
        bnd.boundary_rows(_collection(ring, None))


def test_missing_code_property_raises() -> None:
    ring = [[-1.2, 54.7], [-1.25, 54.7], [-1.2, 54.75], [-1.2, 54.7]]
    with pytest.raises(SheetFormatError, match="district code"):
        bnd.boundary_rows(_collection(ring, None, "CODE", "NAME"))


def _topo(props: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "Topology", "arcs": [], "objects": {"ltla": {
        "type": "GeometryCollection",
        "geometries": [{"type": "Polygon", "arcs": [[0]], "properties": p} for p in props],
    }}}


def test_lad_history_rows() -> None:
    rows = bnd.lad_history_rows(_topo([
        {"areacd": "E06000028", "areanm": "Bournemouth", "end": 2018},
        {"areacd": "E06000058", "areanm": "Bournemouth, Christchurch and Poole",
         "start": 2019},
        {"areacd": "W06000015", "areanm": "Cardiff"},
        {"areacd": "N09000003", "areanm": "Belfast"},
    ])).set_index("code")
    assert rows.loc["E06000028", "vintage_end"] == 2018
    assert rows.loc["E06000058", "vintage_start"] == 2019
    assert rows.loc["W06000015", ["vintage_start", "vintage_end"]].isna().all()
    assert rows.loc["W06000015", "country_code"] == "W92000004"
    assert rows.loc["N09000003", "country_name"] == "Northern Ireland"
    assert rows["region_code"].isna().all()


def test_lad_history_needs_ltla_layer() -> None:
    with pytest.raises(SheetFormatError, match="ltla"):
        bnd.lad_history_rows({"objects": {"utla": {}}})


@pytest.mark.mirror
@pytest.mark.parametrize(("release", "count", "code"), [
    (bnd.RELEASE_2023, 361, "E06000063"),
    (bnd.RELEASE_2021, 374, "E07000026"),
    (bnd.RELEASE_2016, 391, "E06000028"),
])
def test_official_boundaries(mirror: Path, release: Any, count: int, code: str) -> None:
    path = mirror / release.mirror_path
    assert sha256_file(path) == release.sha256
    rows = bnd.read_boundaries(release, path)
    assert len(rows) == count
    assert code in set(rows["code"])
    geoms = shapely.from_geojson(rows["geojson"].to_numpy())
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    assert -9 < xmin < -7 and 60 < ymax < 61.5  # NI's west edge, Shetland's north


@pytest.mark.mirror
def test_2021_transform_matches_ons_reference_points(mirror: Path) -> None:
    path = mirror / bnd.RELEASE_2021.mirror_path  # type: ignore[operator]
    rows = bnd.read_boundaries(bnd.RELEASE_2021, path).set_index("code")
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    # ONS's own LONG/LAT reference point of each district lies in its transformed box.
    for feat in features:
        p = feat["properties"]
        box = shapely.from_geojson(rows.loc[p["LAD21CD"], "geojson"]).bounds
        assert box[0] - 0.01 <= p["LONG"] <= box[2] + 0.01, p["LAD21CD"]
        assert box[1] - 0.01 <= p["LAT"] <= box[3] + 0.01, p["LAD21CD"]


@pytest.mark.mirror
def test_official_lad_history(mirror: Path) -> None:
    path = mirror / bnd.RELEASE_HISTORY.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == bnd.RELEASE_HISTORY.sha256
    rows = bnd.read_history(bnd.RELEASE_HISTORY, path)
    assert len(rows) == 407
    by = rows.set_index("code")
    assert by.loc["E06000028", "vintage_end"] == 2018  # Bournemouth
    assert by.loc["E06000058", "vintage_start"] == 2019  # BCP
    assert by.loc["E07000026", "vintage_end"] == 2022  # Allerdale
    assert by.loc["E06000063", "vintage_start"] == 2023  # Cumberland
    assert by.loc["E08000016", "vintage_end"] == 2024  # Barnsley, old code
    assert by.loc["E07000246", ["vintage_start", "vintage_end"]].tolist() == [2019, 2022]
    current = rows[rows["vintage_end"].isna() & rows["vintage_start"].isna()]
    assert len(current) == 346
