"""Feature tables for every place set: districts, postcode districts and sectors, a CSV.

Peer groups and twinning work on a :class:`~keycities.analysis.places.features.FeatureTable`.
This module makes one for each kind of place:

* ``lad``: local authority districts of a boundary vintage, from the store
  (:func:`keycities.analysis.places.from_store.lad_features_from_store`);
* ``district`` / ``sector``: postcode districts and sectors
  (:func:`keycities.analysis.places.postcodes.postcode_places`).  Their own features are
  the share of their postcodes in each 2011 OAC supergroup (``oac_1`` ..
  ``oac_8``, the same keys as the districts') and ``postcodes`` (their postcode
  count, log-transformed).  They also carry the values of their *main* local
  authority (the 2025 LAD holding most of their postcodes) for the features
  that describe the people or economy of the authority as a whole and are
  meaningful to lend to a part of it: ``leave_share``, ``gva_per_job``,
  ``gva_per_head``, ``imd_score``, ``earnings``.  Every place of one LAD shares
  those values, which the notes say; LAD totals (population, postcode density)
  are not lent.  Region and country are the main LAD's;
* a CSV of the user's own places (:func:`load_places_csv`): their features as
  given, region and country unknown.  The file itself is checked before
  :meth:`PlaceSet.from_csv` reads its rows: it must be UTF-8 text and strictly
  valid CSV (the checks of :mod:`keycities.network.loader`), and no feature
  value may exceed 1e150 in magnitude, above which the squared deviations of
  the standardisation overflow and the feature's z-scores would silently be 0.

All are standardised by :func:`keycities.analysis.places.features.standardise` with the
same missing-value rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from keycities._util.numbers import NumberError, parse_number
from keycities.analysis.places.features import FeatureTable, Impute, standardise
from keycities.analysis.places.postcodes import CSV_REQUIRED, PlaceFileError, PlaceSet
from keycities.errors import KeycitiesError
from keycities.network.loader import (
    by_line,
    capped,
    clip,
    csv_records,
    decode_user_text,
    read_user_file,
)

LENT_FEATURES = ("leave_share", "gva_per_job", "gva_per_head", "imd_score", "earnings")
"""LAD features a postcode district or sector takes from its main LAD."""
MAX_MAGNITUDE = 1e150
"""Largest feature value accepted from a CSV (see the module docstring)."""


def offered_features(places: str, lad_features: Sequence[str]) -> tuple[str, ...]:
    """The features a place set offers, from the LAD table's, without building the set.

    Building postcode districts or sectors takes seconds; their features follow
    from the LAD ones (see the module docstring): the OAC supergroup shares
    (the same ``oac_*`` keys), ``postcodes``, and the lent LAD features the
    store has.  So a parameter naming a feature can be checked at once.

    Parameters
    ----------
    places
        ``"lad"``, ``"district"`` or ``"sector"``.
    lad_features
        The features of the store's LAD table (:attr:`FeatureTable.features`).

    Returns
    -------
    tuple of str
        In the order of the place set's own table.
    """
    if places == "lad":
        return tuple(lad_features)
    if places in ("district", "sector"):
        return (*(f for f in lad_features if f.startswith("oac_")), "postcodes",
                *(f for f in LENT_FEATURES if f in lad_features))
    raise KeycitiesError(f"Unknown place set {places!r}: use lad, district or sector.")


def postcode_features(lad: FeatureTable, place_set: PlaceSet, *,
                      impute: Impute = "median") -> FeatureTable:
    """Features of postcode districts or sectors: their OAC mix and size, their LAD's values.

    See the module docstring for the formulation.  ``lad`` is the LAD feature
    table of the postcode directory's vintage with the :data:`LENT_FEATURES`.
    """
    p = place_set.places.set_index("code")
    own = place_set.features(oac_levels=("supergroup",), log_postcodes=False)
    own["postcodes"] = p["postcodes"].astype(float)
    lent = [f for f in LENT_FEATURES if f in lad.values.columns]
    main = p["main_lad"].astype(str)
    values = own.join(pd.DataFrame(lad.values.reindex(main)[lent].to_numpy(),
                                   index=p.index, columns=lent))
    attrs = lad.places.reindex(main)
    places = pd.DataFrame({"name": p["name"], "lon": p["lon"], "lat": p["lat"]}, index=p.index)
    for col in ("region_code", "region", "country_code", "country"):
        places[col] = attrs[col].to_numpy()
    meta = _postcode_meta(lad, lent, place_set)
    reasons = _lent_reasons(values, lent, main)
    notes = [*place_set.notes,
             f"{', '.join(lent)}: the value of the place's main 2025 LAD, shared by every "
             "place of that LAD (see keycities peers on districts for the sources)."]
    return standardise(values, meta=meta, log=["postcodes"], impute=impute, reasons=reasons,
                       places=places, notes=notes)


def _postcode_meta(lad: FeatureTable, lent: list[str], place_set: PlaceSet) -> pd.DataFrame:
    meta = lad.meta.set_index("feature")
    rows: list[dict[str, object]] = [
        {"feature": c, "label": f"OAC supergroup {c[4:]} share of postcodes",
             "unit": "share", "period": "2011", "release_ids": list(place_set.releases),
         "note": "share of the place's unit-matched postcodes"}
        for c in place_set.features(log_postcodes=False).columns]
    rows.append({"feature": "postcodes", "label": "Postcodes", "unit": "count",
                 "period": "2025", "release_ids": list(place_set.releases),
                 "note": "every ONSPD postcode, terminated ones included"})
    for f in lent:
        m = meta.loc[f]
        rows.append({"feature": f, "label": m["label"], "unit": m["unit"],
                     "period": m["period"], "release_ids": list(m["release_ids"]),
                     "note": "value of the main LAD"})
    return pd.DataFrame(rows)


def _lent_reasons(values: pd.DataFrame, lent: list[str], main: pd.Series) -> pd.DataFrame:
    rows = [{"place": code, "feature": f,
             "reason": f"its main LAD {main[code]} has no {f} value"}
            for f in lent for code in values.index[values[f].isna()]]
    return pd.DataFrame(rows, columns=["place", "feature", "reason"])


def load_places_csv(path: Path) -> PlaceSet:
    """A user's places-and-features CSV, the file checked before its rows are read.

    Parameters
    ----------
    path
        The CSV (columns ``code``, ``name``, ``lat``, ``lon``, then numeric
        features; see :func:`keycities.analysis.places.postcodes.read_places_csv`).

    Returns
    -------
    PlaceSet

    Raises
    ------
    PlaceFileError
        Listing every problem with its line (and column); nothing is loaded.
    KeycitiesError
        When the file does not exist or cannot be read.
    """
    text, problems = decode_user_text(read_user_file(path, "Places file"))
    records, csv_problems = csv_records(text) if not problems else ([], [])
    problems += csv_problems
    if not problems and len(records) < 2:
        problems.append(f"line {records[0][0] + 1 if records else 1}: the file lists no places "
                        "(a header code, name, lat, lon and feature columns, then one row per "
                        "place)")
    if problems:
        raise PlaceFileError(str(path), problems)
    too_large = _too_large(records)
    try:
        place_set = PlaceSet.from_csv(path)
    except PlaceFileError as exc:
        merged = by_line([*exc.problems, *too_large])
        raise PlaceFileError(str(path), capped(merged)) from exc
    if too_large:
        raise PlaceFileError(str(path), capped(too_large))
    return place_set


def _too_large(records: list[tuple[int, list[str]]]) -> list[str]:
    """Feature values beyond :data:`MAX_MAGNITUDE`, each with its line and column."""
    if not records:
        return []
    header = [c.strip().lower() for c in records[0][1]]
    problems = []
    for line, cells in records[1:]:
        for col, cell in zip(header, cells, strict=False):
            if col in CSV_REQUIRED:
                continue
            try:
                value = parse_number(cell)
            except NumberError:
                continue  # PlaceSet.from_csv names it
            if abs(value) > MAX_MAGNITUDE:
                problems.append(f"line {line}: {clip(col)} {clip(cell.strip())!r} is too large "
                                f"(above {MAX_MAGNITUDE:g} in magnitude); rescale the column, "
                                "e.g. to thousands or millions")
    return problems


def csv_features(place_set: PlaceSet, *, impute: Impute = "median") -> FeatureTable:
    """Features of a user's own places (CSV), standardised; region and country unknown.

    Raises
    ------
    KeycitiesError
        When no feature column holds any value.
    """
    p = place_set.places.set_index("code")
    places = pd.DataFrame({"name": p["name"], "lon": p["lon"], "lat": p["lat"],
                           "region_code": "", "region": "", "country_code": "",
                           "country": ""}, index=p.index)
    values = place_set.features()
    if len(values.columns) and not values.notna().any().any():
        raise KeycitiesError(f"line 1: no feature column ({clip(', '.join(values.columns))}) "
                             "has a value in any row; give at least one value.")
    meta = pd.DataFrame([{"feature": c, "label": c, "unit": "", "period": "",
                          "release_ids": [], "note": "supplied by the user"}
                         for c in values.columns])
    return standardise(values, meta=meta, impute=impute, places=places,
                       notes=list(place_set.notes))
