"""Values in words: a number with its unit, as a person reads it ("£534", "54.7%").

One helper for every layer that writes a value into a sentence (a twinning
reason, a peer's drivers, a table cell): shares become percentages, pounds get
their sign and thousands separators, years none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def is_missing(x: Any) -> bool:
    """True for None, NaN, NA and NaT."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, NA (raises on NA) and NaT are not equal to themselves
    except (TypeError, ValueError):
        return True


def with_unit(x: Any, unit: str = "") -> str:
    """``x`` written with ``unit`` (a feature's unit such as "share of postcodes",
    "£ per week", "persons", "postcodes per km²", "score").

    Examples
    --------
    >>> with_unit(0.547, "share of valid votes"), with_unit(534.0, "£ per week")
    ('54.7%', '£534')
    """
    if is_missing(x):
        return "n/a"
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if not isinstance(x, int | float) or isinstance(x, bool):
        return str(x)
    u = unit.lower()
    if "share" in u or u in ("proportion", "fraction"):
        return f"{100 * x:.1f}%"
    if u == "%" or u.startswith("percent"):
        return f"{x:.1f}%"
    if u == "year":
        return str(int(x)) if float(x).is_integer() else f"{x:g}"
    if u.startswith("£"):
        sign = "-" if x < 0 else ""
        return f"{sign}£{abs(x):,.0f}" if abs(x) >= 10 else f"{sign}£{abs(x):,.2f}"
    if "per km" in u:
        return f"{x:,.0f} per km²"
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


def feature_words(meta: Any) -> Mapping[str, tuple[str, str]]:
    """feature id -> (label, unit) from a feature table's metadata frame (columns
    ``feature``, ``label``, ``unit``); empty when there is none."""
    if meta is None or "feature" not in getattr(meta, "columns", ()):
        return {}
    return {str(r["feature"]): (str(r.get("label") or r["feature"]), str(r.get("unit") or ""))
            for r in meta.to_dict(orient="records")}
