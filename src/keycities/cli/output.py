"""Print results as a Rich table, JSON or CSV.

Two rules hold for everything printed here:

* ``--format json`` is one strict JSON document (:func:`keycities._util.plain.strict_json`);
* text that comes from a user or a file (names, cells, notes, file names in
  messages) is shown as text, never read as Rich markup, and loses any control
  characters or terminal escape sequences first (:func:`safe_text`, :func:`text`).

pandas is imported inside the functions that need it, so that ``keycities --help``
starts without it.
"""

from __future__ import annotations

import math
import re
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from keycities._util.plain import strict_json

if TYPE_CHECKING:
    import pandas as pd


class Format(StrEnum):
    """Output formats every result-printing command accepts."""

    table = "table"
    json = "json"
    csv = "csv"


_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"           # CSI sequences: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences: window titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"    # DCS, SOS, PM, APC strings
    r"|\x1b[ -~]?"                       # any other escape (and a lone ESC)
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"    # C0 and C1 controls but tab and newline
)


def safe_text(value: Any) -> str:
    """``value`` as a string a terminal shows literally: every control character and
    terminal escape sequence removed (tab and newline kept)."""
    return _CONTROL.sub("", str(value))


def text(value: Any, style: str = "") -> Text:
    """User text as a Rich :class:`~rich.text.Text`: shown as written (``[red]`` stays
    ``[red]``), without control characters or escape sequences."""
    return Text(safe_text(value), style=style)


def markup_safe(value: Any) -> str:
    """User text to put inside a Rich markup string: cleaned, then escaped."""
    return escape(safe_text(value))


def emit_json(body: Any) -> None:
    """Write ``body`` to stdout as one strict JSON document (no NaN, no Infinity)."""
    sys.stdout.write(strict_json(body) + "\n")


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
    from keycities.present.labels import column  # deferred: it loads pandas

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
        Shown above and below a table, as text (never markup).
    console
        Where a table goes (default stdout).
    payload
        What JSON output holds; default ``{"data": rows, "count": n}``.
    units
        Column -> unit hint for number formatting ("share", "year").
    """
    if fmt is Format.json:
        emit_json(payload if payload is not None else {"data": df, "count": len(df)})
        return
    if fmt is Format.csv:
        # Machine output: column ids as in JSON, but no cell a spreadsheet would run.
        from keycities.present.tables import flatten
        from keycities.present.tables import safe_text as neutralised

        sys.stdout.write(neutralised(flatten(df)).to_csv(index=False))
        return
    import pandas as pd  # deferred: keeps `keycities --help` quick (only tables need it)

    from keycities.present.labels import label

    console = console or Console()
    table = Table(title=text(title) if title else None, title_justify="left",
                  show_lines=False)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and df[col].dtype != bool
        # Headings already in words stay as the command wrote them; ids become words.
        head = label(col) if "_" in str(col) else str(col)
        table.add_column(text(head), justify="right" if numeric else "left",
                         overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*[text(format_number(v, (units or {}).get(c, _unit_of(str(c)))))
                        for c, v in zip(df.columns, row, strict=True)])
    console.print(table)
    print_notes(notes or [], console)


def print_notes(notes: list[str], console: Console) -> None:
    """Notes under a table, one bullet each, dimmed (as text, never markup)."""
    for note in notes:
        console.print(text(f"• {note}", style="dim"), highlight=False)
