"""Print results as a Rich table, JSON or CSV."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from keycities._util.plain import jsonable
from keycities.present.labels import column, label
from keycities.present.tables import flatten, safe_text


class Format(StrEnum):
    """Output formats every result-printing command accepts."""

    table = "table"
    json = "json"
    csv = "csv"


def format_number(value: Any, unit: str = "") -> str:
    """Readable number: thousands separators, shares as percentages."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars -> Python numbers
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int | float):
        if unit == "share":
            return f"{value:.2%}"
        if unit == "year" and float(value).is_integer():
            return str(int(value))
        if float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3f}"
    return str(value)


YEAR_WORDS = ("year", "vintage", "period", "start", "end")


def _unit_of(col: object) -> str:
    """'year' for columns that hold years (printed without a thousands separator),
    'share' for fractions shown as percentages (from :mod:`keycities.present.labels`)."""
    kind = column(col).kind
    if kind in ("year", "share", "signed_share"):
        return "year" if kind == "year" else "share"
    return "year" if any(w in str(col).lower() for w in YEAR_WORDS) else ""


def print_frame(df: pd.DataFrame, fmt: Format, *, title: str = "",
                notes: list[str] | None = None, console: Console | None = None,
                payload: dict[str, Any] | None = None,
                units: dict[str, str] | None = None) -> None:
    """Print a result in the chosen format.

    Parameters
    ----------
    df
        The rows (table and CSV output).
    fmt
        table, json or csv.
    title, notes
        Shown above and below a table.
    console
        Where a table goes (default stdout).
    payload
        What JSON output holds; default ``{"data": rows, "count": n}``.
    units
        Column -> unit hint for number formatting ("share", "year").
    """
    if fmt is Format.json:
        body = payload if payload is not None else {"data": jsonable(df), "count": len(df)}
        sys.stdout.write(json.dumps(jsonable(body), indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is Format.csv:
        # Machine output: column ids as in JSON, but no cell a spreadsheet would run.
        sys.stdout.write(safe_text(flatten(df)).to_csv(index=False))
        return
    console = console or Console()
    table = Table(title=title or None, title_justify="left", show_lines=False)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and df[col].dtype != bool
        # Headings already in words stay as the command wrote them; ids become words.
        head = label(col) if "_" in str(col) else str(col)
        table.add_column(head, justify="right" if numeric else "left",
                         overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*[format_number(v, (units or {}).get(c, _unit_of(c)))
                        for c, v in zip(df.columns, row, strict=True)])
    console.print(table)
    print_notes(notes or [], console)


def print_notes(notes: list[str], console: Console) -> None:
    """Notes under a table, one bullet each, dimmed."""
    for note in notes:
        console.print(f"[dim]• {note}[/dim]", highlight=False)
