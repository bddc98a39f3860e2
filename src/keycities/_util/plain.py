"""Plain JSON-ready values from pandas and NumPy ones (one helper for every module),
and the one strict JSON encoder of machine output (RFC 8259: no NaN, no Infinity)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

NON_FINITE_REASON = ("not a finite number (infinite or undefined, e.g. a ratio over an exact "
                     "pre-period fit); written as null")
"""Why a value is null in strict JSON where the computation gave ±Infinity or NaN."""


def jsonable(value: Any) -> Any:
    """Plain JSON types from pandas/NumPy values: NaN, ±Infinity, NA and NaT become
    null, dates ISO strings, DataFrames lists of records; containers recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    # pandas is looked up, not imported: a value cannot be a pandas object unless
    # pandas is loaded, and importing it here would slow every command's start-up.
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return [jsonable(r) for r in value.astype(object).to_dict(orient="records")]
        if value is pd.NA or value is pd.NaT:
            return None
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _nulled(value: Any, path: str, found: list[dict[str, str]]) -> Any:
    """``value`` with every non-finite float replaced by None, its path noted in ``found``."""
    if isinstance(value, dict):
        return {k: _nulled(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulled(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        found.append({"path": path, "was": repr(value), "reason": NON_FINITE_REASON})
        return None
    return value


def strict_json(value: Any, *, indent: int | None = 2) -> str:
    """One strict JSON document (RFC 8259): every value made plain by :func:`jsonable`,
    no ``NaN`` or ``Infinity`` (``allow_nan=False``).

    A non-finite number that reaches the encoder becomes null, and a top-level
    ``null_values`` list (when the document is an object) gives each one's path,
    what it was and why it is null.

    Parameters
    ----------
    value
        The document: dicts, lists, numbers, strings, pandas/NumPy values.
    indent
        Indentation of the text (None: one line).

    Returns
    -------
    str
        The JSON text, without a trailing newline.
    """
    found: list[dict[str, str]] = []
    # non-finite floats are noted before jsonable turns them into a silent null
    body = jsonable(_nulled(_plain_containers(value), "$", found))
    if found and isinstance(body, dict):
        body["null_values"] = found
    return json.dumps(body, indent=indent, ensure_ascii=False, allow_nan=False)


def _plain_containers(value: Any) -> Any:
    """Tuples as lists and NumPy floats as floats, so that :func:`_nulled` sees them."""
    if isinstance(value, dict):
        return {str(k): _plain_containers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_containers(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value
