"""Readable output of analysis results (one payload for table, JSON and CSV)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console

from keycities._impl.output import Format, format_number, print_frame
from keycities.analysis.headline import Headline

SHORT = {"Great Britain": "GB", "United Kingdom": "UK", "UK less Extra-Regio": "UK*"}


def headline_payload(h: Headline) -> dict[str, Any]:
    """Everything about a headline result, as plain data."""
    return {
        "network": h.network_id, "name": h.network_name, "at": h.at,
        "member_vintage": h.member_vintage, "members": h.members,
        "figures": [vars(f) for f in h.figures], "member_values": h.member_values,
        "releases": h.releases, "notes": h.notes,
    }


def print_headline(h: Headline, fmt: Format) -> None:
    """Print a headline result.

    Parameters
    ----------
    h
        The result.
    fmt
        table (figures, then notes: members, mapping, releases), json (the
        whole payload of :func:`headline_payload`) or csv (one row per figure).
    """
    if fmt is not Format.table:
        print_frame(h.to_frame(), fmt, payload=headline_payload(h))
        return
    console = Console()
    rows = []
    for f in h.figures:
        shares = "; ".join(f"{format_number(v, 'share')} of {SHORT.get(k, k)}"
                           for k, v in f.shares.items())
        rows.append({
            "figure": f.label, "value": _value(f.value, f.unit), "period": f.period_label,
            "share": shares if f.value is not None else "",
            "members": f"{f.members} ({f.members_estimated} est.)" if f.members_estimated
            else str(f.members),
            "source": f.release_id or "",
        })
    title = (f"{h.network_name} on {h.at} ({len(h.members)} members, "
             f"{h.member_vintage} boundaries)")
    notes = list(h.notes)
    if any("UK less Extra-Regio" in f.shares for f in h.figures):
        notes.append("UK* = UK less Extra-Regio (offshore activity not assigned to a region).")
    for f in h.figures:
        if f.unavailable:
            notes.append(f"{f.label}: unavailable — {f.unavailable}")
        notes.extend(f"{f.label}: {n}" for n in f.notes)
    for r in h.releases.itertuples():
        notes.append(f"{r.id}: {r.publisher}, {r.title}, published {r.published:%d %b %Y}. "
                     f"{r.url}")
    print_frame(pd.DataFrame(rows), Format.table, title=title, notes=notes, console=console)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "unavailable"
    if unit == "£ million":
        return f"£{value / 1000:,.1f}bn"
    return f"{value:,.0f}"
