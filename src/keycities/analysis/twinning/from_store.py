"""Twinning from the evidence store: the place set's features, then the matching."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from keycities.analysis.indicators.library import load_library
from keycities.analysis.places.from_store import place_features
from keycities.analysis.places.params import is_csv
from keycities.analysis.twinning.spec import GB, TwinSpec
from keycities.analysis.twinning.twinning import TwinResult, inputs_from_features, twin
from keycities.store.store import Store


def twin_from_store(store: Store | None, spec: TwinSpec, *, places: str | Path = "lad",
                    vintage: int = 2023, countries: Collection[str] | None = GB) -> TwinResult:
    """Twin a place set (GB by default) from the store.

    ``places`` is ``"lad"`` (local authority districts of ``vintage``),
    ``"district"`` or ``"sector"`` (postcode districts or sectors), or the path of
    a CSV of the user's own places (then ``countries`` does not apply: their
    country is unknown, and ``store`` may be None).
    See :mod:`keycities.analysis.places.place_sets`.
    """

    # Library indicators named as features are added to the districts' table.
    library = load_library()
    extra = [f for f in (*spec.contrast, *spec.similar) if f in library] if places == "lad" \
        else []
    table = place_features(store, places, vintage=vintage, extra=extra)
    csv = is_csv(places)
    result = twin(inputs_from_features(table, countries=None if csv else countries), spec)
    what = {"lad": f"local authority districts of {vintage}", "district": "postcode districts",
            "sector": "postcode sectors"}.get(str(places), f"places from {places}")
    result.notes.append(f"Places: {what}"
                        + (f" in {', '.join(countries)}" if countries and not csv else "")
                        + "; features standardised over the whole set (see keycities peers).")
    return result
