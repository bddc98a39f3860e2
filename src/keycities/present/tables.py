"""Tables as downloadable files: CSV, XLSX and Parquet.

Cells that hold lists or dicts (reasons, release ids) are written as text
(lists joined with "; ", dicts as JSON) so every format holds the same values
and spreadsheets open them without surprises.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from keycities.errors import KeycitiesError

MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "parquet": "application/vnd.apache.parquet"}
"""Media type of each download format."""


def _flat(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return "; ".join(map(str, x))
    if isinstance(x, dict):
        return json.dumps(x, default=str)
    return x


def flatten(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with list/dict cells as text, column names as strings, no index."""
    out = df.reset_index(drop=True).copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_flat)
            # Parquet needs one type per column: text if mixed.
            kinds = {type(v) for v in out[c].dropna()}
            if len(kinds) > 1:
                out[c] = out[c].map(lambda v: v if v is None or pd.isna(v) else str(v))
    return out


def table_bytes(df: pd.DataFrame, fmt: str, *, sheet: str = "data") -> bytes:
    """``df`` as the bytes of a ``csv``, ``xlsx`` or ``parquet`` file.

    Raises
    ------
    KeycitiesError
        For another format.
    """
    flat = flatten(df)
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(flat.to_csv(index=False).encode("utf-8"))
    elif fmt == "xlsx":
        with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
            flat.to_excel(xl, sheet_name=sheet[:31] or "data", index=False)
    elif fmt == "parquet":
        flat.to_parquet(buf, index=False)
    else:
        raise KeycitiesError(f"Unknown download format {fmt!r}: use one of {', '.join(MEDIA)}.")
    return buf.getvalue()
