"""Plain JSON-ready values from pandas and NumPy ones (one helper for every module)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON types from pandas/NumPy values: NaN, NA and NaT become null,
    dates ISO strings, DataFrames lists of records; containers recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.astype(object).to_dict(orient="records")]
    if value is pd.NA or value is pd.NaT or value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
