"""Derived indicators: a ratio keycities computes from two stored counts.

A derived entry of the library (``derived:`` in ``library.yaml``) names a
numerator and a denominator count, both published by the same source for the
same areas and periods (the population of an age band and of all ages).  Its
value for every area the source publishes, England and the regions included,
is ``scale * numerator / denominator`` from the source's own counts; it has no
confidence interval.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from keycities.analysis.indicators.library import Entry

KEYS = ("area_code", "period", "release_id")


def derived_rows(entry: Entry, numerator: pd.DataFrame,
                 denominator: pd.DataFrame) -> pd.DataFrame:
    """``entry``'s rows from its numerator's and denominator's series.

    Parameters
    ----------
    entry
        A derived library entry.
    numerator, denominator
        Series rows (``indicator_value`` columns) of the two counts.

    Returns
    -------
    pandas.DataFrame
        The same columns, ``indicator`` set to the entry's id, value the ratio
        (NaN where the denominator is zero or missing), no interval; rows where
        both counts are published by the same release.
    """
    den = denominator[[*KEYS, "value"]].rename(columns={"value": "_den"})
    out = numerator.merge(den, on=list(KEYS))
    ratio = entry.scale * out["value"] / out["_den"].where(out["_den"] != 0)
    return out.assign(indicator=entry.id, value=ratio, lower=float("nan"),
                      upper=float("nan"), status=None, note=None).drop(columns="_den")


def derived_meta(entry: Entry, numerator_meta: dict[str, Any]) -> dict[str, Any]:
    """``entry``'s metadata: its own label and unit, the numerator's source."""
    if entry.derived is None:
        raise ValueError(f"{entry.id} is not a derived indicator")
    d = entry.derived
    return {**numerator_meta, "indicator": entry.id, "label": d.label, "subtitle": d.subtitle,
            "unit": d.unit, "measure": "Percentage" if d.unit == "%" else "Ratio",
            "decimals": d.decimals,
            "description": f"{d.subtitle}. Computed by keycities as {entry.scale:g} x "
                           f"{entry.numerator} / {entry.denominator} from the source's counts "
                           "for each area.",
            "experimental": False}


__all__ = ["derived_meta", "derived_rows"]
