"""Any indicator of the library as a testbed outcome, from the store.

A library indicator (``keycities indicators`` lists them) becomes an annual
:class:`~keycities.analysis.testbed.panel.Panel` through
:func:`~keycities.analysis.indicators.from_store.annual_from_store`: one
column per year (the period starting in it, from the newest release that has
it, as ``keycities indicator`` shows it), every district's value mapped onto
the panel's boundaries by the indicator's own rule (counts summed, rates
recomputed from their counts, medians and indices never combined).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from keycities.analysis._store import geography_from_store
from keycities.analysis.indicators.from_store import annual_from_store
from keycities.analysis.testbed.outcomes import Outcome
from keycities.geography.areas import areas_in_vintage
from keycities.store.store import Store


def indicator_panel_parts(store: Store, spec: Outcome, *, vintage: int | None,
                          want: Sequence[int] | None) -> dict[str, Any]:
    """The fields of a :class:`~keycities.analysis.testbed.panel.Panel` of the library
    indicator ``spec.key`` (see the module docstring; its errors)."""
    a = annual_from_store(store, spec.key, vintage=vintage, years=want)
    sources = pd.DataFrame({"year": list(a.releases), "measure": spec.key,
                            "release_id": list(a.releases.values()),
                            "geography_vintage": a.vintage, "also_in": ""})
    recoded = a.mapped[a.mapped["method"].isin(["merge", "split"])][
        ["area_code", "method", "from_codes", "estimate", "year"]].rename(
        columns={"area_code": "code"}).assign(basis="the indicator's own rule")
    label = str(a.meta.get("label") or spec.key)
    lads = areas_in_vintage(geography_from_store(store).lads, a.vintage)
    return {"values": a.values, "outcome": spec.key, "label": label,
            "unit": str(a.meta.get("unit") or ""), "vintage": a.vintage,
            "positive": bool((a.values.stack() > 0).all()),
            "releases": pd.DataFrame({"id": sorted(set(a.releases.values())),
                                      "publisher": a.meta.get("publisher")}),
            "sources": sources,
            "missing": pd.DataFrame(columns=["code", "name", "reason", "years", "first",
                                             "last"]),
            "recoded": recoded.reset_index(drop=True),
            "names": dict(zip(lads["code"], lads["name"], strict=True)),
            "notes": (f"{label}: library indicator {spec.key}, each year the period "
                      "starting in it (as `keycities indicator` shows it).", *a.notes)}


__all__ = ["indicator_panel_parts"]
