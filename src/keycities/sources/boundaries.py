"""Local authority district boundaries (ONS Open Geography Portal) and LAD history.

Three generalised boundary sets, one release each, go to table ``boundary``
as compact GeoJSON geometry text in WGS84 lon/lat rounded to 5 decimals
(about 1 m, far finer than the 500 m / 200 m generalisation):

* December 2023, UK, BUC (ultra generalised), already lon/lat;
* December 2021, UK, BUC, British National Grid (EPSG:27700), transformed;
* December 2016, UK, BSC (super generalised), lon/lat, via the ONS Visual team.

The ONS Visual team's TopoJSON of every district 2014-2025 goes to table
``area`` (source ``lad_history``) from its ``ltla`` layer's properties: the
first and last year each code was in force.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import mapping

from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import OGL, READER_COLUMNS, Release, SimpleSource

READER_VERSION = "1"

DECIMALS = 5
#: Lon/lat box around the UK and its islands; anything outside means a wrong CRS.
UK_BOUNDS = (-9.0, 49.0, 2.5, 61.5)

OS_ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open "
                  "Government Licence v.3.0. Contains OS data © Crown copyright and "
                  "database right")
_GENERALISED = ("Generalised boundaries: fine for maps, not for area calculations or "
                "point-in-polygon tests near borders.")
_DATE_NOTE = ("The mirror records no publication date; the boundary reference date is "
              "used instead. The url is the byte-identical GitHub copy the mirror took "
              "(the Open Geography Portal serves files by item id, which was not "
              "recorded); the landing page is the portal's dataset page.")
_GITHUB = "https://raw.githubusercontent.com"
_ONSVISUAL = f"{_GITHUB}/ONSvisual/uk-topojson/b2fde50cb130908b897de10b65cdc392f9b4ff78"

RELEASE_2023 = Release(
    id="ons-lad-dec2023-uk-buc",
    publisher="Office for National Statistics (Open Geography Portal)",
    title="Local Authority Districts (December 2023) Boundaries UK BUC",
    url=f"{_GITHUB}/jhellingsdata/RADataHub/caa85c9e85385764eef4e92d7a159f110efd5609/"
        "Chart%20Packs/Childcare/data/LAD_Dec2023_BUC_500m.geojson",
    landing_page="https://geoportal.statistics.gov.uk/datasets/"
                 "ons::local-authority-districts-december-2023-boundaries-uk-buc",
    published=dt.date(2023, 12, 1),
    reference_period="December 2023",
    geography_vintage=2023,
    licence=f"{OGL}; {OS_ATTRIBUTION} 2023",
    sha256="01528876cfbda131815c842fcd6075ba5a7584bb5ac71d7304cb7776a74a6d68",
    mirror_path="lad_boundaries/LAD_Dec2023_UK_BUC_wgs84.geojson",
    notes=f"361 districts on 2023 codes (Cumberland, Westmorland and Furness, North "
          f"Yorkshire, Somerset unitaries). Ultra generalised (500 m). {_GENERALISED} "
          f"{_DATE_NOTE}",
)

RELEASE_2021 = Release(
    id="ons-lad-dec2021-uk-buc",
    publisher="Office for National Statistics (Open Geography Portal)",
    title="Local Authority Districts (December 2021) UK BUC",
    url=f"{_GITHUB}/jhellingsdata/RADataHub/951ed0977a2cd3fef5e6fdfee8080f277eb9c679/"
        "Chart%20Packs/Housing/lad_uk_buc_2021.geojson",
    landing_page="https://geoportal.statistics.gov.uk/datasets/"
                 "ons::local-authority-districts-december-2021-uk-buc",
    published=dt.date(2021, 12, 1),
    reference_period="December 2021",
    geography_vintage=2021,
    licence=f"{OGL}; {OS_ATTRIBUTION} 2021",
    sha256="0b6554cd67e7fcdb71cb6a25a7ae21ec3a49128059113f049e69beff96f4eda5",
    mirror_path="lad_boundaries/LAD_Dec2021_UK_BUC_bng27700.geojson",
    notes=f"374 districts on 2021 codes (pre-2023 Cumbria, North Yorkshire and Somerset "
          f"districts). Published in British National Grid (EPSG:27700); transformed to "
          f"WGS84 lon/lat with pyproj. Ultra generalised (500 m). {_GENERALISED} "
          f"{_DATE_NOTE}",
)

RELEASE_2016 = Release(
    id="ons-lad-dec2016-uk-bsc",
    publisher="Office for National Statistics (Open Geography Portal, via the ONS "
              "Visual team's uk-topojson repository)",
    title="Local Authority Districts (December 2016) UK BSC",
    url=f"{_ONSVISUAL}/input/ltla16-bsc.json",
    landing_page="https://github.com/ONSvisual/uk-topojson",
    published=dt.date(2016, 12, 1),
    reference_period="December 2016",
    geography_vintage=2016,
    licence=f"{OGL}; {OS_ATTRIBUTION} 2016",
    sha256="748d24014abfa9c5cfaf5a0ab7ffb2a1442da0809f17dd50293b89db7c789069",
    mirror_path="lad_boundaries/ONSvisual_ltla16_bsc_wgs84.geojson",
    notes=f"391 districts on 2016 codes (the EU referendum counting areas of Great "
          f"Britain). Super generalised (200 m), clipped to the coastline, coordinates "
          f"already rounded to 4 decimals by ONS. {_GENERALISED} The mirror records no "
          f"publication date; the boundary reference date is used instead.",
)

RELEASE_HISTORY = Release(
    id="onsvisual-uk-topojson-2014-2025",
    publisher="Office for National Statistics (ONS Visual team, uk-topojson)",
    title="UK TopoJSON 2014-2025: lower-tier local authorities with start and end years",
    url=f"{_ONSVISUAL}/output/topo.json",
    landing_page="https://github.com/ONSvisual/uk-topojson",
    published=dt.date(2025, 1, 1),
    reference_period="2014 to 2025",
    geography_vintage=None,
    licence=f"{OGL}; {OS_ATTRIBUTION}",
    sha256="dc7062d094f5321bc2101a1287d15b4822edadb6432181d2063953ddcd573c8c",
    mirror_path="lad_boundaries/ONSvisual_uk_topo_2014_2025.json",
    notes=(
        "Only the 'ltla' layer's properties are read: code, name and the first ('start') "
        "and last ('end') year a code was in force (inclusive; missing = from before 2014 / "
        "still current). Known gap: the 2019 recodes of Glasgow City (S12000046 -> "
        "S12000049) and North Lanarkshire (S12000044 -> S12000050) are missing, so the old "
        "codes appear current and the new ones are absent; use the lad_changes and "
        "lad_successors sources for those. The repository records no publication date: "
        "1 January 2025 (the file describes 2025 codes) is a lower bound, not the "
        "publication date."
    ),
)

_CODE_KEYS = re.compile(r"^(?:LAD\d{2}CD|areacd)$", re.IGNORECASE)
_NAME_KEYS = re.compile(r"^(?:LAD\d{2}NM|areanm)$", re.IGNORECASE)

#: First letter of a GSS code -> (country code, country name).
COUNTRIES: dict[str, tuple[str, str]] = {
    "E": ("E92000001", "England"),
    "W": ("W92000004", "Wales"),
    "S": ("S92000003", "Scotland"),
    "N": ("N92000002", "Northern Ireland"),
}


def _property_key(props: dict[str, Any], pattern: re.Pattern[str], what: str) -> str:
    for key in props:
        if pattern.match(key):
            return key
    raise SheetFormatError(
        f"Features have no {what} property (looked for LADyyCD/LADyyNM or areacd/areanm; "
        f"found {sorted(props)}). Update the boundary reader's property names."
    )


def _to_wgs84(crs_name: str | None) -> Transformer | None:
    """Transformer from the collection's CRS to lon/lat, or None when already lon/lat."""
    if crs_name is None:  # RFC 7946: GeoJSON without 'crs' is WGS84 lon/lat
        return None
    source = CRS.from_user_input(crs_name)
    if source.is_geographic and source.equals(CRS("OGC:CRS84"), ignore_axis_order=True):
        return None
    return Transformer.from_crs(source, "OGC:CRS84", always_xy=True)


def _check_bounds(geoms: np.ndarray) -> None:
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    lon0, lat0, lon1, lat1 = UK_BOUNDS
    if xmin < lon0 or ymin < lat0 or xmax > lon1 or ymax > lat1:
        raise SheetFormatError(
            f"Boundaries span lon {xmin:.2f}..{xmax:.2f}, lat {ymin:.2f}..{ymax:.2f}, outside "
            "the UK: the file's CRS is not what its 'crs' member says. Check the file."
        )


def boundary_rows(collection: dict[str, Any]) -> pd.DataFrame:
    """Boundary rows from a GeoJSON FeatureCollection of districts.

    Parameters
    ----------
    collection
        The parsed GeoJSON.  A ``crs`` member (e.g. ``EPSG:27700``) is honoured;
        without one the coordinates are taken as WGS84 lon/lat.

    Returns
    -------
    pandas.DataFrame
        Columns code, name, geojson: the geometry as compact GeoJSON text in
        WGS84 lon/lat, coordinates rounded to 5 decimals.

    Raises
    ------
    SheetFormatError
        No features, no code/name property, a code listed twice, or
        coordinates outside the UK after transformation.
    """
    features = collection.get("features") or []
    if not features:
        raise SheetFormatError("The GeoJSON has no features.")
    props = features[0].get("properties") or {}
    code_key = _property_key(props, _CODE_KEYS, "district code")
    name_key = _property_key(props, _NAME_KEYS, "district name")
    codes = [str(f["properties"][code_key]).strip() for f in features]
    if len(set(codes)) != len(codes):
        raise SheetFormatError("A district code appears on two features.")
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    transformer = _to_wgs84((collection.get("crs") or {}).get("properties", {}).get("name"))

    def project(xy: np.ndarray) -> np.ndarray:
        if transformer is not None:
            xy = np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        return np.round(xy, DECIMALS)

    geoms = shapely.transform(geoms, project)  # one call for all coordinates
    _check_bounds(geoms)
    return pd.DataFrame({
        "code": codes,
        "name": [str(f["properties"][name_key]).strip() for f in features],
        # json.dumps prints the shortest float text (GEOS would print 1.1776199999999999).
        "geojson": [json.dumps(mapping(g), separators=(",", ":")) for g in geoms],
    })


def read_boundaries(release: Release, path: Path) -> pd.DataFrame:
    """Read a GeoJSON boundary file into ``boundary`` rows."""
    with open(path, encoding="utf-8") as f:
        return boundary_rows(json.load(f))


def _optional_year(value: object) -> int | None:
    return None if value is None or value == "" else int(str(value))


def lad_history_rows(topo: dict[str, Any]) -> pd.DataFrame:
    """Area rows from the ``ltla`` layer of the ONS Visual TopoJSON.

    Parameters
    ----------
    topo
        The parsed TopoJSON; only ``objects.ltla.geometries[*].properties`` is
        used (``areacd``, ``areanm``, optional ``start`` and ``end`` years).

    Returns
    -------
    pandas.DataFrame
        The ``area`` columns: vintage_start/vintage_end are the first/last
        year in force (null when open); country from the code's first letter;
        region columns null.

    Raises
    ------
    SheetFormatError
        No ``ltla`` layer, or a code of an unknown country.
    """
    try:
        geometries = topo["objects"]["ltla"]["geometries"]
    except (KeyError, TypeError) as exc:
        raise SheetFormatError("The TopoJSON has no 'ltla' layer; is this the ONS Visual "
                               "uk-topojson output?") from exc
    props = [g.get("properties") or {} for g in geometries]
    rows = pd.DataFrame({
        "code": [str(p["areacd"]).strip() for p in props],
        "name": [str(p["areanm"]).strip() for p in props],
        "vintage_start": pd.array([_optional_year(p.get("start")) for p in props],
                                  dtype="Int64"),
        "vintage_end": pd.array([_optional_year(p.get("end")) for p in props], dtype="Int64"),
    })
    unknown = sorted(set(rows["code"].str[0]) - set(COUNTRIES))
    if unknown:
        raise SheetFormatError(f"Codes starting {unknown} belong to no UK country.")
    rows["country_code"] = rows["code"].str[0].map(lambda c: COUNTRIES[c][0])
    rows["country_name"] = rows["code"].str[0].map(lambda c: COUNTRIES[c][1])
    rows["region_code"] = None
    rows["region_name"] = None
    return rows[list(READER_COLUMNS["area"])]


def read_history(release: Release, path: Path) -> pd.DataFrame:
    """Read the ONS Visual TopoJSON into ``area`` rows."""
    with open(path, encoding="utf-8") as f:
        return lad_history_rows(json.load(f))


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource("boundaries_2023", "boundary", (RELEASE_2023,), read_boundaries,
                 "LAD December 2023 generalised boundaries (BUC), UK."),
    SimpleSource("boundaries_2021", "boundary", (RELEASE_2021,), read_boundaries,
                 "LAD December 2021 generalised boundaries (BUC), UK."),
    SimpleSource("boundaries_2016", "boundary", (RELEASE_2016,), read_boundaries,
                 "LAD December 2016 super generalised boundaries (BSC), UK."),
    SimpleSource("lad_history", "area", (RELEASE_HISTORY,), read_history,
                 "Every LAD 2014-2025 with first/last year in force (ONS Visual)."),
)
